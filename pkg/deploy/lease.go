package deploy

import (
	"context"
	"errors"
	"time"
)

// Leases: several daemons share one DynamoDB store, and each active deployment is run by exactly one of
// them, its lease owner. The owner renews the lease; any daemon may take over a lease that it has seen
// unchanged for the lease's duration (timed on its own clock, so no two clocks need agree). Every
// write for the deployment carries the owner's epoch as a condition (a Fence), so a daemon that lost
// its lease, even one that does not know it yet, cannot change the record, its journal or its events.

// ErrLeaseLost marks a write refused because the writer no longer holds the deployment's lease (another
// daemon took it over, or it was released). The writer must stop driving the deployment at once.
var ErrLeaseLost = errors.New("lease lost: another daemon owns this deployment")

// Lease is one active deployment's ownership record.
type Lease struct {
	DeploymentID string `json:"deployment_id"`
	Service      string `json:"service"`
	Owner        string `json:"owner"`
	// Epoch grows by one on every change of owner; writes are fenced on it.
	Epoch int64 `json:"epoch"`
	// Token changes on every renewal: an observer times a lease from the moment it first saw its token.
	Token string `json:"token"`
	// Duration is the owner's lease time: a lease seen unchanged for this long may be taken over.
	Duration time.Duration `json:"duration"`
	// RenewedAt is the owner's wall clock at the last renewal (diagnostics only: no decision uses it).
	RenewedAt time.Time `json:"renewed_at"`
	// Released: the deployment finished; nobody takes it over and the item is deleted soon.
	Released bool `json:"released,omitempty"`
}

// Fence is what a fenced write is conditional on: the deployment's lease is held by Owner at Epoch.
type Fence struct {
	DeploymentID string
	Owner        string
	Epoch        int64
	// Check reports ErrLeaseLost once the owner's lease lapsed on its own clock (nil: always valid). A
	// fenced store calls it before every write, the controller before every AWS side effect, so that
	// a daemon woken from a pause past its lease sends nothing at all.
	Check func() error
}

// Valid runs f.Check.
func (f Fence) Valid() error {
	if f.Check == nil {
		return nil
	}
	return f.Check()
}

type fenceKey struct{}

// WithFence returns ctx carrying f: a store makes every write of f's deployment made with this context
// conditional on f (stores without leases ignore it).
func WithFence(ctx context.Context, f Fence) context.Context {
	return context.WithValue(ctx, fenceKey{}, f)
}

// FenceFrom returns the fence ctx carries for deployment id.
func FenceFrom(ctx context.Context, id string) (Fence, bool) {
	f, ok := ctx.Value(fenceKey{}).(Fence)
	return f, ok && f.DeploymentID == id
}

// LeaseStore keeps the leases (adapter: package dynamo). Leases are listed from their own items (one
// per active deployment), never from the deployments' history.
type LeaseStore interface {
	// ListLeases returns every lease and every pending operator command, in as few reads as the store
	// allows (one Query per MB on DynamoDB).
	ListLeases(ctx context.Context) ([]Lease, []Command, error)
	// Claim creates l (epoch 1) for an active deployment that has no lease (a record written before
	// leases existed); KindConflict when a lease exists.
	Claim(ctx context.Context, l Lease) (Lease, error)
	// Acquire takes over seen for owner, conditional on seen's epoch and token being unchanged; it
	// returns the new lease (epoch+1, new token). ErrLeaseLost (KindConflict) when it changed.
	Acquire(ctx context.Context, seen Lease, owner string, d time.Duration) (Lease, error)
	// Renew sets a new token, conditional on l's owner and epoch; ErrLeaseLost when they changed.
	Renew(ctx context.Context, l Lease) (Lease, error)
	// Release deletes l, conditional on its owner and epoch (a lease already gone is no error).
	Release(ctx context.Context, l Lease) error
}

// Command is an operator command stored as a deployment's desired state, so that any daemon's API can
// accept it and the deployment's owner applies it within a poll interval.
type Command struct {
	ID           string    `json:"id"`
	DeploymentID string    `json:"deployment_id"`
	Kind         string    `json:"kind"` // Abort, Pause, Resume, Promote
	Actor        string    `json:"actor"`
	Reason       string    `json:"reason,omitempty"`
	At           time.Time `json:"at"`
	// Done is set by the owner once applied; ErrKind/ErrMessage describe a refusal.
	Done       bool   `json:"done,omitempty"`
	ErrKind    Kind   `json:"err_kind,omitempty"`
	ErrMessage string `json:"err_message,omitempty"`
	AppliedBy  string `json:"applied_by,omitempty"`
}

// CommandStore keeps operator commands.
type CommandStore interface {
	// PutCommand stores a new command (pending).
	PutCommand(ctx context.Context, c Command) error
	// GetCommand reads a command with a strongly consistent read (KindNotFound when absent).
	GetCommand(ctx context.Context, deploymentID, id string) (Command, error)
	// CompleteCommand records c's outcome (Done and the error, if any); fenced like every owner write.
	CompleteCommand(ctx context.Context, c Command) error
	// DeleteCommand removes a command whose outcome was read.
	DeleteCommand(ctx context.Context, deploymentID, id string) error
}

// AnyFence returns the fence ctx carries, whatever its deployment (the controller's fenced AWS ports
// check it before every side effect).
func AnyFence(ctx context.Context) (Fence, bool) {
	f, ok := ctx.Value(fenceKey{}).(Fence)
	return f, ok
}

type newLeaseKey struct{}

// WithNewLease returns ctx carrying l: a leased store's CreateDeployment of l's deployment creates l in
// the same write, so a deployment never exists without its owner.
func WithNewLease(ctx context.Context, l Lease) context.Context {
	return context.WithValue(ctx, newLeaseKey{}, l)
}

// NewLeaseFrom returns the lease ctx carries for deployment id.
func NewLeaseFrom(ctx context.Context, id string) (Lease, bool) {
	l, ok := ctx.Value(newLeaseKey{}).(Lease)
	return l, ok && l.DeploymentID == id
}
