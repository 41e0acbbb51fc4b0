// Package notify delivers a deployment's audit events to people and systems: Amazon SNS, signed
// webhooks and Slack-compatible messages, routed per service and action. The audit trail is the
// outbox: a Dispatcher reads stored events after a persisted cursor, so a daemon restart loses
// nothing and repeats at most the deliveries that were in flight (at-least-once). It only reads the
// store and runs on goroutines of its own: the controller never waits for it, so a slow or dead
// endpoint cannot slow a rollback down.
//
// Messages about a paused or held deployment carry signed, expiring, single-use links (links.go) that
// act through the controller with the link owner as the audit actor (LinkHandler).
//
// The package imports no AWS SDK: SNS is reached through the Publisher port (awsclient.SNS).
package notify

import (
	"context"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// Sink delivers one message. Send must be safe to call again with the same message (the dispatcher
// retries it and, after a crash, may repeat it once): Message.ID is the receiver's idempotency key.
type Sink interface {
	Send(ctx context.Context, m Message) error
}

// Message is what every sink renders: one audit event, the deployment it belongs to and, for a paused
// or held deployment, the signed links that act on it.
type Message struct {
	// ID identifies the event across retries and restarts (the event's id, or its sequence number).
	ID         string        `json:"id"`
	Event      deploy.Event  `json:"event"`
	Deployment DeploymentRef `json:"deployment"`
	// Links maps an action (resume, promote, abort) to its signed URL; empty unless the deployment is
	// paused or held and links are configured.
	Links map[string]string `json:"links,omitempty"`
	// URL points at the deployment in the dashboard, when a base URL is configured.
	URL  string `json:"url,omitempty"`
	Text string `json:"text"` // one line for humans
}

// DeploymentRef is the part of a deployment a message shows.
type DeploymentRef struct {
	ID       string       `json:"id"`
	Service  string       `json:"service"`
	ImageTag string       `json:"image_tag,omitempty"`
	State    deploy.State `json:"state,omitempty"`
	From     deploy.Slot  `json:"from,omitempty"`
	To       deploy.Slot  `json:"to,omitempty"`
	Weights  string       `json:"weights,omitempty"`
}

// EventSource is the part of deploy.Store the dispatcher reads.
type EventSource interface {
	ListDeployments(ctx context.Context, f deploy.ListFilter) ([]*deploy.Deployment, error)
	Events(ctx context.Context, deploymentID string, afterSeq int64) ([]deploy.Event, error)
}

// Object kinds this package stores beside deployments (see deploy.ObjectStore).
const (
	// KindCursor: one per sink and deployment, the last event handled ("<sink>/<deployment>"), and one
	// per sink marking when it was first started ("<sink>").
	KindCursor = deploy.ObjectNotifyCursor
	// KindFailure: a delivery given up after its attempts ("<sink>/<message id>").
	KindFailure = deploy.ObjectNotifyFailure
	// KindLinkUse: a link's nonce, created on its first use: a second use conflicts and is refused.
	KindLinkUse = deploy.ObjectNotifyLinkUse
)

// Failure is a recorded, given-up delivery.
type Failure struct {
	Sink         string    `json:"sink"`
	MessageID    string    `json:"message_id"`
	DeploymentID string    `json:"deployment_id"`
	Service      string    `json:"service"`
	Action       string    `json:"action"`
	Seq          int64     `json:"seq"`
	Attempts     int       `json:"attempts"`
	LastError    string    `json:"last_error"`
	FirstAttempt time.Time `json:"first_attempt"`
	FailedAt     time.Time `json:"failed_at"`
}
