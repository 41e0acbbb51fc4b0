package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// What follows is the part of the Store contract that does not depend on the database: input checks,
// list limits, the stored form of a deployment and the errors every store reports the same way. Each
// Store implementation calls these so that all stores accept, store and reject exactly the same things.

// List limits of ListDeployments.
const (
	DefaultListLimit = 100  // ListFilter.Limit 0
	MaxListLimit     = 1000 // larger limits are capped, not refused
)

// ListLimit returns how many deployments a list with f may return: f.Limit, DefaultListLimit for 0,
// capped at MaxListLimit. A negative limit is KindInvalid.
func ListLimit(op string, f ListFilter) (int, error) {
	switch {
	case f.Limit < 0:
		return 0, Errorf(op, KindInvalid, "limit must not be negative, got %d", f.Limit)
	case f.Limit == 0:
		return DefaultListLimit, nil
	case f.Limit > MaxListLimit:
		return MaxListLimit, nil
	}
	return f.Limit, nil
}

// ValidateStored checks what a store needs to file d: an id, a service (the lock's key) and a state.
func ValidateStored(op string, d *Deployment) error {
	switch {
	case d == nil:
		return Errorf(op, KindInvalid, "deployment is nil")
	case d.ID == "":
		return Errorf(op, KindInvalid, "deployment id is empty")
	case d.Service == "":
		return Errorf(op, KindInvalid, "deployment %s has no service", d.ID)
	case d.State == "":
		return Errorf(op, KindInvalid, "deployment %s has no state", d.ID)
	}
	return nil
}

// ValidateEvent checks what a store needs to file e: the deployment it belongs to and an action.
func ValidateEvent(op string, e *Event) error {
	switch {
	case e == nil:
		return Errorf(op, KindInvalid, "event is nil")
	case e.DeploymentID == "":
		return Errorf(op, KindInvalid, "event %q has no deployment id", e.Action)
	case e.Action == "":
		return Errorf(op, KindInvalid, "event of deployment %s has no action", e.DeploymentID)
	}
	return nil
}

// sortableTime is RFC 3339 with a fixed nine-digit fraction: unlike RFC3339Nano it sorts correctly as
// text, and it keeps nanoseconds so times round-trip exactly.
const sortableTime = "2006-01-02T15:04:05.000000000Z07:00"

// FormatSortableTime formats t in UTC so that the strings of any two times sort like the times.
func FormatSortableTime(t time.Time) string { return t.UTC().Format(sortableTime) }

// ParseSortableTime parses a time written by FormatSortableTime (or any RFC 3339 time), in UTC.
func ParseSortableTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// EncodeStored marshals a copy of d with its times in UTC and the given version, so that what is read
// back equals what was written regardless of the writer's time zone. Guard and Live are dropped: they hold live
// alarm states, filled on read by the controller, and is never stored.
func EncodeStored(op string, d *Deployment, version int64) ([]byte, error) {
	c := *d
	c.Version = version
	c.Guard, c.Live = nil, nil
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	c.StepStartedAt, c.ShiftedAt, c.RetireAt, c.FinishedAt = utcPtr(c.StepStartedAt), utcPtr(c.ShiftedAt), utcPtr(c.RetireAt), utcPtr(c.FinishedAt)
	b, err := json.Marshal(&c)
	if err != nil {
		return nil, Wrap(op, KindInternal, err, "encode deployment "+d.ID)
	}
	return b, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// DecodeStored unmarshals what EncodeStored wrote. The caller sets Version from its own version
// column or attribute, which is authoritative.
func DecodeStored(op string, data []byte) (*Deployment, error) {
	var d Deployment
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, Wrap(op, KindInternal, err, "decode stored deployment")
	}
	return &d, nil
}

// StoreFailure wraps a failure of the store's backend: a deadline is KindTimeout, anything else
// KindUnavailable (retryable); the controller decides whether to retry.
func StoreFailure(op string, err error, msg string) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return Wrap(op, KindTimeout, err, msg)
	}
	return Wrap(op, KindUnavailable, err, msg)
}

// DeploymentNotFoundError is the KindNotFound error of a store that has no deployment id.
func DeploymentNotFoundError(op, id string) error {
	return Errorf(op, KindNotFound, "deployment %s not found", id)
}

// DeploymentExistsError is the KindConflict error of creating a deployment whose id is taken.
func DeploymentExistsError(op, id string) error {
	return Errorf(op, KindConflict, "deployment %s already exists", id)
}

// StaleVersionError is the KindConflict error of an update whose version is not the stored one.
func StaleVersionError(op, id string, version, stored int64) error {
	return Errorf(op, KindConflict,
		"deployment %s was changed concurrently: version %d is stale, stored version is %d", id, version, stored)
}

// ServiceLockedError is the KindConflict error of making a deployment active while its service has
// another active deployment, active (which ActiveIDOf returns).
func ServiceLockedError(op, service, active string) error {
	return &Error{Op: op, Kind: KindConflict, ActiveID: active,
		Message: "service " + service + " already has an active deployment " + active}
}
