package api_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/api"
	"github.com/switchyard/switchyard/pkg/api/apitest"
	"github.com/switchyard/switchyard/pkg/calendar"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/schedule"
)

// calCtl adds the schedule routes' controller to the fake: it records what the API passed through.
type calCtl struct {
	*apitest.Controller
	mu       sync.Mutex
	freezes  []deploy.FreezeRecord
	closures []deploy.ClosureRecord
	scheds   []deploy.ScheduleRecord
	dry      []deploy.CreateRequest
	deleted  []string
}

func (c *calCtl) DryRun(_ context.Context, req deploy.CreateRequest) (*deploy.DryRun, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dry = append(c.dry, req)
	return &deploy.DryRun{Service: req.Service, ImageTag: req.ImageTag, Zone: "America/New_York",
		Timeline: []schedule.Entry{{At: *req.StartAt, Kind: schedule.EntryRequested, Step: -1}}}, nil
}
func (c *calCtl) Freezes() []deploy.FreezeRecord { return c.freezes }
func (c *calCtl) AddFreeze(_ context.Context, actor string, f calendar.Freeze) (*deploy.FreezeRecord, error) {
	if err := calendar.CheckFreeze(f, "freeze"); err != nil {
		return nil, deploy.Invalid("fake", "", err)
	}
	r := deploy.FreezeRecord{ID: "frz-1", Freeze: f, CreatedBy: actor}
	c.freezes = append(c.freezes, r)
	return &r, nil
}
func (c *calCtl) DeleteFreeze(_ context.Context, actor, id, reason string) error {
	if id != "frz-1" {
		return deploy.Errorf("fake", deploy.KindNotFound, "freeze %s not found", id)
	}
	c.deleted = append(c.deleted, actor+" "+id+" "+reason)
	return nil
}
func (c *calCtl) Closures() []deploy.ClosureRecord { return c.closures }
func (c *calCtl) AddClosure(_ context.Context, actor string, cl calendar.Closure) (*deploy.ClosureRecord, error) {
	r := deploy.ClosureRecord{ID: "cls-1", Closure: cl, CreatedBy: actor}
	c.closures = append(c.closures, r)
	return &r, nil
}
func (c *calCtl) DeleteClosure(context.Context, string, string, string) error { return nil }
func (c *calCtl) Schedules() []deploy.ScheduleRecord                          { return c.scheds }
func (c *calCtl) AddSchedule(_ context.Context, actor string, s schedule.Recurring) (*deploy.ScheduleRecord, error) {
	if err := s.Validate(); err != nil {
		return nil, deploy.Invalid("fake", "", err)
	}
	r := deploy.ScheduleRecord{Recurring: s, CreatedBy: actor}
	c.scheds = append(c.scheds, r)
	return &r, nil
}
func (c *calCtl) PauseSchedule(_ context.Context, _, name, _ string, paused bool) (*deploy.ScheduleRecord, error) {
	for i := range c.scheds {
		if c.scheds[i].Name == name {
			c.scheds[i].Paused = paused
			return &c.scheds[i], nil
		}
	}
	return nil, deploy.Errorf("fake", deploy.KindNotFound, "schedule %s not found", name)
}
func (c *calCtl) DeleteSchedule(context.Context, string, string, string) error { return nil }
func (c *calCtl) ObjectEvents(_ context.Context, kind deploy.ObjectKind, id string) ([]deploy.Event, error) {
	return []deploy.Event{{DeploymentID: deploy.ObjectAuditID(kind, id), Action: string(kind) + ".create"}}, nil
}

var _ api.Calendars = (*calCtl)(nil)

func TestScheduleRoutes(t *testing.T) {
	e := newEnv(t)
	ctl := &calCtl{Controller: e.ctl}
	srv, err := api.New(api.Options{Controller: ctl, Tokens: []api.Token{{Name: "alice", Secret: adminTok}, {Name: "viewer", Secret: viewTok, ReadOnly: true}}})
	if err != nil {
		t.Fatal(err)
	}
	e.ts.Config.Handler = srv

	// Dry run: 200 with the timeline, start_at passed through, nothing created.
	r := e.do("POST", "/v1/services/web/deployments", adminTok, `{"image_tag":"v2","dry_run":true,"start_at":"2026-12-08T06:45:00-05:00"}`)
	if r.status != http.StatusOK || len(ctl.dry) != 1 || !ctl.dry[0].StartAt.Equal(time.Date(2026, 12, 8, 11, 45, 0, 0, time.UTC)) {
		t.Fatalf("dry run: %d %s %+v", r.status, r.body, ctl.dry)
	}
	if len(e.ctl.Calls()) != 0 {
		t.Fatalf("the dry run created something: %+v", e.ctl.Calls())
	}
	if r := e.do("POST", "/v1/services/web/deployments", adminTok, `{"image_tag":"v2","start_at":"tomorrow"}`); r.status != 400 ||
		!strings.Contains(r.errBody(t).Message, "start_at: expected an RFC 3339 time") {
		t.Fatalf("bad start_at: %d %s", r.status, r.body)
	}
	// A step's timing is accepted inline in a strategy, and checked.
	if r := e.do("POST", "/v1/services/web/deployments", adminTok, `{"image_tag":"v2","dry_run":true,"start_at":"2026-12-08T06:45:00-05:00",
		"strategy":{"type":"steps","steps":[{"percent":1,"bake":"30m","cron":"0 7 * * 1-5","tz":"America/New_York"},{"percent":100}]}}`); r.status != 200 {
		t.Fatalf("timed step: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/v1/services/web/deployments", adminTok, `{"image_tag":"v2","strategy":{"type":"steps","steps":[{"percent":1,"cron":"0 7 * * 1-5"},{"percent":100}]}}`); r.status != 400 ||
		!strings.Contains(r.errBody(t).Message, "strategy.steps[0].cron: needs a time zone") {
		t.Fatalf("cron without zone: %d %s", r.status, r.body)
	}

	// Freezes: strict body, 201, read-only refused, 404 on an unknown id, 204 on delete.
	body := `{"start":"2026-12-31T00:00:00-05:00","end":"2027-01-02T00:00:00-05:00","reason":"year end","services":["web"]}`
	if r := e.do("POST", "/v1/freezes", viewTok, body); r.status != http.StatusForbidden {
		t.Fatalf("read-only freeze: %d", r.status)
	}
	if r := e.do("POST", "/v1/freezes", adminTok, body); r.status != http.StatusCreated || decode[deploy.FreezeRecord](t, r).CreatedBy != "alice" {
		t.Fatalf("freeze: %d %s", r.status, r.body)
	}
	for bad, want := range map[string]string{
		`{"start":"2026-12-31","end":"2027-01-02T00:00:00-05:00","reason":"x"}`:                  "start: expected an RFC 3339 time",
		`{"start":"2026-12-31T00:00:00Z","end":"2026-12-30T00:00:00Z","reason":"x"}`:             "freeze.end:",
		`{"start":"2026-12-31T00:00:00Z","end":"2027-01-01T00:00:00Z","reason":"x","until":"1"}`: `unknown field "until"`,
	} {
		if r := e.do("POST", "/v1/freezes", adminTok, bad); r.status != 400 || !strings.Contains(r.errBody(t).Message, want) {
			t.Errorf("%s: %d %s, want 400 with %q", bad, r.status, r.body, want)
		}
	}
	if r := e.do("GET", "/v1/freezes", viewTok, ""); r.status != 200 || len(decode[[]deploy.FreezeRecord](t, r)) != 1 {
		t.Fatalf("list freezes: %d %s", r.status, r.body)
	}
	if r := e.do("DELETE", "/v1/freezes/frz-9", adminTok, ""); r.status != 404 {
		t.Fatalf("delete unknown: %d", r.status)
	}
	if r := e.do("DELETE", "/v1/freezes/frz-1", adminTok, `{"reason":"lifted"}`); r.status != http.StatusNoContent || ctl.deleted[0] != "alice frz-1 lifted" {
		t.Fatalf("delete: %d %v", r.status, ctl.deleted)
	}
	// Closures: a whole day (a date, not a time).
	if r := e.do("POST", "/v1/closures", adminTok, `{"date":"2025-01-09","reason":"National Day of Mourning"}`); r.status != 201 ||
		ctl.closures[0].Date.String() != "2025-01-09" {
		t.Fatalf("closure: %d %s", r.status, r.body)
	}
	// Schedules: create, pause, a validation error naming the field.
	if r := e.do("POST", "/v1/schedules", adminTok, `{"name":"premarket","service":"web","cron":"15 7 * * 1-5","tz":"America/New_York","tags":"^v\\d+$","policy":"queue"}`); r.status != 201 {
		t.Fatalf("schedule: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/v1/schedules/premarket/pause", adminTok, `{"reason":"freeze week"}`); r.status != 200 || !decode[deploy.ScheduleRecord](t, r).Paused {
		t.Fatalf("pause: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/v1/schedules", adminTok, `{"name":"x","service":"web","cron":"15 7 * * 1-5","tz":"America/New_York","tags":"^v","policy":"later"}`); r.status != 400 ||
		!strings.Contains(r.errBody(t).Message, "policy") {
		t.Fatalf("bad policy: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/v1/schedules/premarket/events", viewTok, ""); r.status != 200 || decode[[]deploy.Event](t, r)[0].DeploymentID != "schedule/premarket" {
		t.Fatalf("schedule events: %d %s", r.status, r.body)
	}
}
