package lease

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/deploy"
)

// daemon is one Manager driven step by step on a shared virtual clock (deterministic: no goroutines).
type daemon struct {
	m      *Manager
	mu     sync.Mutex
	gained []string
	lost   []string
	cmds   []deploy.Command
}

func newDaemon(t *testing.T, name string, st *Memory, clk *clock.Fake, seed uint64) *daemon {
	t.Helper()
	d := &daemon{}
	r := rand.New(rand.NewPCG(seed, seed))
	d.m = New(Options{Owner: name, Store: st, Clock: clk, Rand: r.Float64,
		OnGained:   func(l deploy.Lease) { d.mu.Lock(); d.gained = append(d.gained, l.DeploymentID); d.mu.Unlock() },
		OnLost:     func(id string) { d.mu.Lock(); d.lost = append(d.lost, id); d.mu.Unlock() },
		OnCommands: func(c []deploy.Command) { d.mu.Lock(); d.cmds = append(d.cmds, c...); d.mu.Unlock() },
	})
	return d
}

var start = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// run steps the live daemons every 50ms of virtual time for d.
func run(clk *clock.Fake, d time.Duration, live ...*daemon) {
	for end := clk.Now().Add(d); clk.Now().Before(end); clk.Advance(50 * time.Millisecond) {
		for _, x := range live {
			x.m.step(context.Background())
		}
	}
}

func claim(t *testing.T, d *daemon, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := d.m.Claim(context.Background(), fmt.Sprintf("d%02d", i), "web"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOwnerKeepsItsLeasesWhileItRenews(t *testing.T) {
	clk, st := clock.NewFake(start), NewMemory()
	a, b := newDaemon(t, "a", st, clk, 1), newDaemon(t, "b", st, clk, 2)
	claim(t, a, 3)
	run(clk, time.Minute, a, b)
	if len(b.gained) != 0 || len(a.lost) != 0 || a.m.Held() != 3 {
		t.Fatalf("b gained %v, a lost %v, a holds %d", b.gained, a.lost, a.m.Held())
	}
	if l, _ := st.Get("d00"); l.Owner != "a" || l.Epoch != 1 {
		t.Fatalf("lease %+v", l)
	}
}

func TestDeadOwnersLeasesAreTakenOverWithinTheLeaseTimeAndSpread(t *testing.T) {
	clk, st := clock.NewFake(start), NewMemory()
	a, b, c := newDaemon(t, "a", st, clk, 1), newDaemon(t, "b", st, clk, 2), newDaemon(t, "c", st, clk, 3)
	claim(t, a, 30)
	run(clk, 5*time.Second, a, b, c)
	died := clk.Now()
	// a dies: only b and c step from now on.
	var all time.Duration
	for clk.Now().Sub(died) < 30*time.Second && b.m.Held()+c.m.Held() < 30 {
		run(clk, 50*time.Millisecond, b, c)
		all = clk.Now().Sub(died)
	}
	if b.m.Held()+c.m.Held() != 30 {
		t.Fatalf("after 30s b holds %d, c %d", b.m.Held(), c.m.Held())
	}
	o := a.m.o
	if limit := o.Duration + 2*o.Scan + o.Jitter + 30*(o.Jitter/8); all > limit {
		t.Errorf("all leases taken over after %v, want within %v", all, limit)
	}
	if b.m.Held() < 10 || c.m.Held() < 10 {
		t.Errorf("work did not spread: b holds %d, c %d", b.m.Held(), c.m.Held())
	}
	for i := 0; i < 30; i++ {
		l, _ := st.Get(fmt.Sprintf("d%02d", i))
		if l.Epoch != 2 || l.Owner == "a" {
			t.Fatalf("lease %+v: want epoch 2 with a new owner", l)
		}
	}
	t.Logf("30 leases taken over %v after the owner died (b %d, c %d)", all, b.m.Held(), c.m.Held())
}

// A paused owner (SIGSTOP) stops counting its lease valid before anyone may take it over, and when
// it wakes it writes nothing: no renewal, no fenced write.
func TestPausedOwnerWakesWithoutWriting(t *testing.T) {
	clk, st := clock.NewFake(start), NewMemory()
	a, b := newDaemon(t, "a", st, clk, 1), newDaemon(t, "b", st, clk, 2)
	claim(t, a, 2)
	run(clk, 3*time.Second, a, b)
	f, ok := a.m.Fence("d00")
	if !ok || f.Valid() != nil {
		t.Fatal("a should hold d00")
	}
	writes := st.Writes("a")
	var lapsedAt, takenAt time.Time
	for i := 0; i < 400 && takenAt.IsZero(); i++ {
		if lapsedAt.IsZero() && f.Valid() != nil {
			lapsedAt = clk.Now()
		}
		run(clk, 50*time.Millisecond, b) // a is paused
		if l, _ := st.Get("d00"); l.Owner == "b" {
			takenAt = clk.Now()
		}
	}
	if takenAt.IsZero() || lapsedAt.IsZero() || !lapsedAt.Before(takenAt) {
		t.Fatalf("a's fence lapsed at %v, b took over at %v: the owner must stop first", lapsedAt, takenAt)
	}
	run(clk, 2*time.Second, a, b) // a wakes
	if got := st.Writes("a") - writes; got != 0 {
		t.Errorf("the woken owner attempted %d writes, want 0", got)
	}
	if !errors.Is(f.Valid(), deploy.ErrLeaseLost) || len(a.lost) != 2 || a.m.Held() != 0 {
		t.Errorf("a: fence %v, lost %v, holds %d", f.Valid(), a.lost, a.m.Held())
	}
	if len(b.gained) != 2 {
		t.Errorf("b gained %v", b.gained)
	}
}

func TestRefusedRenewalLosesTheLease(t *testing.T) {
	clk, st := clock.NewFake(start), NewMemory()
	a := newDaemon(t, "a", st, clk, 1)
	claim(t, a, 1)
	st.Steal("d00", "x")
	run(clk, 3*time.Second, a)
	if len(a.lost) != 1 || a.m.Held() != 0 {
		t.Fatalf("lost %v, holds %d", a.lost, a.m.Held())
	}
}

func TestStoreOutageLapsesTheLease(t *testing.T) {
	clk, st := clock.NewFake(start), NewMemory()
	a := newDaemon(t, "a", st, clk, 1)
	claim(t, a, 1)
	st.Fail = errors.New("unreachable")
	run(clk, a.m.o.Duration-a.m.o.Margin-100*time.Millisecond, a)
	if len(a.lost) != 0 {
		t.Fatalf("lost before the lease lapsed: %v", a.lost)
	}
	run(clk, 200*time.Millisecond, a)
	if len(a.lost) != 1 {
		t.Fatalf("an owner cut off from the store must stop once its lease lapses; lost %v", a.lost)
	}
}

func TestReleasedLeaseIsNeverTakenOver(t *testing.T) {
	clk, st := clock.NewFake(start), NewMemory()
	a, b := newDaemon(t, "a", st, clk, 1), newDaemon(t, "b", st, clk, 2)
	claim(t, a, 1)
	run(clk, time.Second, a, b)
	a.m.Release(context.Background(), "d00")
	run(clk, 20*time.Second, b)
	if len(b.gained) != 0 {
		t.Fatalf("b took over a released lease")
	}
	if _, ok := st.Get("d00"); ok {
		t.Fatalf("released lease still stored")
	}
}

func TestCommandsReachTheOwnerOnce(t *testing.T) {
	clk, st := clock.NewFake(start), NewMemory()
	a, b := newDaemon(t, "a", st, clk, 1), newDaemon(t, "b", st, clk, 2)
	claim(t, a, 1)
	_ = st.PutCommand(context.Background(), deploy.Command{ID: "c1", DeploymentID: "d00", Kind: "Pause", At: clk.Now()})
	_ = st.PutCommand(context.Background(), deploy.Command{ID: "c2", DeploymentID: "nobody", Kind: "Pause", At: clk.Now()})
	run(clk, 5*time.Second, a, b)
	if len(a.cmds) != 1 || a.cmds[0].ID != "c1" || len(b.cmds) != 0 {
		t.Fatalf("a got %v, b got %v", a.cmds, b.cmds)
	}
}
