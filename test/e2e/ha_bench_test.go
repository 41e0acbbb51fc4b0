package e2e

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/test/emulator"
)

// BenchmarkHATakeover measures, through three real `switchyard serve` processes on kumo's DynamoDB:
//
//   - steady state: each daemon's DynamoDB calls per second by purpose, with N deployments in flight
//     (N = $SWITCHYARD_BENCH_HA_DEPLOYMENTS, default 12) held in a long bake, over a window
//     ($SWITCHYARD_BENCH_HA_WINDOW, default 15s), next to the expected 1/lease_scan + 3*held/lease_time;
//   - takeover: K times ($SWITCHYARD_BENCH_HA_KILLS, default 12) the daemon holding the most leases is
//     SIGKILLed, the time from the kill until each of its leases names another owner is taken (the
//     table is read every 20ms by the test, uncounted), and the daemon is restarted (a new owner)
//     and left a settle time before the next kill. Prints median, p99 and max per lease and per kill,
//     and where the leases went.
//
// Lease time: $SWITCHYARD_BENCH_HA_LEASE (default 3s, as in the HA tests); the scan is the default
// min(1s, lease/4). Runs once whatever b.N is:
//
//	go test -run X -bench HATakeover -benchtime 1x -v ./test/e2e
func BenchmarkHATakeover(b *testing.B) {
	if testing.Short() {
		b.Skip("three daemons and repeated kills")
	}
	n := envInt(b, "SWITCHYARD_BENCH_HA_DEPLOYMENTS", 12)
	kills := envInt(b, "SWITCHYARD_BENCH_HA_KILLS", 12)
	window := envDuration(b, "SWITCHYARD_BENCH_HA_WINDOW", 15*time.Second)
	lease := envDuration(b, "SWITCHYARD_BENCH_HA_LEASE", haLease)
	b.Run(fmt.Sprintf("n=%d/kills=%d/lease=%s", n, kills, lease), func(b *testing.B) { benchHATakeover(b, n, kills, window, lease) })
}

func benchHATakeover(b *testing.B, n, kills int, window, lease time.Duration) {
	f := newHAFleet(b, n, lease)
	for i := 0; i < 3; i++ {
		f.start(i)
	}
	for i, st := range f.stacks {
		// A long bake: every deployment stays in flight for the whole benchmark.
		dep, err := f.ds[i%3].c.CreateDeployment(emulator_ctx(b), st.Name, "v2", clientOpts(steps(10, time.Hour, 100, time.Duration(0))))
		if err != nil {
			b.Fatal(err)
		}
		waitAny(b, f, dep.ID, "first step", 60*time.Second, func(d *deploy.Deployment) bool { return d.Weights.Green > 0 })
	}
	settle := 2 * lease
	time.Sleep(settle) // every daemon has timed every lease once
	b.ResetTimer()
	benchHASteady(b, f, window, lease)
	benchHAKills(b, f, kills, settle)
}

// fullOwners maps each lease to its full owner (name/pid/suffix: a restarted daemon is a new owner).
func (f *haFleet) fullOwners() map[string]string {
	f.t.Helper()
	ls, _, err := f.store.ListLeases(emulator.Context(f.t, 10*time.Second))
	for try := 0; err != nil && try < 5; try++ { // the test's own reads: a dropped connection is retried
		time.Sleep(50 * time.Millisecond)
		ls, _, err = f.store.ListLeases(emulator.Context(f.t, 10*time.Second))
	}
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]string{}
	for _, l := range ls {
		if !l.Released {
			out[l.DeploymentID] = l.Owner
		}
	}
	return out
}

func daemonName(owner string) string { return strings.SplitN(owner, "/", 2)[0] }

func benchHASteady(b *testing.B, f *haFleet, window, lease time.Duration) {
	from := time.Now()
	time.Sleep(window)
	to := time.Now()
	held := map[string]int{}
	for _, o := range f.fullOwners() {
		held[daemonName(o)]++
	}
	scan := leaseScan(lease)
	var sb strings.Builder
	var worst float64
	for _, d := range f.ds {
		c := d.ddb.Between(from, to)
		total := 0
		for _, v := range c {
			total += v
		}
		rate := float64(total) / to.Sub(from).Seconds()
		worst = max(worst, rate)
		want := 1/scan.Seconds() + float64(held[d.name])*3/lease.Seconds()
		fmt.Fprintf(&sb, "%s holds %d leases: %.2f DynamoDB calls/s (expected 1/lease_scan + 3*held/lease_time = %.2f/s)\n%s",
			d.name, held[d.name], rate, want, rateTable(c, to.Sub(from)))
	}
	report(b, "steady state over %s, lease %s, scan %s:\n%s", to.Sub(from).Round(time.Millisecond), lease, scan, sb.String())
	b.ReportMetric(worst, "max-ddb-calls/s/daemon")
}

func benchHAKills(b *testing.B, f *haFleet, kills int, settle time.Duration) {
	var perLease, perKill []time.Duration
	var moves []string
	for k := 0; k < kills; k++ {
		owners := f.fullOwners()
		count := map[string]int{}
		for _, o := range owners {
			count[o]++
		}
		victim := -1
		var victimOwner string
		for i, d := range f.ds {
			for o, c := range count {
				if daemonName(o) == d.name && (victim < 0 || c > count[victimOwner]) {
					victim, victimOwner = i, o
				}
			}
		}
		if victim < 0 {
			b.Fatalf("no daemon holds a lease: %v", owners)
		}
		var ids []string
		for id, o := range owners {
			if o == victimOwner {
				ids = append(ids, id)
			}
		}
		f.ds[victim].d.Kill()
		killed := time.Now()
		took, went := map[string]time.Duration{}, map[string]int{}
		for len(took) < len(ids) && time.Since(killed) < time.Minute {
			now := f.fullOwners()
			for _, id := range ids {
				if o, ok := now[id]; ok && o != victimOwner && took[id] == 0 {
					took[id] = time.Since(killed)
					went[daemonName(o)]++
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		if len(took) < len(ids) {
			b.Fatalf("kill %d: %d of %d leases of %s not taken over within a minute", k, len(ids)-len(took), len(ids), victimOwner)
		}
		var all time.Duration
		for _, d := range took {
			perLease = append(perLease, d)
			all = max(all, d)
		}
		perKill = append(perKill, all)
		moves = append(moves, fmt.Sprintf("kill %2d: %s's %d leases -> %v in %s", k+1, daemonName(victimOwner), len(ids), went, all.Round(10*time.Millisecond)))
		f.start(victim) // a new process: a new owner, with nothing held
		time.Sleep(settle)
	}
	final := map[string]int{}
	for _, o := range f.fullOwners() {
		final[daemonName(o)]++
	}
	sort.Strings(moves)
	q := func(ds []time.Duration, p float64) time.Duration { return quantile(ds, p).Round(10 * time.Millisecond) }
	report(b, "%d SIGKILLs of the busiest owner (lease %s, scan %s); takeover measured from the kill to the lease naming another owner (20ms read resolution):\n"+
		"  per lease (%d): median %s, p99 %s, min %s, max %s\n  per kill (all its leases moved): median %s, p99 %s, max %s\n%s\n  leases at the end: %v",
		len(perKill), f.lease, leaseScan(f.lease), len(perLease), q(perLease, 0.5), q(perLease, 0.99), q(perLease, 0), q(perLease, 1),
		q(perKill, 0.5), q(perKill, 0.99), q(perKill, 1), "  "+strings.Join(moves, "\n  "), final)
	b.ReportMetric(quantile(perLease, 0.5).Seconds(), "takeover-p50-s")
	b.ReportMetric(quantile(perLease, 0.99).Seconds(), "takeover-p99-s")
}
