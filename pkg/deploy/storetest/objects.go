package storetest

import (
	"context"
	"testing"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// RunObjects is the conformance suite of deploy.ObjectStore (freezes, closures, schedules): create,
// conditional replace, delete, list by kind, and the errors each store reports the same way.
func RunObjects(t *testing.T, open func(t *testing.T) deploy.ObjectStore) {
	for _, c := range []struct {
		name string
		run  func(t *testing.T, s deploy.ObjectStore)
	}{
		{"CreateListReplaceDelete", objectsLifecycle},
		{"StaleAndDuplicateConflict", objectsConflict},
		{"InvalidRefused", objectsInvalid},
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t, open(t)) })
	}
}

func objectsLifecycle(t *testing.T, s deploy.ObjectStore) {
	ctx := context.Background()
	f := &deploy.Object{Kind: deploy.ObjectFreeze, ID: "f-2", Body: []byte(`{"reason":"quarter end"}`)}
	g := &deploy.Object{Kind: deploy.ObjectFreeze, ID: "f-1", Body: []byte(`{"reason":"incident"}`)}
	sch := &deploy.Object{Kind: deploy.ObjectSchedule, ID: "nightly", Body: []byte(`{"name":"nightly"}`)}
	for _, o := range []*deploy.Object{f, g, sch} {
		if err := s.PutObject(ctx, o); err != nil {
			t.Fatalf("PutObject %s: %v", o.ID, err)
		}
		if o.Version != 1 {
			t.Fatalf("version after create = %d, want 1", o.Version)
		}
	}
	got, err := s.ListObjects(ctx, deploy.ObjectFreeze)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "f-1" || got[1].ID != "f-2" || string(got[1].Body) != `{"reason":"quarter end"}` || got[1].Version != 1 {
		t.Fatalf("freezes = %+v, want f-1 and f-2 by id with their bodies", got)
	}
	sch.Body = []byte(`{"name":"nightly","paused":true}`)
	if err := s.PutObject(ctx, sch); err != nil || sch.Version != 2 {
		t.Fatalf("replace: %v (version %d, want 2)", err, sch.Version)
	}
	if got, _ := s.ListObjects(ctx, deploy.ObjectSchedule); len(got) != 1 || string(got[0].Body) != string(sch.Body) || got[0].Version != 2 {
		t.Fatalf("schedules after replace = %+v", got)
	}
	if err := s.DeleteObject(ctx, deploy.ObjectFreeze, "f-2"); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	AssertKind(t, s.DeleteObject(ctx, deploy.ObjectFreeze, "f-2"), deploy.KindNotFound)
	AssertKind(t, s.DeleteObject(ctx, deploy.ObjectClosure, "f-1"), deploy.KindNotFound)
	if got, _ := s.ListObjects(ctx, deploy.ObjectFreeze); len(got) != 1 || got[0].ID != "f-1" {
		t.Fatalf("freezes after delete = %+v, want f-1 only", got)
	}
	if got, err := s.ListObjects(ctx, deploy.ObjectClosure); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("closures = %v, %v; want an empty list", got, err)
	}
}

func objectsConflict(t *testing.T, s deploy.ObjectStore) {
	ctx := context.Background()
	o := &deploy.Object{Kind: deploy.ObjectSchedule, ID: "s", Body: []byte(`{}`)}
	if err := s.PutObject(ctx, o); err != nil {
		t.Fatal(err)
	}
	AssertKind(t, s.PutObject(ctx, &deploy.Object{Kind: deploy.ObjectSchedule, ID: "s", Body: []byte(`{"x":1}`)}), deploy.KindConflict)
	stale := &deploy.Object{Kind: deploy.ObjectSchedule, ID: "s", Body: []byte(`{"x":2}`), Version: 1}
	if err := s.PutObject(ctx, stale); err != nil {
		t.Fatal(err)
	}
	AssertKind(t, s.PutObject(ctx, &deploy.Object{Kind: deploy.ObjectSchedule, ID: "s", Body: []byte(`{"x":3}`), Version: 1}), deploy.KindConflict)
	AssertKind(t, s.PutObject(ctx, &deploy.Object{Kind: deploy.ObjectSchedule, ID: "gone", Body: []byte(`{}`), Version: 4}), deploy.KindConflict)
	if got, _ := s.ListObjects(ctx, deploy.ObjectSchedule); len(got) != 1 || string(got[0].Body) != `{"x":2}` {
		t.Fatalf("after conflicts = %+v, want the second write only", got)
	}
}

func objectsInvalid(t *testing.T, s deploy.ObjectStore) {
	ctx := context.Background()
	for _, o := range []*deploy.Object{nil, {Kind: "other", ID: "x", Body: []byte(`{}`)},
		{Kind: deploy.ObjectFreeze, Body: []byte(`{}`)}, {Kind: deploy.ObjectFreeze, ID: "x"}} {
		AssertKind(t, s.PutObject(ctx, o), deploy.KindInvalid)
	}
}
