package storetest

import (
	"context"
	"errors"
	"sync"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// The write operations an AmbiguousStore can fail, by method name.
const (
	OpCreate = "CreateDeployment"
	OpUpdate = "UpdateDeployment"
	OpAppend = "AppendEvent"
)

// ErrInjected is the cause of every failure an AmbiguousStore injects.
var ErrInjected = errors.New("storetest: injected store failure")

// AmbiguousStore wraps a deploy.Store and fails chosen writes with KindUnavailable, either after the
// real write committed (the outcome a caller cannot tell from a failure: a lost reply, a commit whose
// acknowledgement timed out) or before it. Reads and other writes pass through. Safe for concurrent use.
type AmbiguousStore struct {
	deploy.Store
	mu       sync.Mutex
	after    map[string]int
	before   map[string]int
	injected map[string]int
}

// Ambiguous wraps s.
func Ambiguous(s deploy.Store) *AmbiguousStore {
	return &AmbiguousStore{Store: s, after: map[string]int{}, before: map[string]int{}, injected: map[string]int{}}
}

// FailAfterCommit makes the next n successful calls of op (OpCreate, OpUpdate, OpAppend) perform the
// real write and then return a KindUnavailable error, leaving the caller's d.Version or e.Seq as they
// were, as a caller that saw a failure would have them. A call the store refuses (a conflict, invalid
// input) returns the store's own error and does not count.
func (a *AmbiguousStore) FailAfterCommit(op string, n int) { a.set(a.after, op, n) }

// FailBeforeCommit makes the next n calls of op return a KindUnavailable error without writing. Planned
// failures before commit are used up before those after commit.
func (a *AmbiguousStore) FailBeforeCommit(op string, n int) { a.set(a.before, op, n) }

// Injected returns how many failures of op have been injected so far.
func (a *AmbiguousStore) Injected(op string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.injected[op]
}

func (a *AmbiguousStore) set(m map[string]int, op string, n int) {
	switch op {
	case OpCreate, OpUpdate, OpAppend:
	default:
		panic("storetest: AmbiguousStore cannot fail " + op)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	m[op] = n
}

// takeBefore consumes a planned failure before commit of op, if any.
func (a *AmbiguousStore) takeBefore(op string) bool { return a.take(a.before, op) }

// takeAfter consumes a planned failure after commit of op, if any. It is called only once the real
// write succeeded: a write the store refused on its own leaves the plan for the next one.
func (a *AmbiguousStore) takeAfter(op string) bool { return a.take(a.after, op) }

func (a *AmbiguousStore) take(m map[string]int, op string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if m[op] <= 0 {
		return false
	}
	m[op]--
	a.injected[op]++
	return true
}

func injected(op, when string) error {
	return deploy.Wrap("storetest."+op, deploy.KindUnavailable, ErrInjected, "failure injected "+when)
}

// write runs a store write under the failure plan; restore puts the caller's view back after a write
// that committed but is reported as failed.
func (a *AmbiguousStore) write(op string, do func() error, restore func()) error {
	if a.takeBefore(op) {
		return injected(op, "before commit")
	}
	if err := do(); err != nil || !a.takeAfter(op) {
		return err
	}
	restore()
	return injected(op, "after commit")
}

func (a *AmbiguousStore) CreateDeployment(ctx context.Context, d *deploy.Deployment) error {
	v := versionOf(d)
	return a.write(OpCreate, func() error { return a.Store.CreateDeployment(ctx, d) }, func() { d.Version = v })
}

func (a *AmbiguousStore) UpdateDeployment(ctx context.Context, d *deploy.Deployment) error {
	v := versionOf(d)
	return a.write(OpUpdate, func() error { return a.Store.UpdateDeployment(ctx, d) }, func() { d.Version = v })
}

func (a *AmbiguousStore) AppendEvent(ctx context.Context, e *deploy.Event) error {
	var seq int64
	if e != nil {
		seq = e.Seq
	}
	return a.write(OpAppend, func() error { return a.Store.AppendEvent(ctx, e) }, func() { e.Seq = seq })
}

func versionOf(d *deploy.Deployment) int64 {
	if d == nil {
		return 0
	}
	return d.Version
}
