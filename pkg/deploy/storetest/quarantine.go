package storetest

import (
	"context"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// RawRecord is a deployment record as a store files it, written with no check at all: what a bug, an
// older binary or a hand edit may have left behind.
type RawRecord struct {
	ID, Service string
	State       deploy.State // the store's own state column or attribute; the lock is taken when State.Active()
	CreatedAt   time.Time
	Data        []byte // the record's JSON, as is; stored at version 1
}

// RawWriter is implemented by each store's tests (a method in a _test file, so that no production
// build can bypass the checks) for the quarantine checks of Run.
type RawWriter interface {
	WriteRaw(ctx context.Context, r RawRecord) error
}

// unreadableEdits each make a deployment that the daemon could not act on.
var unreadableEdits = map[string]func(d *deploy.Deployment){
	"negative bake":          func(d *deploy.Deployment) { d.Steps[0].Bake = deploy.Duration(-5 * time.Second) },
	"bake above MaxBake":     func(d *deploy.Deployment) { d.Steps[0].Bake = deploy.Duration(deploy.MaxBake + 1) },
	"strategy step bake":     func(d *deploy.Deployment) { d.Strategy.Steps[0].Bake = -1 },
	"strategy bake":          func(d *deploy.Deployment) { d.Strategy.Bake = deploy.Duration(math.MinInt64) },
	"spec strategy bake":     func(d *deploy.Deployment) { d.Spec.Strategy.Bake = -1 },
	"spec negative duration": func(d *deploy.Deployment) { d.Spec.DeregDelay = -1 },
	"percent zero":           func(d *deploy.Deployment) { d.Steps[0].Percent = 0 },
	"percent above 100":      func(d *deploy.Deployment) { d.Steps[2].Percent = 100.5 },
	"percent NaN":            func(d *deploy.Deployment) { d.Steps[0].Percent = math.NaN() },
	"weight above 999":       func(d *deploy.Deployment) { d.Weights.Green = 1000 },
	"negative intended":      func(d *deploy.Deployment) { d.Intended = &deploy.Weights{Blue: -1, Green: 999} },
	"unknown state":          func(d *deploy.Deployment) { d.State = "exploded" },
	"unknown paused_from":    func(d *deploy.Deployment) { d.PausedFrom = "nap" },
	"step beyond steps":      func(d *deploy.Deployment) { d.Step = len(d.Steps) },
	"step below -1":          func(d *deploy.Deployment) { d.Step = -2 },
	"same slots":             func(d *deploy.Deployment) { d.To = d.From },
	"no slot":                func(d *deploy.Deployment) { d.From = "" },
	"unknown slot key":       func(d *deploy.Deployment) { d.Spec.TargetGroups["red"] = "arn:tg/red" },
	"quarantine stub":        func(d *deploy.Deployment) { d.Quarantine = "cannot be read" },
}

func unreadableWriteRefused(t *testing.T, s deploy.Store) {
	ctx := context.Background()
	stored := Full("d-0", "web")
	if err := s.CreateDeployment(ctx, stored); err != nil {
		t.Fatalf("the fixture itself is refused: %v", err)
	}
	for name, edit := range unreadableEdits {
		d := Full("d-1", "api")
		edit(d)
		AssertKind(t, s.CreateDeployment(ctx, d), deploy.KindInvalid)
		if _, err := s.GetDeployment(ctx, "d-1"); deploy.KindOf(err) != deploy.KindNotFound {
			t.Fatalf("%s: refused create was stored (%v)", name, err)
		}
		u := *stored
		u.Steps = append([]deploy.Step(nil), stored.Steps...)
		u.Strategy.Steps = append([]deploy.Step(nil), stored.Strategy.Steps...)
		u.Spec.TargetGroups = map[deploy.Slot]string{deploy.SlotBlue: "b", deploy.SlotGreen: "g"}
		edit(&u)
		err := s.UpdateDeployment(ctx, &u)
		AssertKind(t, err, deploy.KindInvalid)
		if u.Version != stored.Version {
			t.Fatalf("%s: refused update changed Version to %d", name, u.Version)
		}
		if name == "negative bake" {
			t.Logf("refusal reads: %v", err)
		}
	}
	got, err := s.GetDeployment(ctx, "d-0")
	if err != nil || got.Version != 1 || got.Quarantine != "" {
		t.Fatalf("a refused update reached the record: %+v, %v", got, err)
	}
	if _, err := s.ActiveDeployment(ctx, "api"); deploy.KindOf(err) != deploy.KindNotFound {
		t.Fatalf("a refused create took the lock: %v", err)
	}
}

// badRecords are raw records a daemon must survive, by name: each on its own service, active.
func badRecords(t *testing.T) map[string]RawRecord {
	good, err := json.Marshal(Stored(Full("x", "x")))
	if err != nil {
		t.Fatal(err)
	}
	edit := func(id string, change func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		m["id"], m["service"] = id, "s-"+id
		change(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	steps := func(bake any) func(m map[string]any) {
		return func(m map[string]any) {
			m["steps"] = []any{map[string]any{"percent": 10, "bake": bake}, map[string]any{"percent": 100, "bake": 0}}
		}
	}
	data := map[string][]byte{
		"q-json":   []byte(`{"id":"q-json","service":"s-q-json","state":"shifting","steps":[`),
		"q-bake":   edit("q-bake", steps(-5)),      // what {"percent":10,"bake":-5} used to store
		"q-huge":   edit("q-huge", steps(1e300)),   // a Duration overflow
		"q-string": edit("q-string", steps("-5s")), // refused by Duration's own decoder
		"q-state":  edit("q-state", func(m map[string]any) { m["state"] = "exploded" }),
		"q-step":   edit("q-step", func(m map[string]any) { m["step"] = 7 }),
		"q-weight": edit("q-weight", func(m map[string]any) { m["weights"] = map[string]any{"blue": 5000, "green": 0} }),
		"q-slot":   edit("q-slot", func(m map[string]any) { m["to"] = "purple" }),
		"q-other":  edit("q-other", func(m map[string]any) { m["id"] = "someone-else" }),
	}
	out := map[string]RawRecord{}
	i := 0
	for id, b := range data {
		i++
		st := deploy.StateShifting
		if id == "q-state" {
			st = "exploded" // an unknown state is not terminal: it keeps the lock
		}
		out[id] = RawRecord{ID: id, Service: "s-" + id, State: st, Data: b,
			CreatedAt: time.Date(2025, 2, 1, 0, 0, i, 0, time.UTC)}
	}
	return out
}

func badRecordQuarantined(t *testing.T, s deploy.Store) {
	ctx := context.Background()
	raw, ok := s.(RawWriter)
	if !ok {
		t.Fatalf("%T does not implement storetest.RawWriter (add WriteRaw in the store's tests)", s)
	}
	good := Full("good", "web")
	if err := s.CreateDeployment(ctx, good); err != nil {
		t.Fatal(err)
	}
	bad := badRecords(t)
	for _, r := range bad {
		if err := raw.WriteRaw(ctx, r); err != nil {
			t.Fatalf("WriteRaw %s: %v", r.ID, err)
		}
	}
	check := func(how string, d *deploy.Deployment) {
		t.Helper()
		r := bad[d.ID]
		if d.Quarantine == "" || d.Service != r.Service || d.State != r.State || d.Version != 1 {
			t.Errorf("%s %s: want a quarantine stub of service %s in state %s at version 1, got %+v", how, r.ID, r.Service, r.State, d)
		}
	}
	for id, r := range bad {
		d, err := s.GetDeployment(ctx, id)
		if err != nil {
			t.Fatalf("GetDeployment %s: %v", id, err)
		}
		check("Get", d)
		if id == "q-bake" || id == "q-json" {
			t.Logf("%s quarantined: %s", id, d.Quarantine)
		}
		if !strings.Contains(d.Quarantine, "stored record") {
			t.Errorf("%s: quarantine message %q does not say what is wrong", id, d.Quarantine)
		}
		a, err := s.ActiveDeployment(ctx, r.Service)
		if err != nil {
			t.Fatalf("ActiveDeployment %s: %v", r.Service, err)
		}
		check("Active", a)
		if a.ID != id {
			t.Fatalf("ActiveDeployment(%s) = %s, want %s", r.Service, a.ID, id)
		}
		// The stub keeps its service locked, and cannot be written back over the record.
		assertLocked(t, s.CreateDeployment(ctx, Pending("n-"+id, r.Service, 0)), id)
		AssertKind(t, s.UpdateDeployment(ctx, d), deploy.KindInvalid)
	}
	for _, f := range []deploy.ListFilter{{}, {ActiveOnly: true}} {
		list, err := s.ListDeployments(ctx, f)
		if err != nil {
			t.Fatalf("List(%+v): %v", f, err)
		}
		seen := 0
		for _, d := range list {
			if d.ID == "good" {
				if !reflect.DeepEqual(d, Stored(good)) {
					t.Errorf("List(%+v): the good record changed\n got: %+v\nwant: %+v", f, d, Stored(good))
				}
				seen++
				continue
			}
			check("List", d)
			seen++
		}
		if seen != len(bad)+1 {
			t.Errorf("List(%+v) returned %d of %d records", f, seen, len(bad)+1)
		}
	}
	one, err := s.ListDeployments(ctx, deploy.ListFilter{Service: "s-q-json"})
	if err != nil || len(one) != 1 {
		t.Fatalf("List of one bad service: %+v, %v", one, err)
	}
	check("List(service)", one[0])
	if a, err := s.ActiveDeployment(ctx, "web"); err != nil || !reflect.DeepEqual(a, Stored(good)) {
		t.Fatalf("the good service's active deployment: %+v, %v", a, err)
	}
}
