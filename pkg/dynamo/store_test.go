package dynamo

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/test/emulator"
)

func TestMain(m *testing.M) {
	code := m.Run()
	emulator.StopShared()
	os.Exit(code)
}

var tableN atomic.Int64

// newStore returns a store on a fresh table in the shared emulator.
func newStore(t *testing.T) (*Store, *dynamodb.Client) {
	t.Helper()
	k := emulator.Shared(t)
	c := dynamodb.NewFromConfig(emulator.Config(k.URL))
	table := fmt.Sprintf("switchyard-%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), tableN.Add(1))
	ctx := emulator.Context(t, 30*time.Second)
	if err := EnsureTable(ctx, c, table); err != nil {
		t.Fatalf("EnsureTable: %v", err)
	}
	return New(c, table), c
}

func full(id, service string) *deploy.Deployment {
	zone := time.FixedZone("UTC-3", -3*3600)
	at := func(sec int) *time.Time {
		t := time.Date(2025, 3, 14, 15, 9, 26, 535897932, zone).Add(time.Duration(sec) * time.Second)
		return &t
	}
	return &deploy.Deployment{
		ID: id, Service: service,
		Spec: deploy.Service{
			Name: service, Cluster: "prod", Container: "app", ImageRepository: "web",
			ECSServices:    map[deploy.Slot]string{deploy.SlotBlue: "web-blue", deploy.SlotGreen: "web-green"},
			TargetGroups:   map[deploy.Slot]string{deploy.SlotBlue: "tg-blue", deploy.SlotGreen: "tg-green"},
			Routes:         []deploy.Route{{ListenerARN: "l1"}, {ListenerARN: "l1", RuleARN: "r9"}},
			Alarms:         []string{"web-5xx"},
			SlotAlarms:     map[deploy.Slot][]string{deploy.SlotGreen: {"green-5xx"}},
			Strategy:       deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 10},
			DeregDelay:     deploy.Duration(30 * time.Second),
			ReadyTimeout:   deploy.Duration(time.Minute),
			StepTimeout:    deploy.Duration(time.Minute),
			UnhealthyAfter: deploy.Duration(time.Second),
			UnhealthyMax:   1,
		},
		ImageTag: "v1.2.3", Image: "web:v1.2.3",
		Strategy: deploy.Strategy{Type: deploy.StrategySteps, CanaryPercent: 0.5, LinearSteps: 3,
			Bake: deploy.Duration(1500 * time.Millisecond), Steps: []deploy.Step{{Percent: 0.5}, {Percent: 100}}},
		Steps:      []deploy.Step{{Percent: 0.5, Bake: deploy.Duration(time.Minute)}, {Percent: 100}},
		State:      deploy.StatePaused,
		PausedFrom: deploy.StateShifting, Step: 1, From: deploy.SlotBlue, To: deploy.SlotGreen,
		PreviousTaskDef: "td:7", TaskDef: "td:8", PreviousToTaskDef: "td:6", DesiredCount: 3,
		Weights: deploy.Weights{Blue: 994, Green: 5}, Intended: &deploy.Weights{Blue: 666, Green: 333},
		Cause: deploy.CauseAlarm, Reason: "alarm", Promote: true, CreatedBy: "ci",
		Guard:     []deploy.AlarmState{{Name: "web-5xx", State: "OK"}},
		CreatedAt: *at(0), UpdatedAt: *at(1), StepStartedAt: at(2), ShiftedAt: at(3), FinishedAt: at(4),
		Version: 42,
	}
}

func pending(id, service string, sec int) *deploy.Deployment {
	t := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(sec) * time.Second)
	return &deploy.Deployment{ID: id, Service: service, State: deploy.StatePending, Step: -1, CreatedAt: t, UpdatedAt: t}
}

func stored(d *deploy.Deployment) *deploy.Deployment {
	c := *d
	c.Guard = nil
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	c.StepStartedAt, c.ShiftedAt, c.FinishedAt = utcPtr(c.StepStartedAt), utcPtr(c.ShiftedAt), utcPtr(c.FinishedAt)
	return &c
}

func assertKind(t *testing.T, err error, want deploy.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("want error of kind %s, got nil", want)
	}
	if got := deploy.KindOf(err); got != want {
		t.Fatalf("want kind %s, got %s (%v)", want, got, err)
	}
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	d := full("d-1", "web")
	for _, v := range []reflect.Value{reflect.ValueOf(*d), reflect.ValueOf(d.Spec)} {
		for i := range v.NumField() {
			if v.Field(i).IsZero() {
				t.Fatalf("fixture leaves %s.%s zero", v.Type().Name(), v.Type().Field(i).Name)
			}
		}
	}
	if err := s.CreateDeployment(ctx, d); err != nil {
		t.Fatalf("CreateDeployment: %v", err)
	}
	if d.Version != 1 {
		t.Fatalf("Version = %d, want 1", d.Version)
	}
	got, err := s.GetDeployment(ctx, "d-1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, stored(d)) {
		t.Fatalf("round trip\n got: %+v\nwant: %+v", got, stored(d))
	}
	_, err = s.GetDeployment(ctx, "nope")
	assertKind(t, err, deploy.KindNotFound)
}

func TestLock(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	d := pending("d-1", "web", 0)
	if err := s.CreateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateDeployment(ctx, pending("a-1", "api", 1)); err != nil {
		t.Fatalf("other service: %v", err)
	}
	err := s.CreateDeployment(ctx, pending("d-2", "web", 2))
	assertKind(t, err, deploy.KindConflict)
	if got := deploy.ActiveIDOf(err); got != "d-1" {
		t.Fatalf("ActiveID = %q, want d-1", got)
	}
	if _, err := s.GetDeployment(ctx, "d-2"); deploy.KindOf(err) != deploy.KindNotFound {
		t.Fatalf("rejected deployment stored: %v", err)
	}
	dup := pending("a-1", "free", 3)
	err = s.CreateDeployment(ctx, dup)
	assertKind(t, err, deploy.KindConflict)
	if deploy.ActiveIDOf(err) != "" {
		t.Fatalf("duplicate id carries ActiveID: %v", err)
	}

	// Active updates keep the lock; a terminal one frees the service.
	d.State = deploy.StateShifting
	if err := s.UpdateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	assertKind(t, s.CreateDeployment(ctx, pending("d-3", "web", 4)), deploy.KindConflict)
	d.State = deploy.StateSucceeded
	if err := s.UpdateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	if d.Version != 3 {
		t.Fatalf("Version = %d, want 3", d.Version)
	}
	if err := s.CreateDeployment(ctx, pending("d-4", "web", 5)); err != nil {
		t.Fatalf("service not freed: %v", err)
	}
	// A terminal update of a deployment that does not hold the lock leaves the holder's lock alone.
	d.Reason = "note"
	if err := s.UpdateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	err = s.CreateDeployment(ctx, pending("d-5", "web", 6))
	if deploy.ActiveIDOf(err) != "d-4" {
		t.Fatalf("lock of d-4 lost: %v", err)
	}
	// Re-activating d-1 must not steal the lock.
	d.State = deploy.StateShifting
	err = s.UpdateDeployment(ctx, d)
	assertKind(t, err, deploy.KindConflict)
	if deploy.ActiveIDOf(err) != "d-4" {
		t.Fatalf("ActiveID = %q, want d-4", deploy.ActiveIDOf(err))
	}
}

func TestConcurrentCreateOneWins(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = s.CreateDeployment(ctx, pending(fmt.Sprintf("d-%02d", i), "web", i))
		}()
	}
	close(start)
	wg.Wait()
	winner := ""
	for i, err := range errs {
		switch {
		case err == nil && winner != "":
			t.Fatalf("two winners: %s and d-%02d", winner, i)
		case err == nil:
			winner = fmt.Sprintf("d-%02d", i)
		case deploy.KindOf(err) != deploy.KindConflict:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if winner == "" {
		t.Fatalf("no winner: %v", errs)
	}
	list, err := s.ListDeployments(ctx, deploy.ListFilter{Service: "web"})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != winner {
		t.Fatalf("stored %d deployments, want only %s", len(list), winner)
	}
}

func TestStaleUpdate(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	if err := s.CreateDeployment(ctx, pending("d-1", "web", 0)); err != nil {
		t.Fatal(err)
	}
	a, _ := s.GetDeployment(ctx, "d-1")
	b, _ := s.GetDeployment(ctx, "d-1")
	a.State = deploy.StatePreparing
	if err := s.UpdateDeployment(ctx, a); err != nil {
		t.Fatal(err)
	}
	b.Reason = "stale"
	assertKind(t, s.UpdateDeployment(ctx, b), deploy.KindConflict)
	if b.Version != 1 {
		t.Fatalf("failed update set Version %d", b.Version)
	}
	got, _ := s.GetDeployment(ctx, "d-1")
	if got.Reason != "" || got.Version != 2 {
		t.Fatalf("stale write leaked: %+v", got)
	}
	missing := pending("nope", "web", 0)
	missing.Version = 1
	assertKind(t, s.UpdateDeployment(ctx, missing), deploy.KindNotFound)
}

func TestEvents(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	var want []deploy.Event
	last := int64(0)
	for i := range 5 {
		id := "d-1"
		if i == 1 {
			id = "d-2"
		}
		e := deploy.Event{DeploymentID: id, Service: "web", Actor: "ops", Action: fmt.Sprintf("a%d", i),
			Time: time.Date(2025, 1, 1, 0, 0, i, 7, time.FixedZone("X", 3600)), State: deploy.StateShifting}
		if i == 2 {
			e.Reason, e.Detail = "w", map[string]string{"blue": "0", "green": "999"}
		}
		if err := s.AppendEvent(ctx, &e); err != nil {
			t.Fatal(err)
		}
		if e.Seq <= last {
			t.Fatalf("seq %d not above %d", e.Seq, last)
		}
		last = e.Seq
		if id == "d-1" {
			e.Time = e.Time.UTC()
			want = append(want, e)
		}
	}
	got, err := s.Events(ctx, "d-1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events\n got: %+v\nwant: %+v", got, want)
	}
	got, err = s.Events(ctx, "d-1", want[1].Seq)
	if err != nil || !reflect.DeepEqual(got, want[2:]) {
		t.Fatalf("after %d: %+v, %v", want[1].Seq, got, err)
	}
	got, err = s.Events(ctx, "d-1", last)
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("after last: %v, %v", got, err)
	}
}

func TestList(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	mk := func(id, svc string, sec int, st deploy.State) {
		d := pending(id, svc, sec)
		d.State = st
		if err := s.CreateDeployment(ctx, d); err != nil {
			t.Fatalf("create %s: %v", id, err)
		}
	}
	mk("w1", "web", 1, deploy.StateSucceeded)
	mk("wa", "web", 2, deploy.StateRolledBack)
	mk("wb", "web", 2, deploy.StateFailed)
	mk("w3", "web", 3, deploy.StateShifting)
	mk("a1", "api", 4, deploy.StatePending)
	for _, c := range []struct {
		f    deploy.ListFilter
		want []string
	}{
		{deploy.ListFilter{}, []string{"a1", "w3", "wb", "wa", "w1"}},
		{deploy.ListFilter{Service: "web"}, []string{"w3", "wb", "wa", "w1"}},
		{deploy.ListFilter{ActiveOnly: true}, []string{"a1", "w3"}},
		{deploy.ListFilter{Service: "web", ActiveOnly: true}, []string{"w3"}},
		{deploy.ListFilter{Service: "web", Limit: 2}, []string{"w3", "wb"}},
		{deploy.ListFilter{ActiveOnly: true, Limit: 1}, []string{"a1"}},
		{deploy.ListFilter{Service: "none"}, []string{}},
	} {
		list, err := s.ListDeployments(ctx, c.f)
		if err != nil {
			t.Fatal(err)
		}
		ids := []string{}
		for _, d := range list {
			ids = append(ids, d.ID)
		}
		if !reflect.DeepEqual(ids, c.want) {
			t.Errorf("List(%+v) = %v, want %v", c.f, ids, c.want)
		}
	}
}

func TestEnsureTableIdempotent(t *testing.T) {
	s, c := newStore(t)
	if err := EnsureTable(emulator.Context(t, 30*time.Second), c, s.table); err != nil {
		t.Fatalf("second EnsureTable: %v", err)
	}
}
