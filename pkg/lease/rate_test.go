package lease

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/clock"
)

// runFor drives m.Run on clk for d of virtual time: each turn waits (on the wall clock, bounded)
// until Run is parked on its timer, then advances the clock by one tick. A Run that never parks, i.e.
// spins on the store, fails the test.
func runFor(t *testing.T, clk *clock.Fake, d time.Duration, pauses map[int]time.Duration, ms ...*Manager) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, len(ms))
	for _, m := range ms {
		go func() { m.Run(ctx); done <- struct{}{} }()
	}
	defer func() {
		cancel()
		clk.Advance(time.Hour) // wake whoever is parked so that Run sees ctx
		for range ms {
			<-done
		}
	}()
	tick := ms[0].o.Scan / 4
	for i, end := 0, clk.Now().Add(d); clk.Now().Before(end); i++ {
		parked := time.Now().Add(2 * time.Second)
		for clk.Pending() < len(ms) {
			if time.Now().After(parked) {
				t.Fatalf("after %v of virtual time Run is not waiting on its clock: it spins", d-end.Sub(clk.Now()))
			}
			time.Sleep(100 * time.Microsecond)
		}
		step := tick
		if p, ok := pauses[i]; ok {
			step = p // a SIGSTOP/SIGCONT or a suspended VM: the clock jumps at once
		}
		clk.Advance(step)
	}
}

// A daemon's steady store traffic is one listing per Scan plus one renewal per held lease per Renew,
// whatever happens: idle, holding leases, after a pause, during an outage, watching others' leases.
func TestStoreCallsStayBoundedOverVirtualTime(t *testing.T) {
	const window = 2 * time.Minute
	for _, tc := range []struct {
		name   string
		held   int
		fail   bool
		pauses map[int]time.Duration
		others int // leases of a live second daemon to watch
	}{
		{name: "idle"},
		{name: "holding 20", held: 20},
		{name: "holding 5, watching 20", held: 5, others: 20},
		{name: "paused 10s twice", held: 5, pauses: map[int]time.Duration{40: 10 * time.Second, 300: 10 * time.Second}},
		{name: "store outage", held: 5, fail: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk, st := clock.NewFake(start), NewMemory()
			a := New(Options{Owner: "a", Store: st, Clock: clk, Duration: 6 * time.Second})
			ms := []*Manager{a}
			for i := 0; i < tc.held; i++ {
				if _, err := a.Claim(context.Background(), fmt.Sprintf("a%02d", i), "web"); err != nil {
					t.Fatal(err)
				}
			}
			if tc.others > 0 {
				b := New(Options{Owner: "b", Store: st, Clock: clk, Duration: 6 * time.Second})
				for i := 0; i < tc.others; i++ {
					if _, err := b.Claim(context.Background(), fmt.Sprintf("b%02d", i), "web"); err != nil {
						t.Fatal(err)
					}
				}
				ms = append(ms, b)
			}
			if tc.fail {
				st.Fail = errors.New("unreachable")
			}
			before := map[string]int{"ListLeases": st.Calls("ListLeases"), "Renew": st.Calls("Renew"), "Acquire": st.Calls("Acquire")}
			runFor(t, clk, window, tc.pauses, ms...)
			o := a.o
			daemons := len(ms)
			scans := st.Calls("ListLeases") - before["ListLeases"]
			renews := st.Calls("Renew") - before["Renew"]
			acquires := st.Calls("Acquire") - before["Acquire"]
			maxScans := daemons * (int(window/o.Scan) + 1)
			maxRenews := (tc.held + tc.others) * (int(window/o.Renew) + 1)
			// A pause lapses the daemon's own leases; with nobody else alive it takes each back once.
			maxAcquires := tc.held * len(tc.pauses)
			t.Logf("%v: %d listings (bound %d), %d renewals (bound %d), %d takeover attempts", window, scans, maxScans, renews, maxRenews, acquires)
			if scans > maxScans || renews > maxRenews || acquires > maxAcquires {
				t.Errorf("store calls over %v: %d listings (want <= %d: one per %v per daemon), %d renewals (want <= %d: one per held lease per %v), %d takeover attempts (want <= %d: one per lapsed lease)",
					window, scans, maxScans, o.Scan, renews, maxRenews, o.Renew, acquires, maxAcquires)
			}
			if !tc.fail && scans < maxScans/2 {
				t.Errorf("only %d listings in %v: the scan stopped", scans, window)
			}
		})
	}
}
