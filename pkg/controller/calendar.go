package controller

import (
	"context"
	"encoding/json"
	"sort"
	"sync"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/calendar"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/window"
)

// Calendar configures the exchange calendar the windows use: NYSE (the only exchange so far) with the
// configuration's closures; closures and freezes added through the API are stored and added to it.
type Calendar struct {
	Exchange string // "NYSE" (default)
	Closures []calendar.Closure
}

// calState is the daemon's calendar: rebuilt (immutable) on every change, after which every active
// deployment is woken so that decide looks at the new windows at once.
type calState struct {
	mu       sync.Mutex
	static   []calendar.Closure
	closures []deploy.ClosureRecord
	freezes  []deploy.FreezeRecord
	cal      *calendar.Calendar
	changed  chan struct{} // closed and replaced on every change
}

func newCalState(c Calendar) (*calState, error) {
	if c.Exchange != "" && c.Exchange != "NYSE" {
		return nil, deploy.Errorf("controller.New", deploy.KindInvalid, "calendar.exchange: %q is not supported (NYSE)", c.Exchange)
	}
	s := &calState{static: c.Closures, changed: make(chan struct{})}
	return s, s.rebuild()
}

// rebuild recomputes the calendar from the closures; the caller holds mu or owns s.
func (s *calState) rebuild() error {
	all := append([]calendar.Closure(nil), s.static...)
	for _, c := range s.closures {
		all = append(all, c.Closure)
	}
	cal, err := calendar.NYSE(all)
	if err != nil {
		return deploy.Invalid("controller.calendar", "closures", err)
	}
	s.cal = cal
	return nil
}

func (s *calState) wake() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// changes returns a channel closed at the next calendar change.
func (c *Controller) calendarChanges() <-chan struct{} {
	c.cal.mu.Lock()
	defer c.cal.mu.Unlock()
	return c.cal.changed
}

// window is svc's window now: its spec (always, when none) on the current calendar, less the freezes.
func (c *Controller) window(svc deploy.Service) (*window.Window, error) {
	spec := window.Always
	if svc.Window != nil {
		spec = *svc.Window
	}
	c.cal.mu.Lock()
	cal := c.cal.cal
	freezes := make([]calendar.Freeze, len(c.cal.freezes))
	for i, f := range c.cal.freezes {
		freezes[i] = f.Freeze
	}
	c.cal.mu.Unlock()
	w, err := window.New(spec, cal, svc.Name, freezes)
	if err != nil {
		return nil, deploy.Invalid("controller.window", "window", err)
	}
	return w, nil
}

// loadCalendar reads the stored closures and freezes (at start).
func (c *Controller) loadCalendar(ctx context.Context) error {
	if c.o.Objects == nil {
		return nil
	}
	var freezes []deploy.FreezeRecord
	var closures []deploy.ClosureRecord
	if err := loadObjects(ctx, c.o.Objects, deploy.ObjectFreeze, &freezes); err != nil {
		return err
	}
	if err := loadObjects(ctx, c.o.Objects, deploy.ObjectClosure, &closures); err != nil {
		return err
	}
	c.cal.mu.Lock()
	defer c.cal.mu.Unlock()
	c.cal.freezes, c.cal.closures = freezes, closures
	return c.cal.rebuild()
}

func loadObjects[T any](ctx context.Context, s deploy.ObjectStore, kind deploy.ObjectKind, out *[]T) error {
	objs, err := s.ListObjects(ctx, kind)
	if err != nil {
		return deploy.Wrap("controller.loadCalendar", "", err, "list "+string(kind)+"s")
	}
	for _, o := range objs {
		var v T
		if err := json.Unmarshal(o.Body, &v); err != nil {
			return deploy.Wrap("controller.loadCalendar", deploy.KindInternal, err, "decode "+string(kind)+" "+o.ID)
		}
		*out = append(*out, v)
	}
	return nil
}

// Freezes lists the stored freezes, by start.
func (c *Controller) Freezes() []deploy.FreezeRecord {
	c.cal.mu.Lock()
	defer c.cal.mu.Unlock()
	out := append([]deploy.FreezeRecord{}, c.cal.freezes...)
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// Closures lists the configured and stored closures (configured ones have no id).
func (c *Controller) Closures() []deploy.ClosureRecord {
	c.cal.mu.Lock()
	defer c.cal.mu.Unlock()
	out := []deploy.ClosureRecord{}
	for _, s := range c.cal.static {
		out = append(out, deploy.ClosureRecord{Closure: s, CreatedBy: "config"})
	}
	return append(out, c.cal.closures...)
}

func (c *Controller) objects(op string) (deploy.ObjectStore, error) {
	if c.o.Objects == nil {
		return nil, deploy.Errorf(op, deploy.KindPrecondition, "this store keeps no calendar objects")
	}
	return c.o.Objects, nil
}

// AddFreeze stores a freeze, audits it and wakes every active deployment.
func (c *Controller) AddFreeze(ctx context.Context, actor string, f calendar.Freeze) (*deploy.FreezeRecord, error) {
	const op = "controller.AddFreeze"
	if err := calendar.CheckFreeze(f, "freeze"); err != nil {
		return nil, deploy.Invalid(op, "", err)
	}
	rec := deploy.FreezeRecord{ID: "frz-" + uuid.NewString()[:8], Freeze: f, CreatedBy: actor, CreatedAt: c.clock.Now().UTC()}
	if err := c.putObject(ctx, op, deploy.ObjectFreeze, rec.ID, rec, 0); err != nil {
		return nil, err
	}
	c.cal.mu.Lock()
	c.cal.freezes = append(c.cal.freezes, rec)
	c.cal.wake()
	c.cal.mu.Unlock()
	c.objectEvent(ctx, deploy.ObjectFreeze, rec.ID, actor, "freeze.create", f.Reason, map[string]string{
		"start": f.Start.UTC().Format(timeLayout), "end": f.End.UTC().Format(timeLayout), "services": joinOr(f.Services, "*")})
	return &rec, nil
}

// DeleteFreeze removes a freeze (audited) and wakes every active deployment.
func (c *Controller) DeleteFreeze(ctx context.Context, actor, id, reason string) error {
	const op = "controller.DeleteFreeze"
	s, err := c.objects(op)
	if err != nil {
		return err
	}
	if err := s.DeleteObject(ctx, deploy.ObjectFreeze, id); err != nil {
		return err
	}
	c.cal.mu.Lock()
	for i, f := range c.cal.freezes {
		if f.ID == id {
			c.cal.freezes = append(c.cal.freezes[:i], c.cal.freezes[i+1:]...)
			break
		}
	}
	c.cal.wake()
	c.cal.mu.Unlock()
	c.objectEvent(ctx, deploy.ObjectFreeze, id, actor, "freeze.delete", reason, nil)
	return nil
}

// AddClosure stores an exchange closure (audited), rebuilds the calendar and wakes every deployment.
func (c *Controller) AddClosure(ctx context.Context, actor string, cl calendar.Closure) (*deploy.ClosureRecord, error) {
	const op = "controller.AddClosure"
	rec := deploy.ClosureRecord{ID: "cls-" + uuid.NewString()[:8], Closure: cl, CreatedBy: actor, CreatedAt: c.clock.Now().UTC()}
	c.cal.mu.Lock()
	trial := &calState{static: c.cal.static, closures: append(append([]deploy.ClosureRecord(nil), c.cal.closures...), rec)}
	c.cal.mu.Unlock()
	if err := trial.rebuild(); err != nil {
		return nil, err
	}
	if err := c.putObject(ctx, op, deploy.ObjectClosure, rec.ID, rec, 0); err != nil {
		return nil, err
	}
	c.cal.mu.Lock()
	c.cal.closures = append(c.cal.closures, rec)
	err := c.cal.rebuild()
	c.cal.wake()
	c.cal.mu.Unlock()
	c.objectEvent(ctx, deploy.ObjectClosure, rec.ID, actor, "closure.create", cl.Reason, nil)
	return &rec, err
}

// DeleteClosure removes a stored closure (audited).
func (c *Controller) DeleteClosure(ctx context.Context, actor, id, reason string) error {
	const op = "controller.DeleteClosure"
	s, err := c.objects(op)
	if err != nil {
		return err
	}
	if err := s.DeleteObject(ctx, deploy.ObjectClosure, id); err != nil {
		return err
	}
	c.cal.mu.Lock()
	for i, f := range c.cal.closures {
		if f.ID == id {
			c.cal.closures = append(c.cal.closures[:i], c.cal.closures[i+1:]...)
			break
		}
	}
	err = c.cal.rebuild()
	c.cal.wake()
	c.cal.mu.Unlock()
	c.objectEvent(ctx, deploy.ObjectClosure, id, actor, "closure.delete", reason, nil)
	return err
}

func (c *Controller) putObject(ctx context.Context, op string, kind deploy.ObjectKind, id string, v any, version int64) error {
	s, err := c.objects(op)
	if err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return deploy.Wrap(op, deploy.KindInternal, err, "encode "+string(kind))
	}
	o := &deploy.Object{Kind: kind, ID: id, Body: b, Version: version}
	return s.PutObject(ctx, o)
}

// objectEvent audits a change of a calendar object; its trail is read like a deployment's, under
// deploy.ObjectAuditID (GET /v1/deployments/freeze%2F<id>/events).
func (c *Controller) objectEvent(ctx context.Context, kind deploy.ObjectKind, id, actor, action, reason string, detail map[string]string) {
	c.event(ctx, &deploy.Deployment{ID: deploy.ObjectAuditID(kind, id), Service: "*"}, actor, action, reason, detail)
	c.log.Info("calendar changed", zap.String("kind", string(kind)), zap.String("id", id), zap.String("action", action), zap.String("actor", actor))
}

const timeLayout = "2006-01-02T15:04:05Z07:00"

func joinOr(s []string, empty string) string {
	if len(s) == 0 {
		return empty
	}
	out := s[0]
	for _, x := range s[1:] {
		out += "," + x
	}
	return out
}

// ObjectEvents is the audit trail of a freeze, closure or schedule (also after it was deleted).
func (c *Controller) ObjectEvents(ctx context.Context, kind deploy.ObjectKind, id string) ([]deploy.Event, error) {
	return c.store.Events(ctx, deploy.ObjectAuditID(kind, id), 0)
}
