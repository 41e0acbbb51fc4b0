package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
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

// ValidateStored checks what a store needs to file d: an id, a service (the lock's key), a state, a
// record that CheckReadable accepts (so that nothing is stored that could not be read back) and no
// Quarantine (a stub must never overwrite the record it stands for).
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
	case d.Quarantine != "":
		return Errorf(op, KindInvalid, "deployment %s is quarantined (%s); its stored record cannot be overwritten", d.ID, d.Quarantine)
	}
	if err := CheckReadable(d); err != nil {
		return Wrap(op, KindInvalid, err, "refusing to store deployment "+d.ID)
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
// back equals what was written regardless of the writer's time zone. Guard and Live are dropped: they
// hold live states, filled on read by the controller, and are never stored. The result is decoded and
// checked again before it is returned: a form the daemon could not read back is KindInvalid.
func EncodeStored(op string, d *Deployment, version int64) ([]byte, error) {
	b, err := marshalStored(d, version)
	if err != nil {
		return nil, Wrap(op, KindInvalid, err, "encode deployment "+d.ID)
	}
	back, err := DecodeStored(op, b)
	if err == nil {
		err = CheckReadable(back)
	}
	if err != nil {
		return nil, Wrap(op, KindInvalid, err, "deployment "+d.ID+" would not read back")
	}
	return b, nil
}

func marshalStored(d *Deployment, version int64) ([]byte, error) {
	c := *d
	c.Version = version
	c.Guard, c.Live = nil, nil
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	c.StepStartedAt, c.ShiftedAt, c.RetireAt, c.FinishedAt = utcPtr(c.StepStartedAt), utcPtr(c.ShiftedAt), utcPtr(c.RetireAt), utcPtr(c.FinishedAt)
	c.StartAt, c.StepReadyAt = utcPtr(c.StartAt), utcPtr(c.StepReadyAt)
	return json.Marshal(&c)
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

// CheckReadable checks that the daemon can act on d: its states are known, its step index is in range,
// its weights are ALB weights, its steps' percents are in (0, 100] and their bakes in [0, MaxBake], its
// slots are blue and green, and no configured duration is negative (what an overflowing Duration
// becomes). Stores refuse to write a record that fails it and quarantine one that fails it on read.
func CheckReadable(d *Deployment) error {
	const op = "deploy.CheckReadable"
	bad := func(format string, args ...any) error { return Errorf(op, KindInvalid, format, args...) }
	if !knownState(d.State) {
		return bad("unknown state %q", d.State)
	}
	if d.PausedFrom != "" && !knownState(d.PausedFrom) {
		return bad("unknown paused_from state %q", d.PausedFrom)
	}
	if d.Step < -1 || d.Step >= len(d.Steps) {
		return bad("step index %d out of range (%d steps)", d.Step, len(d.Steps))
	}
	if !d.From.Valid() || !d.To.Valid() || d.From == d.To {
		return bad("slots from %q to %q: want blue and green, one each", d.From, d.To)
	}
	if err := checkWeights("weights", d.Weights); err != nil {
		return err
	}
	if d.Intended != nil {
		if err := checkWeights("intended", *d.Intended); err != nil {
			return err
		}
	}
	if err := checkSteps("steps", d.Steps); err != nil {
		return err
	}
	if err := checkStrategy("strategy", d.Strategy); err != nil {
		return err
	}
	return checkSpec(d.Spec)
}

func knownState(s State) bool {
	switch s {
	case StatePending, StatePreparing, StateShifting, StatePaused, StateFinalizing,
		StateSucceeded, StateRollingBack, StateRolledBack, StateFailed:
		return true
	}
	return false
}

func checkWeights(field string, w Weights) error {
	if w.Blue < 0 || w.Blue > MaxWeight || w.Green < 0 || w.Green > MaxWeight {
		return Errorf("deploy.CheckReadable", KindInvalid, "%s %d/%d out of range 0-%d", field, w.Blue, w.Green, MaxWeight)
	}
	return nil
}

func checkSteps(field string, steps []Step) error {
	for i, st := range steps {
		switch st.KindOf() {
		case StepWeight:
			// !(p > 0) also catches NaN.
			if !(st.Percent > 0) || st.Percent > 100 {
				return Errorf("deploy.CheckReadable", KindInvalid, "%s[%d]: percent %v outside (0, 100]", field, i, st.Percent)
			}
		case StepPause, StepAnalysis:
			if st.Percent != 0 {
				return Errorf("deploy.CheckReadable", KindInvalid, "%s[%d]: a %s step with percent %v", field, i, st.KindOf(), st.Percent)
			}
		default:
			return Errorf("deploy.CheckReadable", KindInvalid, "%s[%d]: unknown step kind %q", field, i, st.Kind)
		}
		if err := checkBake(fmt.Sprintf("%s[%d].bake", field, i), st.Bake); err != nil {
			return err
		}
		// A timing the daemon cannot compute (an unknown zone after a tzdata change) is not acted on.
		if err := st.Timing.Validate(fmt.Sprintf("%s[%d]", field, i)); err != nil {
			return Invalid("deploy.CheckReadable", "", err)
		}
	}
	return nil
}

func checkBake(field string, b Duration) error {
	if b < 0 || b.D() > MaxBake {
		return Errorf("deploy.CheckReadable", KindInvalid, "%s %s outside 0-%s", field, b, MaxBake)
	}
	return nil
}

func checkStrategy(field string, s Strategy) error {
	if err := checkBake(field+".bake", s.Bake); err != nil {
		return err
	}
	return checkSteps(field+".steps", s.Steps)
}

func checkSpec(s Service) error {
	if err := CheckWindow("deploy.CheckReadable", s.Window, s.WindowPolicy); err != nil {
		return Errorf("deploy.CheckReadable", KindInvalid, "spec.%s", MessageOf(err))
	}
	for slot := range s.ECSServices {
		if !slot.Valid() {
			return Errorf("deploy.CheckReadable", KindInvalid, "spec.ecs_services: unknown slot %q", slot)
		}
	}
	for slot := range s.TargetGroups {
		if !slot.Valid() {
			return Errorf("deploy.CheckReadable", KindInvalid, "spec.target_groups: unknown slot %q", slot)
		}
	}
	for slot := range s.SlotAlarms {
		if !slot.Valid() {
			return Errorf("deploy.CheckReadable", KindInvalid, "spec.slot_alarms: unknown slot %q", slot)
		}
	}
	for name, v := range map[string]Duration{
		"deregistration_delay": s.DeregDelay, "ready_timeout": s.ReadyTimeout, "step_timeout": s.StepTimeout,
		"unhealthy_after": s.UnhealthyAfter, "guard_stale_after": s.GuardStaleAfter,
	} {
		if v < 0 {
			return Errorf("deploy.CheckReadable", KindInvalid, "spec.%s %s is negative", name, v)
		}
	}
	if s.Analysis != nil {
		if err := s.Analysis.Check(); err != nil {
			return Errorf("deploy.CheckReadable", KindInvalid, "spec.analysis: %s", MessageOf(err))
		}
	}
	return checkStrategy("spec.strategy", s.Strategy)
}

// ReadStored turns a stored record into a Deployment. id, service, state and version are what the
// store keeps beside the JSON (its columns or attributes; version is authoritative). A record that
// cannot be decoded, or that CheckReadable refuses, is not an error: it is returned as Quarantined, so
// that one bad record never stops a list, a recovery or the guarding of other services.
func ReadStored(data []byte, id, service string, state State, version int64) *Deployment {
	var d *Deployment
	if err := json.Unmarshal(data, &d); err != nil || d == nil {
		why := "null"
		if err != nil {
			why = err.Error()
		}
		return Quarantined(id, service, state, version, "stored record cannot be decoded: "+why)
	}
	if d.ID != id || d.Service != service {
		return Quarantined(id, service, state, version,
			fmt.Sprintf("stored record names deployment %q of service %q", d.ID, d.Service))
	}
	if err := CheckReadable(d); err != nil {
		return Quarantined(id, service, state, version, "stored record is invalid: "+MessageOf(err))
	}
	d.Version = version
	return d
}

// Quarantined is the stub a store returns for a record it cannot read back: what the store knows
// without the record (id, service, state, version) and why.
func Quarantined(id, service string, state State, version int64, why string) *Deployment {
	return &Deployment{ID: id, Service: service, State: state, Step: -1, Version: version, Quarantine: why}
}

// SameStored reports whether stored, a record as EncodeStored wrote it (at any version), holds exactly
// what d would store apart from the version: then a write of d that the store seems to refuse is the
// retry of a write that already committed. UpdatedAt is compared too, so only a retry of the identical
// record matches, never a different write that happens to land on the same state.
func SameStored(stored []byte, d *Deployment) bool {
	mine, err := marshalStored(d, 0)
	if err != nil {
		return false
	}
	var a, b map[string]any
	if json.Unmarshal(stored, &a) != nil || json.Unmarshal(mine, &b) != nil {
		return false
	}
	delete(a, "version")
	delete(b, "version")
	return reflect.DeepEqual(a, b)
}

// SameEvent checks that the stored event with e.ID, of deployment storedDeployment, can be the one e
// retries: an id reused for another deployment's event is KindConflict.
func SameEvent(op string, e *Event, storedDeployment string) error {
	if storedDeployment != e.DeploymentID {
		return Errorf(op, KindConflict, "event id %s is already used by an event of deployment %s", e.ID, storedDeployment)
	}
	return nil
}
