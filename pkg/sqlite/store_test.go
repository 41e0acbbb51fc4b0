package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

func openTemp(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state", "switchyard.db")
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

// full returns a deployment with every field set to a non-zero value, its times in a non-UTC zone
// with nanoseconds.
func full(id, service string) *deploy.Deployment {
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	at := func(sec int) *time.Time {
		t := time.Date(2025, 3, 14, 15, 9, 26, 535897932, zone).Add(time.Duration(sec) * time.Second)
		return &t
	}
	return &deploy.Deployment{
		ID:      id,
		Service: service,
		Spec: deploy.Service{
			Name: service, Cluster: "prod", Container: "app",
			ImageRepository: "123456789012.dkr.ecr.us-east-1.amazonaws.com/web",
			ECSServices:     map[deploy.Slot]string{deploy.SlotBlue: "web-blue", deploy.SlotGreen: "web-green"},
			TargetGroups:    map[deploy.Slot]string{deploy.SlotBlue: "arn:tg/blue", deploy.SlotGreen: "arn:tg/green"},
			Routes:          []deploy.Route{{ListenerARN: "arn:listener/1"}, {ListenerARN: "arn:listener/1", RuleARN: "arn:rule/9"}},
			Alarms:          []string{"web-5xx", "web-latency"},
			SlotAlarms:      map[deploy.Slot][]string{deploy.SlotGreen: {"web-green-5xx"}},
			Strategy:        deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 10, Bake: deploy.Duration(time.Minute)},
			DeregDelay:      deploy.Duration(30 * time.Second),
			ReadyTimeout:    deploy.Duration(10 * time.Minute),
			StepTimeout:     deploy.Duration(time.Minute),
			UnhealthyAfter:  deploy.Duration(20 * time.Second),
			UnhealthyMax:    1,
		},
		ImageTag: "v1.2.3",
		Image:    "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v1.2.3",
		Strategy: deploy.Strategy{
			Type: deploy.StrategySteps, CanaryPercent: 0.5, LinearSteps: 3, Bake: deploy.Duration(1500 * time.Millisecond),
			Steps: []deploy.Step{{Percent: 0.5, Bake: deploy.Duration(time.Minute)}, {Percent: 100}},
		},
		Steps:             []deploy.Step{{Percent: 0.5, Bake: deploy.Duration(time.Minute + 1)}, {Percent: 33.333}, {Percent: 100}},
		State:             deploy.StatePaused,
		PausedFrom:        deploy.StateShifting,
		Step:              1,
		From:              deploy.SlotBlue,
		To:                deploy.SlotGreen,
		PreviousTaskDef:   "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7",
		TaskDef:           "arn:aws:ecs:us-east-1:123456789012:task-definition/web:8",
		PreviousToTaskDef: "arn:aws:ecs:us-east-1:123456789012:task-definition/web:6",
		DesiredCount:      3,
		Weights:           deploy.Weights{Blue: 994, Green: 5},
		Intended:          &deploy.Weights{Blue: 666, Green: 333},
		Cause:             deploy.CauseAlarm,
		Reason:            "5xx alarm \"web-5xx\" fired",
		Promote:           true,
		CreatedBy:         "ci-token",
		Guard:             []deploy.AlarmState{{Name: "web-5xx", State: "OK", UpdatedAt: *at(-1)}},
		CreatedAt:         *at(0),
		UpdatedAt:         *at(1),
		StepStartedAt:     at(2),
		ShiftedAt:         at(3),
		FinishedAt:        at(4),
		Version:           42, // ignored by CreateDeployment
	}
}

// pending returns a minimal active deployment created at sec seconds past a fixed instant.
func pending(id, service string, sec int) *deploy.Deployment {
	t := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(sec) * time.Second)
	return &deploy.Deployment{ID: id, Service: service, ImageTag: "v1", State: deploy.StatePending, Step: -1,
		CreatedAt: t, UpdatedAt: t}
}

// utc returns a copy of d as the store returns it: every time in UTC, Guard (never stored) dropped.
func utc(d *deploy.Deployment) *deploy.Deployment {
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

func TestRoundTripEveryField(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	d := full("d-1", "web")

	// Guard the fixture itself: a field added to Deployment later must be set here to be covered.
	for _, v := range []reflect.Value{reflect.ValueOf(*d), reflect.ValueOf(d.Spec)} {
		for i := range v.NumField() {
			if v.Field(i).IsZero() {
				t.Fatalf("fixture leaves %s.%s zero; set it so the round trip covers it", v.Type().Name(), v.Type().Field(i).Name)
			}
		}
	}

	if err := s.CreateDeployment(ctx, d); err != nil {
		t.Fatalf("CreateDeployment: %v", err)
	}
	if d.Version != 1 {
		t.Fatalf("Version after create = %d, want 1", d.Version)
	}
	got, err := s.GetDeployment(ctx, "d-1")
	if err != nil {
		t.Fatalf("GetDeployment: %v", err)
	}
	if want := utc(d); !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip mismatch\n got: %+v\nwant: %+v", got, want)
	}
	if !got.CreatedAt.Equal(d.CreatedAt) || got.CreatedAt.Nanosecond() != 535897932 {
		t.Fatalf("CreatedAt %v lost precision (wrote %v)", got.CreatedAt, d.CreatedAt)
	}

	// And through an update.
	d.Steps = nil
	d.Intended = nil
	d.State = deploy.StateSucceeded
	d.FinishedAt = nil
	if err := s.UpdateDeployment(ctx, d); err != nil {
		t.Fatalf("UpdateDeployment: %v", err)
	}
	if d.Version != 2 {
		t.Fatalf("Version after update = %d, want 2", d.Version)
	}
	got, err = s.GetDeployment(ctx, "d-1")
	if err != nil {
		t.Fatalf("GetDeployment: %v", err)
	}
	if want := utc(d); !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip after update mismatch\n got: %+v\nwant: %+v", got, want)
	}
}

func TestGetUnknownIsNotFound(t *testing.T) {
	s, _ := openTemp(t)
	_, err := s.GetDeployment(context.Background(), "nope")
	assertKind(t, err, deploy.KindNotFound)
}

func TestSecondActiveDeploymentConflicts(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	first := pending("d-1", "web", 0)
	if err := s.CreateDeployment(ctx, first); err != nil {
		t.Fatal(err)
	}
	// Another service is independent.
	if err := s.CreateDeployment(ctx, pending("d-2", "api", 1)); err != nil {
		t.Fatalf("other service: %v", err)
	}
	second := pending("d-3", "web", 2)
	err := s.CreateDeployment(ctx, second)
	assertKind(t, err, deploy.KindConflict)
	if got := deploy.ActiveIDOf(err); got != "d-1" {
		t.Fatalf("ActiveID = %q, want d-1 (err %v)", got, err)
	}
	if second.Version != 0 {
		t.Fatalf("failed create set Version to %d", second.Version)
	}
	if _, err := s.GetDeployment(ctx, "d-3"); deploy.KindOf(err) != deploy.KindNotFound {
		t.Fatalf("rejected deployment was stored: %v", err)
	}

	// A duplicate id is a conflict too, without an ActiveID when the service is free.
	dup := pending("d-2", "other", 3)
	err = s.CreateDeployment(ctx, dup)
	assertKind(t, err, deploy.KindConflict)
	if got := deploy.ActiveIDOf(err); got != "" {
		t.Fatalf("duplicate id conflict carries ActiveID %q", got)
	}
}

func TestTerminalDeploymentFreesService(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	d := pending("d-1", "web", 0)
	if err := s.CreateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	for _, st := range []deploy.State{deploy.StatePreparing, deploy.StateShifting, deploy.StateRollingBack} {
		d.State = st
		if err := s.UpdateDeployment(ctx, d); err != nil {
			t.Fatalf("update to %s: %v", st, err)
		}
		assertKind(t, s.CreateDeployment(ctx, pending("x-"+string(st), "web", 1)), deploy.KindConflict)
	}
	d.State = deploy.StateRolledBack
	if err := s.UpdateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	next := pending("d-2", "web", 2)
	if err := s.CreateDeployment(ctx, next); err != nil {
		t.Fatalf("service not freed by terminal state: %v", err)
	}

	// Re-activating the old deployment must not steal the lock.
	d.State = deploy.StateShifting
	err := s.UpdateDeployment(ctx, d)
	assertKind(t, err, deploy.KindConflict)
	if got := deploy.ActiveIDOf(err); got != "d-2" {
		t.Fatalf("ActiveID = %q, want d-2", got)
	}
	if d.Version != 5 {
		t.Fatalf("failed update changed Version to %d", d.Version)
	}

	// A deployment created already terminal does not take the lock either.
	done := pending("d-3", "web", 3)
	done.State = deploy.StateFailed
	if err := s.CreateDeployment(ctx, done); err != nil {
		t.Fatalf("terminal create: %v", err)
	}
}

func TestConcurrentCreateOneWins(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	const n = 20
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make([]error, n)
	)
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
		if err == nil {
			if winner != "" {
				t.Fatalf("two creates succeeded: %s and d-%02d", winner, i)
			}
			winner = fmt.Sprintf("d-%02d", i)
		}
	}
	if winner == "" {
		t.Fatalf("no create succeeded: %v", errs)
	}
	for _, err := range errs {
		if err == nil {
			continue
		}
		assertKind(t, err, deploy.KindConflict)
		if got := deploy.ActiveIDOf(err); got != winner {
			t.Fatalf("ActiveID = %q, want winner %s", got, winner)
		}
	}
	list, err := s.ListDeployments(ctx, deploy.ListFilter{Service: "web"})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != winner {
		t.Fatalf("stored %d deployments, want only %s", len(list), winner)
	}
}

func TestConcurrentCreateAcrossProcesses(t *testing.T) {
	// Two Stores on one file stand in for two daemons: the unique index, not the Go-side connection
	// limit, must keep the lock.
	ctx := context.Background()
	a, path := openTemp(t)
	b, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var (
		wg   sync.WaitGroup
		errs [2][10]error
	)
	for i, s := range []*Store{a, b} {
		for j := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i][j] = s.CreateDeployment(ctx, pending(fmt.Sprintf("d-%d-%d", i, j), "web", j))
			}()
		}
	}
	wg.Wait()
	ok := 0
	for i := range errs {
		for _, err := range errs[i] {
			switch {
			case err == nil:
				ok++
			case deploy.KindOf(err) != deploy.KindConflict:
				t.Errorf("unexpected error: %v", err)
			}
		}
	}
	if ok != 1 {
		t.Fatalf("%d creates succeeded, want exactly 1", ok)
	}
}

func TestStaleUpdateConflicts(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	d := pending("d-1", "web", 0)
	if err := s.CreateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	a, _ := s.GetDeployment(ctx, "d-1")
	b, _ := s.GetDeployment(ctx, "d-1")
	a.State = deploy.StatePreparing
	if err := s.UpdateDeployment(ctx, a); err != nil {
		t.Fatalf("first update: %v", err)
	}
	if a.Version != 2 {
		t.Fatalf("Version = %d, want 2", a.Version)
	}
	b.Reason = "stale writer"
	err := s.UpdateDeployment(ctx, b)
	assertKind(t, err, deploy.KindConflict)
	if b.Version != 1 {
		t.Fatalf("failed update changed Version to %d", b.Version)
	}
	got, _ := s.GetDeployment(ctx, "d-1")
	if got.Reason != "" || got.State != deploy.StatePreparing || got.Version != 2 {
		t.Fatalf("stale write leaked: %+v", got)
	}

	missing := pending("nope", "web", 0)
	missing.Version = 1
	assertKind(t, s.UpdateDeployment(ctx, missing), deploy.KindNotFound)
}

func TestEventsOrderAndAfter(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	zone := time.FixedZone("EST", -5*3600)
	var seqs []int64
	var written []deploy.Event
	for i := range 6 {
		id := "d-1"
		if i%2 == 1 {
			id = "d-2"
		}
		e := deploy.Event{DeploymentID: id, Service: "web", Actor: deploy.ActorController, Action: fmt.Sprintf("a%d", i),
			Time: time.Date(2025, 1, 1, 0, 0, i, 123456789, zone), State: deploy.StateShifting}
		if i == 2 {
			e.Reason, e.Detail = "weights", map[string]string{"blue": "499", "green": "500"}
		}
		if err := s.AppendEvent(ctx, &e); err != nil {
			t.Fatalf("AppendEvent: %v", err)
		}
		if len(seqs) > 0 && e.Seq <= seqs[len(seqs)-1] {
			t.Fatalf("seq %d not increasing after %d", e.Seq, seqs[len(seqs)-1])
		}
		seqs = append(seqs, e.Seq)
		if id == "d-1" {
			e.Time = e.Time.UTC()
			written = append(written, e)
		}
	}
	got, err := s.Events(ctx, "d-1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, written) {
		t.Fatalf("events mismatch\n got: %+v\nwant: %+v", got, written)
	}
	got, err = s.Events(ctx, "d-1", written[0].Seq)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, written[1:]) {
		t.Fatalf("after %d: got %+v, want %+v", written[0].Seq, got, written[1:])
	}
	got, err = s.Events(ctx, "d-1", written[2].Seq)
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("after last: got %v, %v; want empty non-nil slice", got, err)
	}
	got, err = s.Events(ctx, "unknown", 0)
	if err != nil || len(got) != 0 {
		t.Fatalf("unknown deployment: %v, %v", got, err)
	}
	assertKind(t, s.AppendEvent(ctx, &deploy.Event{DeploymentID: "d-1"}), deploy.KindInvalid)
}

func TestMigrationsIdempotentAndNewerRefused(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		s, err := Open(path)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		var n, max int
		if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &max); err != nil {
			t.Fatal(err)
		}
		if n != SchemaVersion() || max != SchemaVersion() {
			t.Fatalf("schema_migrations has %d rows up to %d, want %d", n, max, SchemaVersion())
		}
		s.Close()
	}

	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, 'future')`, SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	_, err = Open(path)
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open of a newer schema: %v, want ErrSchemaTooNew", err)
	}
	assertKind(t, err, deploy.KindPrecondition)
	t.Logf("refusal reads: %v", err)
}

func TestMigrationFailureLeavesPreviousVersion(t *testing.T) {
	ctx := context.Background()
	_, path := openTemp(t)
	saved := migrations
	t.Cleanup(func() { migrations = saved })
	migrations = append(append([]string(nil), saved...),
		`CREATE TABLE extra (x INTEGER); INSERT INTO no_such_table VALUES (1);`)
	if _, err := Open(path); err == nil {
		t.Fatal("Open with a failing migration succeeded")
	}
	migrations = saved
	s, err := Open(path)
	if err != nil {
		t.Fatalf("reopen at the old version: %v", err)
	}
	defer s.Close()
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE name = 'extra'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatal("half of the failed migration was committed")
	}
}

func TestDataSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	d := full("d-1", "web")
	if err := s.CreateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	d.Intended = &deploy.Weights{Blue: 0, Green: 999}
	if err := s.UpdateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	e := deploy.Event{DeploymentID: "d-1", Service: "web", Action: "weights.intend", Time: time.Now()}
	if err := s.AppendEvent(ctx, &e); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got, err := s2.GetDeployment(ctx, "d-1")
	if err != nil {
		t.Fatal(err)
	}
	if want := utc(d); !reflect.DeepEqual(got, want) {
		t.Fatalf("after reopen\n got: %+v\nwant: %+v", got, want)
	}
	// The lock survives too.
	assertKind(t, s2.CreateDeployment(ctx, pending("d-2", "web", 9)), deploy.KindConflict)
	evs, err := s2.Events(ctx, "d-1", 0)
	if err != nil || len(evs) != 1 || evs[0].Seq != e.Seq || !evs[0].Time.Equal(e.Time) {
		t.Fatalf("events after reopen: %+v, %v", evs, err)
	}
	// Seq is never reused after a restart.
	e2 := deploy.Event{DeploymentID: "d-1", Action: "resume"}
	if err := s2.AppendEvent(ctx, &e2); err != nil {
		t.Fatal(err)
	}
	if e2.Seq <= e.Seq {
		t.Fatalf("seq %d after restart not above %d", e2.Seq, e.Seq)
	}
}

func TestListFilter(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	// web: w1 (oldest, terminal), w2 (terminal), w3 (active); api: a1 (active). wa and wb share a
	// created_at to pin the id tie-break.
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

	ids := func(f deploy.ListFilter) []string {
		t.Helper()
		list, err := s.ListDeployments(ctx, f)
		if err != nil {
			t.Fatalf("List(%+v): %v", f, err)
		}
		out := []string{}
		for _, d := range list {
			out = append(out, d.ID)
		}
		return out
	}
	cases := []struct {
		f    deploy.ListFilter
		want []string
	}{
		{deploy.ListFilter{}, []string{"a1", "w3", "wb", "wa", "w1"}},
		{deploy.ListFilter{Service: "web"}, []string{"w3", "wb", "wa", "w1"}},
		{deploy.ListFilter{ActiveOnly: true}, []string{"a1", "w3"}},
		{deploy.ListFilter{Service: "web", ActiveOnly: true}, []string{"w3"}},
		{deploy.ListFilter{Service: "web", Limit: 2}, []string{"w3", "wb"}},
		{deploy.ListFilter{Service: "none"}, []string{}},
	}
	for _, c := range cases {
		if got := ids(c.f); !reflect.DeepEqual(got, c.want) {
			t.Errorf("List(%+v) = %v, want %v", c.f, got, c.want)
		}
	}
	_, err := s.ListDeployments(ctx, deploy.ListFilter{Limit: -1})
	assertKind(t, err, deploy.KindInvalid)
}

func TestListLimits(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	for i := range maxListLimit + 5 {
		d := pending(fmt.Sprintf("d-%04d", i), "web", i)
		d.State = deploy.StateSucceeded
		if err := s.CreateDeployment(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ limit, want int }{{0, defaultListLimit}, {maxListLimit + 1, maxListLimit}, {7, 7}} {
		list, err := s.ListDeployments(ctx, deploy.ListFilter{Limit: c.limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != c.want {
			t.Errorf("limit %d returned %d, want %d", c.limit, len(list), c.want)
		}
		if list[0].ID != fmt.Sprintf("d-%04d", maxListLimit+4) {
			t.Errorf("limit %d: first is %s, want the newest", c.limit, list[0].ID)
		}
	}
}

func TestPragmas(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	for _, c := range []struct {
		db     *sql.DB
		pragma string
		want   string
	}{
		{s.w, "journal_mode", "wal"},
		{s.w, "synchronous", "2"}, // FULL
		{s.w, "foreign_keys", "1"},
		{s.w, "busy_timeout", "5000"},
		{s.r, "query_only", "1"},
		{s.r, "busy_timeout", "5000"},
	} {
		var got string
		if err := c.db.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", c.pragma, err)
		}
		if got != c.want {
			t.Errorf("PRAGMA %s = %s, want %s", c.pragma, got, c.want)
		}
	}
}

func TestOpenRejectsBadPaths(t *testing.T) {
	for _, p := range []string{"", "/tmp/a?mode=ro"} {
		_, err := Open(p)
		assertKind(t, err, deploy.KindInvalid)
	}
}

func TestInMemory(t *testing.T) {
	ctx := context.Background()
	s, err := Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateDeployment(ctx, pending("d-1", "web", 0)); err != nil {
		t.Fatal(err)
	}
	assertKind(t, s.CreateDeployment(ctx, pending("d-2", "web", 1)), deploy.KindConflict)
	if _, err := s.GetDeployment(ctx, "d-1"); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkUpdateDeployment(b *testing.B) {
	ctx := context.Background()
	s, _ := openTemp(b)
	d := full("d-1", "web")
	if err := s.CreateDeployment(ctx, d); err != nil {
		b.Fatal(err)
	}
	w := 0
	for b.Loop() {
		w = (w + 1) % deploy.MaxWeight
		d.Intended = &deploy.Weights{Blue: deploy.MaxWeight - w, Green: w}
		if err := s.UpdateDeployment(ctx, d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendEvent(b *testing.B) {
	ctx := context.Background()
	s, _ := openTemp(b)
	for b.Loop() {
		e := deploy.Event{DeploymentID: "d-1", Service: "web", Actor: deploy.ActorController, Action: "weights.set",
			Time: time.Now(), Detail: map[string]string{"blue": "499", "green": "500"}}
		if err := s.AppendEvent(ctx, &e); err != nil {
			b.Fatal(err)
		}
	}
}
