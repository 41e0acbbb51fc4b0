package controller

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/schedule"
)

// scheduler runs the recurring deployment schedules: at each activation it lists the repository's
// tags, asks schedule.Recurring.Decide (newest matching tag; skip, defer or queue when the window is
// shut or the service busy), acts, audits the outcome with its reason and stores what it did, so a
// restart neither repeats an activation nor forgets a deferred or queued one.
type scheduler struct {
	mu   sync.Mutex
	recs map[string]*deploy.ScheduleRecord
	kick chan struct{}
}

func (c *Controller) startSchedules(ctx context.Context) error {
	c.sched = &scheduler{recs: map[string]*deploy.ScheduleRecord{}, kick: make(chan struct{}, 1)}
	if c.o.Objects == nil {
		return nil
	}
	objs, err := c.o.Objects.ListObjects(ctx, deploy.ObjectSchedule)
	if err != nil {
		return deploy.Wrap("controller.Start", "", err, "list schedules")
	}
	for _, o := range objs {
		var r deploy.ScheduleRecord
		if err := json.Unmarshal(o.Body, &r); err != nil {
			return deploy.Wrap("controller.Start", deploy.KindInternal, err, "decode schedule "+o.ID)
		}
		r.Version = o.Version
		c.sched.recs[r.Name] = &r
	}
	// Wait covers the scheduler too, so that a stopped daemon decides no activation after it returns.
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.runSchedules(ctx)
	}()
	return nil
}

// Schedules lists the schedules by name with their next activation.
func (c *Controller) Schedules() []deploy.ScheduleRecord {
	c.sched.mu.Lock()
	defer c.sched.mu.Unlock()
	out := make([]deploy.ScheduleRecord, 0, len(c.sched.recs))
	for _, r := range c.sched.recs {
		v := *r
		if n, err := v.Next(c.lastFire(&v)); err == nil && !n.IsZero() {
			v.NextFire = &n
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// AddSchedule stores a new schedule (audited).
func (c *Controller) AddSchedule(ctx context.Context, actor string, s schedule.Recurring) (*deploy.ScheduleRecord, error) {
	const op = "controller.AddSchedule"
	if err := s.Validate(); err != nil {
		return nil, deploy.Invalid(op, "", err)
	}
	if _, ok := c.service(s.Service); !ok {
		return nil, deploy.Errorf(op, deploy.KindInvalid, "service: unknown service %q", s.Service)
	}
	rec := &deploy.ScheduleRecord{Recurring: s, CreatedBy: actor, CreatedAt: c.clock.Now().UTC()}
	if err := c.storeSchedule(ctx, op, rec); err != nil {
		return nil, err
	}
	c.sched.mu.Lock()
	c.sched.recs[s.Name] = rec
	out := *rec
	c.sched.mu.Unlock()
	c.objectEvent(ctx, deploy.ObjectSchedule, s.Name, actor, "schedule.create", "", map[string]string{
		"service": s.Service, "cron": s.Cron, "tz": s.TZ, "tags": s.Tags, "policy": string(s.Policy)})
	c.kickSchedules()
	return &out, nil
}

// PauseSchedule pauses (or, with paused false, resumes) a schedule (audited).
func (c *Controller) PauseSchedule(ctx context.Context, actor, name, reason string, paused bool) (*deploy.ScheduleRecord, error) {
	const op = "controller.PauseSchedule"
	c.sched.mu.Lock()
	rec, ok := c.sched.recs[name]
	var next deploy.ScheduleRecord
	if ok {
		next = *rec
	}
	c.sched.mu.Unlock()
	if !ok {
		return nil, deploy.Errorf(op, deploy.KindNotFound, "schedule %s not found", name)
	}
	next.Paused = paused
	if !paused {
		// Resuming does not catch up the activations missed while paused.
		now := c.clock.Now().UTC()
		next.LastFire = &now
	}
	if err := c.storeSchedule(ctx, op, &next); err != nil {
		return nil, err
	}
	c.sched.mu.Lock()
	c.sched.recs[name] = &next
	c.sched.mu.Unlock()
	action := "schedule.resume"
	if paused {
		action = "schedule.pause"
	}
	c.objectEvent(ctx, deploy.ObjectSchedule, name, actor, action, reason, nil)
	c.kickSchedules()
	out := next
	return &out, nil
}

// DeleteSchedule removes a schedule (audited).
func (c *Controller) DeleteSchedule(ctx context.Context, actor, name, reason string) error {
	s, err := c.objects("controller.DeleteSchedule")
	if err != nil {
		return err
	}
	if err := s.DeleteObject(ctx, deploy.ObjectSchedule, name); err != nil {
		return err
	}
	c.sched.mu.Lock()
	delete(c.sched.recs, name)
	c.sched.mu.Unlock()
	c.objectEvent(ctx, deploy.ObjectSchedule, name, actor, "schedule.delete", reason, nil)
	return nil
}

func (c *Controller) storeSchedule(ctx context.Context, op string, rec *deploy.ScheduleRecord) error {
	s, err := c.objects(op)
	if err != nil {
		return err
	}
	v := *rec
	v.NextFire, v.Version = nil, 0
	b, err := json.Marshal(v)
	if err != nil {
		return deploy.Wrap(op, deploy.KindInternal, err, "encode schedule")
	}
	o := &deploy.Object{Kind: deploy.ObjectSchedule, ID: rec.Name, Body: b, Version: rec.Version}
	if err := s.PutObject(ctx, o); err != nil {
		return err
	}
	rec.Version = o.Version
	return nil
}

func (c *Controller) kickSchedules() {
	select {
	case c.sched.kick <- struct{}{}:
	default:
	}
}

func (c *Controller) lastFire(r *deploy.ScheduleRecord) time.Time {
	if r.LastFire != nil {
		return *r.LastFire
	}
	return r.CreatedAt
}

// due is when r next needs attention, zero when never.
func (c *Controller) due(r *deploy.ScheduleRecord, now time.Time) time.Time {
	if r.Paused {
		return time.Time{}
	}
	switch {
	case r.Queued != "" || r.Waiting:
		if r.RetryAt != nil && r.RetryAt.After(now) {
			return *r.RetryAt
		}
		return now // checked every poll interval until the service is idle
	case r.RetryAt != nil:
		return *r.RetryAt
	}
	n, err := r.Next(c.lastFire(r))
	if err != nil {
		return time.Time{}
	}
	return n
}

func (c *Controller) runSchedules(ctx context.Context) {
	for {
		now := c.clock.Now()
		var next time.Time
		var dueNow []string
		c.sched.mu.Lock()
		for name, r := range c.sched.recs {
			d := c.due(r, now)
			switch {
			case d.IsZero():
			case !d.After(now):
				dueNow = append(dueNow, name)
			case next.IsZero() || d.Before(next):
				next = d
			}
		}
		c.sched.mu.Unlock()
		sort.Strings(dueNow)
		acted := false
		for _, name := range dueNow {
			acted = c.handleSchedule(ctx, name, now) || acted
		}
		if acted {
			continue
		}
		if len(dueNow) > 0 && (next.IsZero() || now.Add(c.o.PollInterval).Before(next)) {
			next = now.Add(c.o.PollInterval) // a queued or deferred schedule waits for its service
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = min(wait, next.Sub(now))
		}
		wake, stop := c.clock.After(wait)
		select {
		case <-ctx.Done():
			stop()
			return
		case <-wake:
		case <-c.sched.kick:
		}
		stop()
	}
}

// handleSchedule acts on one due schedule at now and stores the outcome.
func (c *Controller) handleSchedule(ctx context.Context, name string, now time.Time) bool {
	c.sched.mu.Lock()
	cur, ok := c.sched.recs[name]
	var r deploy.ScheduleRecord
	if ok {
		r = *cur
	}
	c.sched.mu.Unlock()
	if !ok {
		return false
	}
	action, reason, tag, id := c.scheduleStep(ctx, &r, now)
	if action == "" {
		return false // a queued or deferred schedule still waiting for the service to be idle
	}
	if ctx.Err() != nil {
		// Stopping: what failed may have failed only because of it (a queued tag's create); keep
		// the stored record, and the next daemon decides this activation again.
		return false
	}
	r.LastAction, r.LastReason, r.LastID = action, reason, id
	if err := c.storeSchedule(ctx, "controller.schedule", &r); err != nil {
		c.log.Error("schedule outcome not stored; it will be decided again", zap.String("schedule", name), zap.Error(err))
		wake, stop := c.clock.After(time.Second)
		select {
		case <-ctx.Done():
		case <-wake:
		}
		stop()
		return false
	}
	c.sched.mu.Lock()
	if _, still := c.sched.recs[name]; still {
		c.sched.recs[name] = &r
	}
	c.sched.mu.Unlock()
	detail := map[string]string{"tag": tag}
	if id != "" {
		detail["deployment_id"] = id
	}
	if r.RetryAt != nil {
		detail["retry_at"] = r.RetryAt.UTC().Format(time.RFC3339)
	}
	c.objectEvent(ctx, deploy.ObjectSchedule, name, deploy.ActorController, "schedule."+action, reason, detail)
	return true
}

// scheduleStep decides and carries out r's due work at now: a queued tag, a deferred retry or a new
// activation. It returns "" when nothing happened yet (the service is still busy).
func (c *Controller) scheduleStep(ctx context.Context, r *deploy.ScheduleRecord, now time.Time) (action, reason, tag, id string) {
	svc, ok := c.service(r.Service)
	if !ok {
		r.RetryAt, r.Queued, r.Waiting = nil, "", false
		r.LastFire = &now
		return "skip", "service " + r.Service + " is no longer configured", "", ""
	}
	active := ""
	if a, err := c.store.ActiveDeployment(ctx, svc.Name); err == nil {
		active = a.ID
	}
	if r.Queued != "" {
		if active != "" {
			return "", "", "", ""
		}
		tag = r.Queued
		r.Queued, r.RetryAt = "", nil
		return c.scheduledCreate(ctx, r, svc, tag, "queued "+tag+" started")
	}
	if r.Waiting && active != "" {
		return "", "", "", ""
	}
	at := now
	if r.RetryAt == nil && !r.Waiting {
		// A new activation: the latest one due (activations missed while the daemon was down are
		// caught up once, not replayed).
		fire, _ := r.Next(c.lastFire(r))
		for n, _ := r.Next(fire); !n.IsZero() && !n.After(now); n, _ = r.Next(fire) {
			fire = n
		}
		r.LastFire = &fire
		at = fire
		if now.Sub(fire) > time.Minute {
			at = now // the window is judged when the daemon acts, not when it should have
		}
	}
	r.RetryAt, r.Waiting = nil, false
	f, err := c.fire(ctx, svc, at, active)
	if err != nil {
		return "skip", "could not list tags: " + deploy.MessageOf(err), "", ""
	}
	dec, err := r.Decide(f)
	if err != nil {
		return "skip", deploy.MessageOf(err), "", ""
	}
	switch dec.Action {
	case schedule.ActionDeploy:
		return c.scheduledCreate(ctx, r, svc, dec.Tag, dec.Reason)
	case schedule.ActionDefer:
		if dec.RetryAt.IsZero() {
			r.Waiting = true
		} else {
			r.RetryAt = &dec.RetryAt
		}
	case schedule.ActionQueue:
		r.Queued = dec.Tag
		if !dec.RetryAt.IsZero() {
			r.RetryAt = &dec.RetryAt
		}
	}
	return string(dec.Action), dec.Reason, dec.Tag, ""
}

func (c *Controller) scheduledCreate(ctx context.Context, r *deploy.ScheduleRecord, svc deploy.Service, tag, why string) (string, string, string, string) {
	d, err := c.Create(ctx, deploy.CreateRequest{Service: svc.Name, ImageTag: tag, Actor: "schedule:" + r.Name, Reason: "schedule " + r.Name + ": " + why})
	if err != nil {
		return "skip", "deploying " + tag + " failed: " + deploy.MessageOf(err), tag, ""
	}
	return "deploy", why, tag, d.ID
}

// fire gathers what Decide needs: the repository's tags, the live tag and the first step's need.
func (c *Controller) fire(ctx context.Context, svc deploy.Service, at time.Time, active string) (schedule.Fire, error) {
	f := schedule.Fire{At: at, ActiveID: active}
	w, err := c.window(svc)
	if err != nil {
		return f, err
	}
	f.Window = w
	if steps, err := svc.Strategy.Plan(); err == nil && len(steps) > 0 {
		f.Need = svc.StepTimeouts().Need(steps[0].Bake.D(), len(steps) == 1)
	}
	lister, ok := c.o.Images.(deploy.TagLister)
	if !ok {
		return f, deploy.Errorf("controller.schedule", deploy.KindPrecondition, "the image registry adapter cannot list tags")
	}
	var tags []deploy.ImageTag
	err = c.untilNotThrottled(ctx, func() (err error) {
		tags, _, err = lister.ListTags(ctx, svc.ImageRepository)
		return err
	})
	if err != nil {
		return f, err
	}
	for _, t := range tags {
		f.Candidates = append(f.Candidates, schedule.Candidate{Tag: t.Tag, PushedAt: t.PushedAt})
	}
	if ds, err := c.store.ListDeployments(ctx, deploy.ListFilter{Service: svc.Name, Limit: 50}); err == nil {
		for _, d := range ds {
			if d.State == deploy.StateSucceeded {
				f.LiveTag = d.ImageTag
				break
			}
		}
	}
	return f, nil
}
