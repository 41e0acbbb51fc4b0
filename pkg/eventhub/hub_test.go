package eventhub_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/deploy/storetest"
	"github.com/switchyard/switchyard/pkg/eventhub"
	"github.com/switchyard/switchyard/pkg/sqlite"
)

func open(t *testing.T) deploy.Store {
	s, _ := openAt(t)
	return s
}

func openAt(t *testing.T) (deploy.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// rawStore adds the suite's test-only RawWriter to a wrapped SQLite store, writing a row past every
// check through a second connection (as pkg/sqlite's own tests do).
type rawStore struct {
	deploy.Store
	path string
}

func (r rawStore) WriteRaw(ctx context.Context, rec storetest.RawRecord) error {
	db, err := sql.Open("sqlite", r.path)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, `INSERT INTO deployments (id, service, state, active, created_at, updated_at, version, data)
VALUES (?, ?, ?, ?, ?, ?, 1, ?)`,
		rec.ID, rec.Service, string(rec.State), rec.State.Active(), deploy.FormatSortableTime(rec.CreatedAt),
		deploy.FormatSortableTime(rec.CreatedAt), string(rec.Data))
	return err
}

// The wrapped store is a store: the whole conformance suite passes through it, with a subscriber
// that never reads attached (so every publication takes the drop path too).
func TestWrappedStoreConforms(t *testing.T) {
	storetest.Run(t, func(t *testing.T) deploy.Store {
		h := eventhub.New()
		stuck := h.Subscribe(1)
		t.Cleanup(stuck.Close)
		s, path := openAt(t)
		return rawStore{Store: h.Wrap(s), path: path}
	})
	storetest.RunObjects(t, func(t *testing.T) deploy.ObjectStore {
		o, ok := eventhub.New().Wrap(open(t)).(deploy.ObjectStore)
		if !ok {
			t.Fatal("the wrapped SQLite store lost its ObjectStore port")
		}
		return o
	})
}

// writes runs n updates and n events on s in a goroutine and reports when they are all done.
func writes(t *testing.T, s deploy.Store, d *deploy.Deployment, n int) <-chan error {
	done := make(chan error, 1)
	go func() {
		ctx := context.Background()
		for i := 0; i < n; i++ {
			d.Weights = deploy.Weights{Blue: 999 - i, Green: i}
			if err := s.UpdateDeployment(ctx, d); err != nil {
				done <- err
				return
			}
			if err := s.AppendEvent(ctx, &deploy.Event{DeploymentID: d.ID, Service: d.Service, Time: time.Now().UTC(), Actor: "controller", Action: "weights.verified"}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	return done
}

// A subscriber that never reads cannot delay a store write: 200 writes finish although its buffer
// of 1 filled at the first one, and it is dropped and marked lagging, while a reader that keeps up
// receives every message in order.
func TestBlockedSubscriberDoesNotDelayWrites(t *testing.T) {
	h := eventhub.New()
	s := h.Wrap(open(t))
	ctx := context.Background()
	d := storetest.Pending("d1", "web", 0)
	if err := s.CreateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	stuck := h.Subscribe(1)
	reader := h.Subscribe(1000)
	const n = 200
	select {
	case err := <-writes(t, s, d, n):
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second): // only a hang gets here: the writes are not timed
		t.Fatal("store writes blocked behind a subscriber that does not read")
	}
	if !stuck.Lagging() {
		t.Fatal("the stuck subscriber is not marked lagging")
	}
	got := 0
	for range stuck.C() { // drained then closed: the one message that fitted, then the end
		got++
	}
	if got != 1 {
		t.Fatalf("stuck subscriber received %d messages before being dropped, want 1", got)
	}
	var last uint64
	for i := 0; i < 2*n; i++ {
		m := <-reader.C()
		if m.Seq <= last {
			t.Fatalf("message %d has seq %d after %d", i, m.Seq, last)
		}
		last = m.Seq
		want := eventhub.KindDeployment
		if i%2 == 1 {
			want = eventhub.KindEvent
		}
		if m.Kind != want || m.DeploymentID != "d1" || m.Service != "web" {
			t.Fatalf("message %d: %+v, want a %s of d1/web", i, m, want)
		}
	}
	if reader.Lagging() || h.Subscribers() != 1 || h.Dropped() != 1 {
		t.Fatalf("lagging=%v subscribers=%d dropped=%d, want false 1 1", reader.Lagging(), h.Subscribers(), h.Dropped())
	}
	reader.Close()
	reader.Close() // twice is fine
	if h.Subscribers() != 0 {
		t.Fatal("closed subscription still counted")
	}
}

// A message is a snapshot taken at the write: the writer changing its record afterwards (the
// controller reuses its *Deployment) does not change what subscribers read. Failed writes publish
// nothing.
func TestMessagesAreSnapshotsOfSuccessfulWrites(t *testing.T) {
	h := eventhub.New()
	s := h.Wrap(open(t))
	sub := h.Subscribe(10)
	ctx := context.Background()
	d := storetest.Pending("d1", "web", 0)
	if err := s.CreateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	d.State = deploy.StateShifting
	d.Weights = deploy.Weights{Blue: 899, Green: 100}
	if err := s.UpdateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	d.Weights = deploy.Weights{Blue: 1, Green: 998} // not written
	stale := *d
	stale.Version = 0
	if err := s.UpdateDeployment(ctx, &stale); deploy.KindOf(err) != deploy.KindConflict {
		t.Fatalf("stale update: %v, want a conflict", err)
	}
	if err := s.CreateDeployment(ctx, storetest.Pending("d2", "web", 1)); deploy.KindOf(err) != deploy.KindConflict {
		t.Fatalf("second active deployment: %v, want a conflict", err)
	}
	want := []deploy.Weights{{}, {Blue: 899, Green: 100}}
	for i, w := range want {
		m := <-sub.C()
		var got deploy.Deployment
		if err := json.Unmarshal(m.Data, &got); err != nil {
			t.Fatal(err)
		}
		if got.Weights != w || got.Version != int64(i+1) {
			t.Fatalf("message %d: weights %s version %d, want %s version %d", i, got.Weights, got.Version, w, i+1)
		}
	}
	select {
	case m := <-sub.C():
		t.Fatalf("a failed write was published: %+v", m)
	default:
	}
}

// BenchmarkUpdatePublished measures what publishing adds to a store write: the same in-memory update
// with no subscriber (nothing encoded) and with one reading subscriber.
func BenchmarkUpdatePublished(b *testing.B) {
	for _, subs := range []int{0, 1} {
		b.Run([]string{"no-subscriber", "one-subscriber"}[subs], func(b *testing.B) {
			h := eventhub.New()
			s := h.Wrap(nopStore{})
			if subs == 1 {
				sub := h.Subscribe(b.N + 1)
				defer sub.Close()
			}
			d := storetest.Full("d1", "web")
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_ = s.UpdateDeployment(context.Background(), d)
			}
		})
	}
}

type nopStore struct{ deploy.Store }

func (nopStore) UpdateDeployment(context.Context, *deploy.Deployment) error { return nil }
