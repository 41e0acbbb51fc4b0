package deploy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/pkg/calendar"
	"github.com/switchyard/switchyard/pkg/schedule"
	"github.com/switchyard/switchyard/pkg/window"
)

// Invalid maps the calendar packages' *calendar.InvalidError (which cannot use this package's error
// type: they are imported by it) to KindInvalid, keeping its field first in the message ("steps[1].cron:
// ...") so callers can prefix their own location. prefix, when set, goes before the field.
func Invalid(op, prefix string, err error) error {
	var ie *calendar.InvalidError
	if errors.As(err, &ie) {
		field := ie.Field
		if prefix != "" && field != "" {
			field = prefix + "." + field
		} else if prefix != "" {
			field = prefix
		}
		if field == "" {
			return &Error{Op: op, Kind: KindInvalid, Message: ie.Message}
		}
		return &Error{Op: op, Kind: KindInvalid, Message: field + ": " + ie.Message}
	}
	if prefix != "" {
		return Errorf(op, KindInvalid, "%s: %v", prefix, err)
	}
	return Wrap(op, KindInvalid, err, "")
}

// CheckWindow validates a service's window and its outside policy.
func CheckWindow(op string, w *window.Spec, p schedule.OutsidePolicy) error {
	if w != nil {
		if err := w.Validate(); err != nil {
			return Invalid(op, "window", err)
		}
	}
	if err := schedule.CheckOutsidePolicy(p, "window_policy"); err != nil {
		return Invalid(op, "", err)
	}
	return nil
}

// StepTimeouts are the parts of a step's worst case besides its bake, for this service: the weight
// change's verification (step_timeout) and the wait for fresh guard readings after the bake
// (guard_stale_after: past it the stale policy applies). Finalizing is not counted: it moves no
// traffic, so it may run past a window's end.
func (s Service) StepTimeouts() schedule.Timeouts {
	stale := s.GuardStaleAfter.D()
	if stale == 0 {
		stale = DefaultGuardStaleAfter
	}
	return schedule.Timeouts{Step: s.StepTimeout.D(), Verify: stale}
}

// ScheduleSteps converts a plan to what the timeline needs.
func ScheduleSteps(steps []Step) []schedule.Step {
	out := make([]schedule.Step, len(steps))
	for i, st := range steps {
		out[i] = schedule.Step{Percent: st.Percent, Bake: st.Bake.D(), Pause: st.KindOf() != StepWeight, Timing: st.Timing}
	}
	return out
}

// ObjectKind names a calendar object: an operator-managed item stored beside deployments, a freeze, an exchange
// closure or a recurring deployment schedule.
type ObjectKind string

const (
	ObjectFreeze   ObjectKind = "freeze"
	ObjectClosure  ObjectKind = "closure"
	ObjectSchedule ObjectKind = "schedule"
	// Notification objects (package notify): sink cursors, given-up deliveries, used action links.
	ObjectNotifyCursor  ObjectKind = "notify_cursor"
	ObjectNotifyFailure ObjectKind = "notify_failure"
	ObjectNotifyLinkUse ObjectKind = "notify_link_use"
)

// Object is one stored calendar object: its kind, id (a freeze's or closure's generated id, a
// schedule's name), its JSON body and its version (the store rejects stale writes).
type Object struct {
	Kind    ObjectKind `json:"kind"`
	ID      string     `json:"id"`
	Body    []byte     `json:"body"`
	Version int64      `json:"version"`
}

// ObjectStore persists calendar objects. PutObject creates o when o.Version is 0 (KindConflict when the
// id exists) and otherwise replaces it only if o.Version is the stored version (KindConflict when not);
// on success o.Version is the new stored version. DeleteObject is KindNotFound when absent.
type ObjectStore interface {
	PutObject(ctx context.Context, o *Object) error
	DeleteObject(ctx context.Context, kind ObjectKind, id string) error
	ListObjects(ctx context.Context, kind ObjectKind) ([]Object, error) // by id
}

// CheckObject validates what a store needs to file o.
func CheckObject(op string, o *Object) error {
	switch {
	case o == nil:
		return Errorf(op, KindInvalid, "object is nil")
	case o.Kind != ObjectFreeze && o.Kind != ObjectClosure && o.Kind != ObjectSchedule &&
		o.Kind != ObjectNotifyCursor && o.Kind != ObjectNotifyFailure && o.Kind != ObjectNotifyLinkUse:
		return Errorf(op, KindInvalid, "unknown object kind %q", o.Kind)
	case o.ID == "" || len(o.ID) > 200:
		return Errorf(op, KindInvalid, "%s id must be 1-200 characters", o.Kind)
	case len(o.Body) == 0:
		return Errorf(op, KindInvalid, "%s %s has no body", o.Kind, o.ID)
	case o.Version < 0:
		return Errorf(op, KindInvalid, "%s %s: negative version", o.Kind, o.ID)
	}
	return nil
}

// ObjectAuditID is the audit trail key of a calendar object's events ("freeze/<id>"), so that
// Store.Events reads its history like a deployment's.
func ObjectAuditID(kind ObjectKind, id string) string { return fmt.Sprintf("%s/%s", kind, id) }

// ImageTag is one tag of an image repository and when it was pushed.
type ImageTag struct {
	Tag      string    `json:"tag"`
	PushedAt time.Time `json:"pushed_at"`
}

// TagLister lists a repository's tags (ECR DescribeImages), for recurring schedules that deploy the
// newest matching tag. checked is false (nil error) for a repository the lister does not know.
type TagLister interface {
	ListTags(ctx context.Context, repository string) (tags []ImageTag, checked bool, err error)
}
