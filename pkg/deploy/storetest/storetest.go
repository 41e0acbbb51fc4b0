// Package storetest is the conformance suite of deploy.Store: the checks every store (package sqlite,
// package dynamo, any later one) must pass, written once so that the stores cannot drift apart. A
// store's own tests call Run and keep only what is specific to that store (schema, files, tables).
// A store's tests implement RawWriter (in a _test file) so that Run can plant records the store would
// refuse. Ambiguous wraps any store to fail chosen writes before or after they commit, for the
// controller's tests of ambiguous store outcomes.
package storetest

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// Run runs the contract checks as subtests of t. open returns an empty store for one subtest; Run
// closes it when the subtest ends and fails the subtest if Close does.
func Run(t *testing.T, open func(t *testing.T) deploy.Store) {
	for _, c := range []struct {
		name string
		run  func(t *testing.T, s deploy.Store)
	}{
		{"RoundTripEveryField", roundTripEveryField},
		{"GetUnknownIsNotFound", getUnknownIsNotFound},
		{"InvalidInputRefused", invalidInputRefused},
		{"SecondActiveDeploymentConflicts", secondActiveDeploymentConflicts},
		{"TerminalDeploymentFreesService", terminalDeploymentFreesService},
		{"ConcurrentCreateOneWins", concurrentCreateOneWins},
		{"StaleUpdateConflicts", staleUpdateConflicts},
		{"EventsOrderAndAfter", eventsOrderAndAfter},
		{"ListFilter", listFilter},
		{"ListLimits", listLimits},
		{"ActiveDeploymentPointRead", activeDeploymentPointRead},
		{"RetriedCreateIdempotent", retriedCreateIdempotent},
		{"RetriedUpdateIdempotent", retriedUpdateIdempotent},
		{"RetriedAppendIdempotent", retriedAppendIdempotent},
		{"FailBeforeCommitWritesNothing", failBeforeCommitWritesNothing},
		{"UnreadableWriteRefused", unreadableWriteRefused},
		{"BadRecordQuarantined", badRecordQuarantined},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			c.run(t, s)
		})
	}
}

func roundTripEveryField(t *testing.T, s deploy.Store) {
	ctx := context.Background()
	d := Full("d-1", "web")

	// Guard the fixture itself: a field added to Deployment later must be set here to be covered.
	for _, v := range []reflect.Value{reflect.ValueOf(*d), reflect.ValueOf(d.Spec)} {
		for i := range v.NumField() {
			// Quarantine is set only by a store on read; a write carrying it is refused.
			if v.Field(i).IsZero() && v.Type().Field(i).Name != "Quarantine" {
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
	if want := Stored(d); !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip mismatch\n got: %+v\nwant: %+v", got, want)
	}
	if !got.CreatedAt.Equal(d.CreatedAt) || got.CreatedAt.Nanosecond() != 535897932 {
		t.Fatalf("CreatedAt %v lost precision (wrote %v)", got.CreatedAt, d.CreatedAt)
	}

	// And through an update.
	d.Steps, d.Step = nil, -1
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
	if want := Stored(d); !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip after update mismatch\n got: %+v\nwant: %+v", got, want)
	}
}

func getUnknownIsNotFound(t *testing.T, s deploy.Store) {
	_, err := s.GetDeployment(context.Background(), "nope")
	AssertKind(t, err, deploy.KindNotFound)
}

func invalidInputRefused(t *testing.T, s deploy.Store) {
	ctx := context.Background()
	bad := map[string]*deploy.Deployment{"nil": nil}
	for name, edit := range map[string]func(d *deploy.Deployment){
		"no id":      func(d *deploy.Deployment) { d.ID = "" },
		"no service": func(d *deploy.Deployment) { d.Service = "" },
		"no state":   func(d *deploy.Deployment) { d.State = "" },
	} {
		d := Pending("d-1", "web", 0)
		edit(d)
		bad[name] = d
	}
	for name, d := range bad {
		AssertKind(t, s.CreateDeployment(ctx, d), deploy.KindInvalid)
		if d != nil {
			d.Version = 1
		}
		AssertKind(t, s.UpdateDeployment(ctx, d), deploy.KindInvalid)
		if d != nil && d.Version != 1 {
			t.Fatalf("%s: refused update changed Version to %d", name, d.Version)
		}
	}
	// Nothing was stored, so the service is free.
	if err := s.CreateDeployment(ctx, Pending("d-1", "web", 0)); err != nil {
		t.Fatalf("create after refused ones: %v", err)
	}

	for _, e := range []*deploy.Event{nil, {Action: "create"}, {DeploymentID: "d-1"}} {
		AssertKind(t, s.AppendEvent(ctx, e), deploy.KindInvalid)
	}
	if evs, err := s.Events(ctx, "d-1", 0); err != nil || len(evs) != 0 {
		t.Fatalf("refused events were stored: %+v, %v", evs, err)
	}
}

func secondActiveDeploymentConflicts(t *testing.T, s deploy.Store) {
	ctx := context.Background()
	first := Pending("d-1", "web", 0)
	if err := s.CreateDeployment(ctx, first); err != nil {
		t.Fatal(err)
	}
	// Another service is independent.
	if err := s.CreateDeployment(ctx, Pending("d-2", "api", 1)); err != nil {
		t.Fatalf("other service: %v", err)
	}
	second := Pending("d-3", "web", 2)
	assertLocked(t, s.CreateDeployment(ctx, second), "d-1")
	if second.Version != 0 {
		t.Fatalf("failed create set Version to %d", second.Version)
	}
	if _, err := s.GetDeployment(ctx, "d-3"); deploy.KindOf(err) != deploy.KindNotFound {
		t.Fatalf("rejected deployment was stored: %v", err)
	}

	// A duplicate id is a conflict too, without an ActiveID when the service is free.
	dup := Pending("d-2", "other", 3)
	err := s.CreateDeployment(ctx, dup)
	AssertKind(t, err, deploy.KindConflict)
	if got := deploy.ActiveIDOf(err); got != "" {
		t.Fatalf("duplicate id conflict carries ActiveID %q", got)
	}
}

func terminalDeploymentFreesService(t *testing.T, s deploy.Store) {
	ctx := context.Background()
	d := Pending("d-1", "web", 0)
	if err := s.CreateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	// Active updates keep the lock.
	for _, st := range []deploy.State{deploy.StatePreparing, deploy.StateShifting, deploy.StateRollingBack} {
		d.State = st
		if err := s.UpdateDeployment(ctx, d); err != nil {
			t.Fatalf("update to %s: %v", st, err)
		}
		assertLocked(t, s.CreateDeployment(ctx, Pending("x-"+string(st), "web", 1)), "d-1")
	}
	d.State = deploy.StateRolledBack
	if err := s.UpdateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	if d.Version != 5 {
		t.Fatalf("Version after four updates = %d, want 5", d.Version)
	}
	next := Pending("d-2", "web", 2)
	if err := s.CreateDeployment(ctx, next); err != nil {
		t.Fatalf("service not freed by terminal state: %v", err)
	}

	// A terminal update of a deployment that does not hold the lock leaves the holder's lock alone.
	d.Reason = "note"
	if err := s.UpdateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	assertLocked(t, s.CreateDeployment(ctx, Pending("d-5", "web", 6)), "d-2")

	// Re-activating the old deployment must not steal the lock.
	d.State = deploy.StateShifting
	assertLocked(t, s.UpdateDeployment(ctx, d), "d-2")
	if d.Version != 6 {
		t.Fatalf("failed update changed Version to %d", d.Version)
	}

	// A deployment created already terminal does not take the lock either.
	done := Pending("d-3", "web", 3)
	done.State = deploy.StateFailed
	if err := s.CreateDeployment(ctx, done); err != nil {
		t.Fatalf("terminal create: %v", err)
	}
	assertLocked(t, s.CreateDeployment(ctx, Pending("d-4", "web", 4)), "d-2")
}

func concurrentCreateOneWins(t *testing.T, s deploy.Store) {
	ctx := context.Background()
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
			errs[i] = s.CreateDeployment(ctx, Pending(fmt.Sprintf("d-%02d", i), "web", i))
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
		if err != nil {
			assertLocked(t, err, winner)
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

func staleUpdateConflicts(t *testing.T, s deploy.Store) {
	ctx := context.Background()
	d := Pending("d-1", "web", 0)
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
	AssertKind(t, err, deploy.KindConflict)
	if b.Version != 1 {
		t.Fatalf("failed update changed Version to %d", b.Version)
	}
	got, _ := s.GetDeployment(ctx, "d-1")
	if got.Reason != "" || got.State != deploy.StatePreparing || got.Version != 2 {
		t.Fatalf("stale write leaked: %+v", got)
	}

	missing := Pending("nope", "web", 0)
	missing.Version = 1
	AssertKind(t, s.UpdateDeployment(ctx, missing), deploy.KindNotFound)
}

func eventsOrderAndAfter(t *testing.T, s deploy.Store) {
	ctx := context.Background()
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
			e.ID, e.Reason, e.Detail = "ev-2", "weights", map[string]string{"blue": "499", "green": "500"}
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
	got, err = s.Events(ctx, "d-1", -1)
	if err != nil || !reflect.DeepEqual(got, written) {
		t.Fatalf("after -1: got %+v, %v; want every event", got, err)
	}
	for i := range 2 {
		got, err = s.Events(ctx, "d-1", written[i].Seq)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, written[i+1:]) {
			t.Fatalf("after %d: got %+v, want %+v", written[i].Seq, got, written[i+1:])
		}
	}
	for _, after := range []int64{written[2].Seq, seqs[len(seqs)-1]} {
		got, err = s.Events(ctx, "d-1", after)
		if err != nil || got == nil || len(got) != 0 {
			t.Fatalf("after %d (last): got %v, %v; want empty non-nil slice", after, got, err)
		}
	}
	got, err = s.Events(ctx, "unknown", 0)
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("unknown deployment: got %v, %v; want empty non-nil slice", got, err)
	}
	AssertKind(t, s.AppendEvent(ctx, &deploy.Event{DeploymentID: "d-1"}), deploy.KindInvalid)
}

func listFilter(t *testing.T, s deploy.Store) {
	ctx := context.Background()
	// web: w1 (oldest, terminal), wa and wb (terminal), w3 (active); api: a1 (active). wa and wb share
	// a created_at to pin the id tie-break.
	mk := func(id, svc string, sec int, st deploy.State) {
		d := Pending(id, svc, sec)
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
		{deploy.ListFilter{ActiveOnly: true, Limit: 1}, []string{"a1"}},
		{deploy.ListFilter{Service: "none"}, []string{}},
	}
	for _, c := range cases {
		if got := ids(c.f); !reflect.DeepEqual(got, c.want) {
			t.Errorf("List(%+v) = %v, want %v", c.f, got, c.want)
		}
	}
	_, err := s.ListDeployments(ctx, deploy.ListFilter{Limit: -1})
	AssertKind(t, err, deploy.KindInvalid)
}

func listLimits(t *testing.T, s deploy.Store) {
	ctx := context.Background()
	for i := range deploy.MaxListLimit + 5 {
		d := Pending(fmt.Sprintf("d-%04d", i), "web", i)
		d.State = deploy.StateSucceeded
		if err := s.CreateDeployment(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ limit, want int }{
		{0, deploy.DefaultListLimit}, {deploy.MaxListLimit + 1, deploy.MaxListLimit}, {7, 7},
	} {
		list, err := s.ListDeployments(ctx, deploy.ListFilter{Limit: c.limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 0 {
			t.Fatalf("limit %d returned nothing", c.limit)
		}
		if len(list) != c.want {
			t.Errorf("limit %d returned %d, want %d", c.limit, len(list), c.want)
		}
		if list[0].ID != fmt.Sprintf("d-%04d", deploy.MaxListLimit+4) {
			t.Errorf("limit %d: first is %s, want the newest", c.limit, list[0].ID)
		}
	}
}
