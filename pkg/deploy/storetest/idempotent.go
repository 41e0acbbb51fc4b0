package storetest

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// These checks pin issue 7's "a store write whose outcome is ambiguous never leaves an active
// deployment without a driver": a write that committed although its caller saw an error is retried
// with the identical record, and the retry must succeed without writing anything new.

func activeDeploymentPointRead(t *testing.T, s deploy.Store) {
	ctx := context.Background()
	_, err := s.ActiveDeployment(ctx, "web")
	AssertKind(t, err, deploy.KindNotFound)

	old := Pending("d-0", "web", 0)
	old.State = deploy.StateSucceeded
	d := Pending("d-1", "web", 1)
	for _, x := range []*deploy.Deployment{old, d, Pending("d-2", "api", 2)} {
		if err := s.CreateDeployment(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	assertActive := func(want *deploy.Deployment) {
		t.Helper()
		got, err := s.ActiveDeployment(ctx, "web")
		if err != nil {
			t.Fatalf("ActiveDeployment: %v", err)
		}
		if !reflect.DeepEqual(got, Stored(want)) {
			t.Fatalf("ActiveDeployment\n got: %+v\nwant: %+v", got, Stored(want))
		}
	}
	assertActive(d)
	// An update is seen at once: a point read, not an eventually consistent index.
	d.State, d.Reason = deploy.StateShifting, "moving"
	if err := s.UpdateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	assertActive(d)
	d.State = deploy.StateRolledBack
	if err := s.UpdateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	_, err = s.ActiveDeployment(ctx, "web")
	AssertKind(t, err, deploy.KindNotFound)
	if got, err := s.ActiveDeployment(ctx, "api"); err != nil || got.ID != "d-2" {
		t.Fatalf("other service: %+v, %v", got, err)
	}
	next := Pending("d-3", "web", 3)
	if err := s.CreateDeployment(ctx, next); err != nil {
		t.Fatal(err)
	}
	assertActive(next)
}

func retriedCreateIdempotent(t *testing.T, s deploy.Store) {
	ctx := context.Background()
	a := Ambiguous(s)
	d := Pending("d-1", "web", 0)
	a.FailAfterCommit(OpCreate, 1)
	AssertKind(t, a.CreateDeployment(ctx, d), deploy.KindUnavailable)
	if d.Version != 0 || a.Injected(OpCreate) != 1 {
		t.Fatalf("after an ambiguous create: Version %d, injected %d", d.Version, a.Injected(OpCreate))
	}
	if err := a.CreateDeployment(ctx, d); err != nil {
		t.Fatalf("retried create: %v", err)
	}
	if d.Version != 1 {
		t.Fatalf("Version after retried create = %d, want 1", d.Version)
	}
	if got, err := s.ActiveDeployment(ctx, "web"); err != nil || !reflect.DeepEqual(got, Stored(d)) {
		t.Fatalf("active after retried create: %+v, %v", got, err)
	}
	// The retry did not bump the record: the next update is from version 1.
	d.State = deploy.StatePreparing
	if err := s.UpdateDeployment(ctx, d); err != nil || d.Version != 2 {
		t.Fatalf("update after retried create: version %d, %v", d.Version, err)
	}

	// A create of the same id with other content is still a conflict, and so is another deployment.
	other := Pending("d-1", "web", 0)
	other.ImageTag = "v2"
	AssertKind(t, s.CreateDeployment(ctx, other), deploy.KindConflict)
	assertLocked(t, s.CreateDeployment(ctx, Pending("d-2", "web", 1)), "d-1")
	// The record as created, now at version 2, is not a retry of the create either.
	AssertKind(t, s.CreateDeployment(ctx, Pending("d-1", "web", 0)), deploy.KindConflict)

	// A terminal create has no lock to compare, only its record.
	done := Pending("t-1", "api", 0)
	done.State = deploy.StateFailed
	a.FailAfterCommit(OpCreate, 1)
	AssertKind(t, a.CreateDeployment(ctx, done), deploy.KindUnavailable)
	if err := a.CreateDeployment(ctx, done); err != nil || done.Version != 1 {
		t.Fatalf("retried terminal create: version %d, %v", done.Version, err)
	}
}

func retriedUpdateIdempotent(t *testing.T, s deploy.Store) {
	ctx := context.Background()
	a := Ambiguous(s)
	d := Pending("d-1", "web", 0)
	if err := s.CreateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	d.State, d.UpdatedAt = deploy.StateShifting, d.UpdatedAt.Add(time.Second)
	d.Intended = &deploy.Weights{Blue: 899, Green: 100}
	a.FailAfterCommit(OpUpdate, 1)
	AssertKind(t, a.UpdateDeployment(ctx, d), deploy.KindUnavailable)
	if d.Version != 1 {
		t.Fatalf("ambiguous update left Version %d, want 1", d.Version)
	}

	// Another record at the same version is a real conflict, even one that differs only in UpdatedAt.
	c := *d
	c.UpdatedAt = c.UpdatedAt.Add(time.Nanosecond)
	AssertKind(t, s.UpdateDeployment(ctx, &c), deploy.KindConflict)
	c = *d
	c.Intended = &deploy.Weights{Blue: 799, Green: 200}
	AssertKind(t, s.UpdateDeployment(ctx, &c), deploy.KindConflict)
	if c.Version != 1 {
		t.Fatalf("conflicting update changed Version to %d", c.Version)
	}

	// The identical record is the retry.
	if err := a.UpdateDeployment(ctx, d); err != nil {
		t.Fatalf("retried update: %v", err)
	}
	if d.Version != 2 {
		t.Fatalf("Version after retried update = %d, want 2", d.Version)
	}
	got, err := s.GetDeployment(ctx, "d-1")
	if err != nil || !reflect.DeepEqual(got, Stored(d)) {
		t.Fatalf("stored after retried update: %+v, %v; want %+v", got, err, Stored(d))
	}

	// A record two versions behind is stale even with the stored content.
	behind := *d
	d.Reason = "next"
	if err := s.UpdateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	d.Reason = ""
	if err := s.UpdateDeployment(ctx, d); err != nil { // back to behind's content, at version 4
		t.Fatal(err)
	}
	behind.Version = 2
	AssertKind(t, s.UpdateDeployment(ctx, &behind), deploy.KindConflict)

	// A terminal update retried after it released the lock, even once another deployment took it.
	d.State = deploy.StateRolledBack
	a.FailAfterCommit(OpUpdate, 1)
	AssertKind(t, a.UpdateDeployment(ctx, d), deploy.KindUnavailable)
	if err := s.CreateDeployment(ctx, Pending("d-2", "web", 5)); err != nil {
		t.Fatalf("lock not released by the ambiguous terminal update: %v", err)
	}
	if err := a.UpdateDeployment(ctx, d); err != nil || d.Version != 5 {
		t.Fatalf("retried terminal update: version %d, %v", d.Version, err)
	}
	if got, err := s.ActiveDeployment(ctx, "web"); err != nil || got.ID != "d-2" {
		t.Fatalf("retried terminal update touched the new holder's lock: %+v, %v", got, err)
	}
}

func retriedAppendIdempotent(t *testing.T, s deploy.Store) {
	ctx := context.Background()
	a := Ambiguous(s)
	ev := func(id, action string) *deploy.Event {
		return &deploy.Event{ID: id, DeploymentID: "d-1", Service: "web", Actor: deploy.ActorController, Action: action,
			Time: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	}
	first := ev("", "create")
	if err := s.AppendEvent(ctx, first); err != nil {
		t.Fatal(err)
	}
	e := ev("ev-1", "weights.intend")
	a.FailAfterCommit(OpAppend, 1)
	AssertKind(t, a.AppendEvent(ctx, e), deploy.KindUnavailable)
	if e.Seq != 0 {
		t.Fatalf("ambiguous append left Seq %d", e.Seq)
	}
	if err := a.AppendEvent(ctx, e); err != nil {
		t.Fatalf("retried append: %v", err)
	}
	if e.Seq <= first.Seq {
		t.Fatalf("Seq %d not after %d", e.Seq, first.Seq)
	}
	seq := e.Seq
	// Again, and concurrently: always the stored seq.
	var wg sync.WaitGroup
	errs := make([]error, 5)
	seqs := make([]int64, 5)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := ev("ev-1", "weights.intend")
			errs[i], seqs[i] = s.AppendEvent(ctx, x), x.Seq
		}()
	}
	wg.Wait()
	for i := range errs {
		if errs[i] != nil || seqs[i] != seq {
			t.Fatalf("repeated append %d: seq %d, %v; want %d", i, seqs[i], errs[i], seq)
		}
	}
	// Events without an id are never merged; later events sort after the retried one.
	last := ev("", "create")
	if err := s.AppendEvent(ctx, last); err != nil {
		t.Fatal(err)
	}
	if last.Seq <= seq {
		t.Fatalf("seq %d after the retried append's %d", last.Seq, seq)
	}
	got, err := s.Events(ctx, "d-1", 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, g := range got {
		ids = append(ids, g.ID+"@"+g.Action)
	}
	if want := []string{"@create", "ev-1@weights.intend", "@create"}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("events %v, want %v", ids, want)
	}
	if got[1].Seq != seq {
		t.Fatalf("stored seq %d, returned %d", got[1].Seq, seq)
	}
	// An id already used for another deployment's event is a conflict, and stores nothing.
	stolen := ev("ev-1", "create")
	stolen.DeploymentID = "d-2"
	AssertKind(t, s.AppendEvent(ctx, stolen), deploy.KindConflict)
	if evs, err := s.Events(ctx, "d-2", 0); err != nil || len(evs) != 0 {
		t.Fatalf("conflicting event stored: %+v, %v", evs, err)
	}
}

func failBeforeCommitWritesNothing(t *testing.T, s deploy.Store) {
	ctx := context.Background()
	a := Ambiguous(s)
	a.FailBeforeCommit(OpCreate, 1)
	a.FailBeforeCommit(OpAppend, 1)
	d := Pending("d-1", "web", 0)
	AssertKind(t, a.CreateDeployment(ctx, d), deploy.KindUnavailable)
	if _, err := s.GetDeployment(ctx, "d-1"); deploy.KindOf(err) != deploy.KindNotFound {
		t.Fatalf("failed-before-commit create was stored: %v", err)
	}
	e := &deploy.Event{ID: "ev-1", DeploymentID: "d-1", Action: "create"}
	AssertKind(t, a.AppendEvent(ctx, e), deploy.KindUnavailable)
	if evs, err := s.Events(ctx, "d-1", 0); err != nil || len(evs) != 0 {
		t.Fatalf("failed-before-commit event stored: %+v, %v", evs, err)
	}
	if err := a.CreateDeployment(ctx, d); err != nil || d.Version != 1 {
		t.Fatalf("create after the injected failure: version %d, %v", d.Version, err)
	}
	a.FailBeforeCommit(OpUpdate, 1)
	d.State = deploy.StatePreparing
	AssertKind(t, a.UpdateDeployment(ctx, d), deploy.KindUnavailable)
	if got, _ := s.GetDeployment(ctx, "d-1"); got == nil || got.Version != 1 || got.State != deploy.StatePending {
		t.Fatalf("failed-before-commit update was stored: %+v", got)
	}
	if err := a.UpdateDeployment(ctx, d); err != nil || d.Version != 2 {
		t.Fatalf("update after the injected failure: version %d, %v", d.Version, err)
	}
	if a.Injected(OpCreate) != 1 || a.Injected(OpUpdate) != 1 || a.Injected(OpAppend) != 1 {
		t.Fatalf("injected %d/%d/%d, want one each", a.Injected(OpCreate), a.Injected(OpUpdate), a.Injected(OpAppend))
	}

	// A planned failure after commit waits for a write that commits: a refused one keeps it.
	a.FailAfterCommit(OpUpdate, 1)
	stale := *d
	stale.Version, stale.Reason = 1, "stale"
	AssertKind(t, a.UpdateDeployment(ctx, &stale), deploy.KindConflict)
	if a.Injected(OpUpdate) != 1 {
		t.Fatalf("a refused write used up the planned failure")
	}
	d.State = deploy.StateShifting
	AssertKind(t, a.UpdateDeployment(ctx, d), deploy.KindUnavailable)
	if got, _ := s.GetDeployment(ctx, "d-1"); got == nil || got.Version != 3 || d.Version != 2 || a.Injected(OpUpdate) != 2 {
		t.Fatalf("after the planned failure: stored %+v, caller at version %d", got, d.Version)
	}
}
