package deploy

import (
	"time"

	"github.com/switchyard/switchyard/pkg/calendar"
	"github.com/switchyard/switchyard/pkg/schedule"
)

// CauseWindow: the service's window shut while the release had traffic and its window_policy is
// rollback (a freeze or closure set mid-deployment, or a restart after the window closed).
const CauseWindow Cause = "window"

// FreezeRecord is a stored freeze: no step of the services it covers starts inside it.
type FreezeRecord struct {
	ID string `json:"id"`
	calendar.Freeze
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// ClosureRecord is a stored exchange closure the rules do not know (a day of mourning, a storm).
type ClosureRecord struct {
	ID string `json:"id"`
	calendar.Closure
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// ScheduleRecord is a stored recurring deployment schedule and what it last did. Its id is its name.
type ScheduleRecord struct {
	schedule.Recurring
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	// LastFire is the last activation handled: the next is the first after it, so a restart neither
	// repeats nor (within the horizon) loses one.
	LastFire *time.Time `json:"last_fire,omitempty"`
	// RetryAt is a deferred activation's retry (policy defer, window shut); Queued is a tag fixed by
	// policy queue, deployed once the service is idle and not before RetryAt.
	RetryAt *time.Time `json:"retry_at,omitempty"`
	Queued  string     `json:"queued,omitempty"`
	// Waiting: a deferred activation waits for the active deployment to end.
	Waiting    bool   `json:"waiting,omitempty"`
	LastAction string `json:"last_action,omitempty"`
	LastReason string `json:"last_reason,omitempty"`
	LastID     string `json:"last_deployment,omitempty"`
	// NextFire is computed when listed, never stored.
	NextFire *time.Time `json:"next_fire,omitempty"`
	Version  int64      `json:"version"`
}

// DryRun is a deployment's timeline as it would run: nothing is created or changed.
type DryRun struct {
	Service  string           `json:"service"`
	ImageTag string           `json:"image_tag"`
	Zone     string           `json:"zone"`
	Window   string           `json:"window"`
	Steps    []Step           `json:"steps"`
	Timeline []schedule.Entry `json:"timeline"`
	Refused  bool             `json:"refused"`
	Text     string           `json:"text"` // schedule.Render of Timeline in Zone
}
