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
	"github.com/switchyard/switchyard/pkg/deploy/storetest"
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

// TestConformance runs the deploy.Store contract on a database file.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) deploy.Store { s, _ := openTemp(t); return s })
}

// TestConformanceInMemory runs it on ":memory:", where reads share the writer's single connection.
func TestConformanceInMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) deploy.Store {
		s, err := Open(":memory:")
		if err != nil {
			t.Fatalf("Open(:memory:): %v", err)
		}
		return s
	})
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
				errs[i][j] = s.CreateDeployment(ctx, storetest.Pending(fmt.Sprintf("d-%d-%d", i, j), "web", j))
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
	storetest.AssertKind(t, err, deploy.KindPrecondition)
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
	d := storetest.Full("d-1", "web")
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
	if want := storetest.Stored(d); !reflect.DeepEqual(got, want) {
		t.Fatalf("after reopen\n got: %+v\nwant: %+v", got, want)
	}
	// The lock survives too.
	storetest.AssertKind(t, s2.CreateDeployment(ctx, storetest.Pending("d-2", "web", 9)), deploy.KindConflict)
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
		storetest.AssertKind(t, err, deploy.KindInvalid)
	}
}

func BenchmarkUpdateDeployment(b *testing.B) {
	ctx := context.Background()
	s, _ := openTemp(b)
	d := storetest.Full("d-1", "web")
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

// TestMigrationAddsEventIDs opens a database written at schema version 1 (before event ids): its events
// stay readable, and ids work from then on.
func TestMigrationAddsEventIDs(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	saved := migrations
	t.Cleanup(func() { migrations = saved })
	migrations = saved[:1]
	old, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.w.ExecContext(ctx, `INSERT INTO events (deployment_id, service, time, actor, action, state, reason)
VALUES ('d-1', 'web', ?, 'controller', 'create', 'pending', '')`, deploy.FormatSortableTime(time.Now())); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	migrations = saved
	s, err := Open(path)
	if err != nil {
		t.Fatalf("migrate to %d: %v", SchemaVersion(), err)
	}
	defer s.Close()
	e := deploy.Event{ID: "ev-1", DeploymentID: "d-1", Action: "weights.set"}
	for range 2 {
		if err := s.AppendEvent(ctx, &e); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := s.Events(ctx, "d-1", 0)
	if err != nil || len(evs) != 2 || evs[0].Action != "create" || evs[0].ID != "" || evs[1].ID != "ev-1" || evs[1].Seq != e.Seq {
		t.Fatalf("events after migration: %+v, %v", evs, err)
	}
}
