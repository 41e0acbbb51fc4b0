package e2e

import (
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

const haLease = 3 * time.Second

// leaseScan is the daemons' scan interval: store.lease_scan's default, min(1s, lease/4), whatever
// poll_interval is.
func leaseScan(lease time.Duration) time.Duration { return min(time.Second, lease/4) }

// takeoverLimit is the bound the lease design promises: the lease time, two scans and the jitter, plus
// a load share per lease already held and some slack for a loaded machine.
func takeoverLimit(lease time.Duration) time.Duration {
	scan := leaseScan(lease)
	return lease + 2*scan + scan/2 + 30*(scan/16) + 2*time.Second
}

// Three daemons, 30 deployments in flight: SIGKILL the owner of some mid-shift; its deployments are
// taken over by the others within the lease time and every deployment succeeds, with no weights on any
// ALB that a journal does not explain.
func TestHAKillOwnerMidShift(t *testing.T) {
	if testing.Short() {
		t.Skip("three daemons and 30 services")
	}
	const n = 30
	f := newHAFleet(t, n, haLease)
	for i := 0; i < 3; i++ {
		f.start(i)
	}
	w := f.watch()
	ids := make([]string, n)
	for i, st := range f.stacks {
		d := f.ds[i%3].c // requests spread over the three APIs: each daemon owns what it created
		dep, err := d.CreateDeployment(emulator_ctx(t), st.Name, "v2", clientOpts(steps(10, 2*time.Second, 50, 2*time.Second, 100, time.Duration(0))))
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = dep.ID
	}
	// Mid-shift: every deployment has moved traffic.
	for _, id := range ids {
		waitAny(t, f, id, "first step", 60*time.Second, func(d *deploy.Deployment) bool { return d.Weights.Green > 0 || d.State.Terminal() })
	}
	before := f.owners()
	var victims []string
	for id, l := range before {
		if l.Owner == "ha-d0" {
			victims = append(victims, id)
		}
	}
	if len(victims) == 0 {
		t.Fatalf("ha-d0 owns nothing: %v", before)
	}
	f.ds[0].d.Kill()
	killed := time.Now()
	took := map[string]time.Duration{}
	for len(took) < len(victims) && time.Since(killed) < 3*takeoverLimit(haLease) {
		now := f.owners()
		for _, id := range victims {
			if l, ok := now[id]; (!ok || l.Owner != "ha-d0") && took[id] == 0 {
				took[id] = time.Since(killed)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	var times []time.Duration
	for _, id := range victims {
		if took[id] == 0 {
			t.Errorf("deployment %s never taken over", id)
		}
		times = append(times, took[id])
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	t.Logf("%d deployments of the killed daemon taken over: median %s, max %s (lease %s)", len(times), quantile(times, 0.5), quantile(times, 1), haLease)
	if max := quantile(times, 1); max > takeoverLimit(haLease) {
		t.Errorf("takeover took %s, want within %s", max, takeoverLimit(haLease))
	}
	for i, id := range ids {
		d := waitAny(t, f, id, "finished", 2*time.Minute, func(d *deploy.Deployment) bool { return d.State.Terminal() })
		if d.State != deploy.StateSucceeded {
			t.Errorf("%s ended %s: %s", f.stacks[i].Name, d.State, d.Reason)
		}
	}
	w.close()
	for i, id := range ids {
		d, _ := f.ds[1].c.Deployment(emulator_ctx(t), id)
		if bad := w.unexplained(t, f.ds[1].c, f.stacks[i].Name, d); len(bad) > 0 {
			t.Errorf("%s: weights no journal explains: %v", f.stacks[i].Name, bad)
		}
	}
	// The survivors resumed the victims through recovery, and the epochs went up.
	for _, id := range victims[:1] {
		acts := strings.Join(actionsOf(t, f.ds[1].c, id), " ")
		if !strings.Contains(acts, "controller:recover") {
			t.Errorf("taken-over deployment %s has no recovery in its trail: %s", id, acts)
		}
	}
}

// SIGSTOP an owner past its lease: another daemon takes its deployments over; SIGCONT: the stale owner
// makes no write and no AWS side effect at all (counted by its own proxies). A command sent to a
// daemon that does not own the deployment takes effect.
func TestHAStaleOwnerAndRemoteCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("three daemons")
	}
	f := newHAFleet(t, 3, haLease)
	for i := 0; i < 3; i++ {
		f.start(i)
	}
	ids := make([]string, 3)
	for i, st := range f.stacks {
		dep, err := f.ds[0].c.CreateDeployment(emulator_ctx(t), st.Name, "v2", clientOpts(steps(10, 4*time.Second, 50, 4*time.Second, 100, time.Duration(0))))
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = dep.ID
	}
	for _, id := range ids {
		waitAny(t, f, id, "first step", 60*time.Second, func(d *deploy.Deployment) bool { return d.Weights.Green > 0 })
	}
	stale := f.ds[0]
	signal(t, stale.d, syscall.SIGSTOP)
	stopped := time.Now()
	for _, id := range ids {
		for time.Since(stopped) < 3*takeoverLimit(haLease) {
			if l := f.owners()[id]; l.Owner != "ha-d0" {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if l := f.owners()[id]; l.Owner == "ha-d0" {
			t.Fatalf("%s not taken over from the stopped owner", id)
		}
	}
	t.Logf("the stopped owner's 3 deployments taken over after %s", time.Since(stopped).Round(time.Millisecond))
	// Let the new owners drive them on for a while, so the stale owner's view is well out of date.
	time.Sleep(2 * time.Second)
	woke := time.Now()
	signal(t, stale.d, syscall.SIGCONT)
	// A command to a daemon that does not own the deployment: pause the first through the live daemon
	// that does not hold its lease (the stale one's own calls stay uncounted by this).
	other := f.ds[1]
	if f.owners()[ids[0]].Owner == other.name {
		other = f.ds[2]
	}
	paused, err := other.c.Pause(emulator_ctx(t), ids[0], "paused through a daemon that does not run it")
	if err != nil {
		t.Fatalf("pause through a non-owner: %v", err)
	}
	if paused.State != deploy.StatePaused {
		t.Fatalf("after the remote pause: %s", paused.State)
	}
	if _, err := other.c.Resume(emulator_ctx(t), ids[0], "resumed through a daemon that does not run it"); err != nil {
		t.Fatalf("resume: %v", err)
	}
	for i, id := range ids {
		d := waitAny(t, f, id, "finished", 2*time.Minute, func(d *deploy.Deployment) bool { return d.State.Terminal() })
		if d.State != deploy.StateSucceeded {
			t.Errorf("%s ended %s: %s", f.stacks[i].Name, d.State, d.Reason)
		}
	}
	c := stale.px.CountsBetween(woke, time.Now())
	writes := c.Sum(func(k string) bool { return isWrite(k) })
	t.Logf("stale owner's calls after SIGCONT:\n%s", table(c, time.Since(woke)))
	if writes.Calls != 0 {
		t.Errorf("the stale owner made %d write or side-effect calls after waking, want 0:\n%s", writes.Calls, table(c, 0))
	}
	// Its DynamoDB traffic is its lease scans and nothing else (it holds no lease any more): one Query
	// of the LEASES partition per scan, not one per poll_interval (100ms here).
	awake := time.Since(woke)
	dc := stale.ddb.Between(woke, time.Now())
	t.Logf("stale owner's DynamoDB calls by purpose after SIGCONT (%s):\n%s", awake.Round(time.Millisecond), rateTable(dc, awake))
	if limit := int(awake/leaseScan(haLease)) + 2; dc["Query LEASES"] > limit {
		t.Errorf("the woken daemon scanned the leases %d times in %s, want <= %d (one per %s)", dc["Query LEASES"], awake, limit, leaseScan(haLease))
	}
	acts := strings.Join(actionsOf(t, f.ds[1].c, ids[0]), " ")
	if !strings.Contains(acts, ":pause") || !strings.Contains(acts, ":resume") {
		t.Errorf("remote commands missing from the trail: %s", acts)
	}
}

// isWrite reports whether a counted operation changes anything (DynamoDB writes, AWS side effects).
func isWrite(op string) bool {
	for _, p := range []string{"dynamodb:Put", "dynamodb:Update", "dynamodb:Delete", "dynamodb:Transact", "dynamodb:Batch",
		"elbv2:Modify", "elbv2:Register", "elbv2:Deregister", "ecs:Update", "ecs:Register", "autoscaling:Register", "autoscaling:Put"} {
		if strings.HasPrefix(op, p) && op != "dynamodb:TransactGetItems" {
			return true
		}
	}
	return false
}
