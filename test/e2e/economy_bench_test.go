package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/switchyard/switchyard/pkg/client"
	"github.com/switchyard/switchyard/pkg/config"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/test/daemontest"
	"github.com/switchyard/switchyard/test/demostack"
	"github.com/switchyard/switchyard/test/ecsfake"
	"github.com/switchyard/switchyard/test/emulator"
	"github.com/switchyard/switchyard/test/faultproxy"
)

// BenchmarkCallEconomy counts, through fault proxies, the AWS calls one daemon makes with N deployments
// in flight (N = $SWITCHYARD_BENCH_DEPLOYMENTS, default 100; poll = $SWITCHYARD_BENCH_POLL, default the
// daemon's default). Sub-benchmarks:
//
//	in-flight:  N deployments held in a long bake; prints calls and calls/s per operation over a window
//	            ($SWITCHYARD_BENCH_WINDOW, default 20s) and reports ELB Describe*/s and all calls/s.
//	elb-bucket: N short deployments behind an emulated ELB Describe* bucket (40 burst, 10/s, the ELB API
//	            throttling guide's example); reports how many creates were refused and how many of the
//	            accepted deployments succeeded or rolled back.
//
// Each runs once whatever b.N is: `go test -run X -bench CallEconomy -benchtime 1x ./test/e2e`.
func BenchmarkCallEconomy(b *testing.B) {
	if testing.Short() {
		b.Skip("expensive: N services in the emulator")
	}
	n := envInt(b, "SWITCHYARD_BENCH_DEPLOYMENTS", 100)
	pollEvery := envDuration(b, "SWITCHYARD_BENCH_POLL", config.DefaultPollInterval)
	window := envDuration(b, "SWITCHYARD_BENCH_WINDOW", 20*time.Second)
	b.Run(fmt.Sprintf("in-flight/n=%d/poll=%s", n, pollEvery), func(b *testing.B) { benchInFlight(b, n, pollEvery, window) })
	b.Run(fmt.Sprintf("elb-bucket/n=%d/poll=%s", n, pollEvery), func(b *testing.B) { benchBucket(b, n, pollEvery) })
}

// BenchmarkServicesList times `GET /v1/services` (one op = one request) on an idle daemon configured with
// $SWITCHYARD_BENCH_SERVICES services (default 500), and reports p50/p99 and the AWS calls made meanwhile
// per request (a background cache refresh counts too: it is traffic the listing costs).
func BenchmarkServicesList(b *testing.B) {
	if testing.Short() {
		b.Skip("expensive: N services in the emulator")
	}
	n := envInt(b, "SWITCHYARD_BENCH_SERVICES", 500)
	f := newFleet(b, n, config.DefaultPollInterval)
	if _, err := f.e.c.Services(f.e.ctx); err != nil { // warm-up
		b.Fatal(err)
	}
	f.px.Reset()
	took := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	t0 := time.Now()
	for range b.N {
		t := time.Now()
		if _, err := f.e.c.Services(f.e.ctx); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(t))
	}
	elapsed := time.Since(t0)
	b.StopTimer()
	c := f.px.Counts()
	report(b, "GET /v1/services x%d with %d services: p50 %s p99 %s max %s; %.1f AWS calls per request (goal at 500: p99 < 50ms):\n%s",
		b.N, n, quantile(took, 0.5).Round(time.Microsecond*100), quantile(took, 0.99).Round(time.Microsecond*100),
		quantile(took, 1).Round(time.Microsecond*100), float64(c.Sum(nil).Calls)/float64(b.N), table(c, elapsed))
	b.ReportMetric(float64(quantile(took, 0.5).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(quantile(took, 0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(c.Sum(nil).Calls)/float64(b.N), "aws-calls/op")
}

// daemonDefaults drops the e2e configuration's short time-outs (30 s ready, 10 s step), so the fleet
// runs with the daemon's own (10 min ready, 30 s step): a burst of 100 deployments in a shared
// account's API budget takes longer than an e2e test's single one.
func daemonDefaults(cfg string) string {
	return strings.Replace(cfg, "defaults:\n  ready_timeout: 30s\n  step_timeout: 10s\n  unhealthy_after: 5s\n", "", 1)
}

func benchInFlight(b *testing.B, n int, pollEvery, window time.Duration) {
	f := newFleet(b, n, pollEvery, daemonDefaults)
	f.measureServicesList(b, 5)
	t0 := time.Now()
	ids, refused := f.createAll(steps(10, time.Hour, 100, time.Duration(0)), 3*time.Minute)
	created := time.Since(t0)
	// In flight: the first step is verified and baking (or the deployment already ended, which is
	// reported below rather than waited for).
	states := f.waitAll(ids, 5*time.Minute, func(d *deploy.Deployment) bool {
		return d.State.Terminal() || (d.State == deploy.StateShifting && d.StepStartedAt != nil)
	})
	baking := states[deploy.StateShifting]
	report(b, "%d requested in %s: %d accepted, %d refused %v; at the start of the window: %v; not succeeded: %v",
		n, created.Round(time.Millisecond), len(ids), len(refused), refusals(refused), states, f.endings())
	if baking < n {
		report(b, "WARNING: only %d of %d deployments in flight during the window", baking, n)
	}
	b.ResetTimer()
	t0 = time.Now()
	time.Sleep(window) // the measurement itself: the daemon's steady-state traffic over the window
	t1 := time.Now()
	b.StopTimer()
	c := f.px.CountsBetween(t0, t1)
	elbDescribe := c.Sum(func(k string) bool { return strings.HasPrefix(k, "elbv2:Describe") })
	all := c.Sum(nil)
	secs := t1.Sub(t0).Seconds()
	report(b, "%d deployments baking, poll %s, calls over %s:\n%s", baking, pollEvery, t1.Sub(t0).Round(time.Millisecond), table(c, t1.Sub(t0)))
	report(b, "ELB Describe*: %.2f/s   all AWS calls: %.2f/s   (goal at 100 deployments: <= 5/s and <= 30/s)", float64(elbDescribe.Calls)/secs, float64(all.Calls)/secs)
	b.ReportMetric(float64(baking), "in-flight")
	b.ReportMetric(float64(elbDescribe.Calls)/secs, "elb-describe/s")
	b.ReportMetric(float64(all.Calls)/secs, "aws-calls/s")
}

func benchBucket(b *testing.B, n int, pollEvery time.Duration) {
	f := newFleet(b, n, pollEvery, daemonDefaults)
	// From here on, as in an account that shares the ELB API's Describe* bucket: the daemon's start-up
	// reads are not throttled, everything after is.
	f.px.AWS.AddBucket(faultproxy.ELBDescribeBucket())
	f.px.Reset()
	b.ResetTimer()
	t0 := time.Now()
	ids, refused := f.createAll(&deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 10, Bake: deploy.Duration(5 * time.Second)}, 3*time.Minute)
	created := time.Since(t0)
	states := f.waitAll(ids, 8*time.Minute, func(d *deploy.Deployment) bool { return d.State.Terminal() })
	elapsed := time.Since(t0)
	b.StopTimer()
	c := f.px.Counts()
	report(b, "%d requested in %s: %d accepted, %d refused %v; after %s: %v; not succeeded: %v",
		n, created.Round(time.Millisecond), len(ids), len(refused), refusals(refused), elapsed.Round(time.Second), states, f.endings())
	report(b, "calls through the proxies (throttled = refused by the emulated bucket):\n%s", table(c, elapsed))
	b.ReportMetric(float64(len(refused)), "refused")
	b.ReportMetric(float64(states[deploy.StateSucceeded]), "succeeded")
	b.ReportMetric(float64(states[deploy.StateRolledBack]), "rolled-back")
	b.ReportMetric(float64(c.Sum(nil).Throttled), "throttled-calls")
}

// fleet is n services in one daemon: n demo stacks in the shared kumo (each with its own ALB, target
// groups, alarms and repository: kumo keeps them in memory, so that is cheap), one ECS stand-in holding
// all 2n ECS services, and the daemon reaching both through fault proxies.
type fleet struct {
	b      testing.TB
	e      *env
	px     *proxies
	stacks []*demostack.Stack

	mu   sync.Mutex
	last map[string]*deploy.Deployment // latest read of each deployment by waitAll
}

// newFleet builds the fleet and starts its daemon; edits rewrite the config after the proxy edit (e.g. to
// drop the e2e timeouts under `defaults:` and see the daemon's own).
func newFleet(tb testing.TB, n int, pollEvery time.Duration, edits ...func(string) string) *fleet {
	tb.Helper()
	k := emulator.Shared(tb)
	ctx := emulator.Context(tb, 5*time.Minute)
	cfg := emulator.Config(k.URL)
	worlds++
	prefix := fmt.Sprintf("eco%d-", worlds)
	f := &fleet{b: tb, stacks: make([]*demostack.Stack, n), last: map[string]*deploy.Deployment{}}
	t0 := time.Now()
	if err := parallel(n, 8, func(i int) error {
		st, err := demostack.Create(ctx, cfg, fmt.Sprintf("%s%d", prefix, i), "v1", "v2")
		f.stacks[i] = st
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	fake, err := ecsfake.Start(ecsfake.Options{ELBv2: elb.NewFromConfig(cfg), StartDelay: 50 * time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(fake.Close)
	for _, st := range f.stacks {
		td := fake.SeedTaskDefinition("td-"+st.Name, st.Container, st.RepositoryURI+":v1")
		if _, err := fake.Seed(st.Cluster, st.BlueService, td, demostack.LiveCount, st.BlueTG, int(st.ContainerPort)); err != nil {
			tb.Fatal(err)
		}
		if _, err := fake.Seed(st.Cluster, st.GreenService, td, 0, st.GreenTG, int(st.ContainerPort)); err != nil {
			tb.Fatal(err)
		}
		fake.SeedScalableTarget(st.Cluster, st.BlueService, demostack.LiveCount, 4*demostack.LiveCount, false)
		fake.SeedScalableTarget(st.Cluster, st.GreenService, 0, 4*demostack.LiveCount, true)
	}
	tb.Logf("fleet of %d services created in %s", n, time.Since(t0).Round(time.Millisecond))

	dir := tb.TempDir()
	e := &env{t: tb, db: filepath.Join(dir, "switchyard.db"), cfg: filepath.Join(dir, "switchyard.yaml"), ctx: ctx}
	port, err := emulator.FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	// The first stack renders the whole config as a World would; the others add their service entries.
	w := &demostack.World{KumoURL: k.URL, AWS: cfg, Stack: f.stacks[0], ECS: fake}
	yaml := w.ConfigYAML(fmt.Sprintf("127.0.0.1:%d", port), e.db, pollEvery, []demostack.Token{{Name: "e2e-admin", Value: adminToken}}, "")
	var sb strings.Builder
	sb.WriteString(yaml)
	for _, st := range f.stacks[1:] {
		sb.WriteString(st.ServiceYAML(""))
	}
	f.px = newProxies(tb)
	yaml = f.px.edit(sb.String())
	for _, edit := range edits {
		yaml = edit(yaml)
	}
	if err := os.WriteFile(e.cfg, []byte(yaml), 0o600); err != nil {
		tb.Fatal(err)
	}
	e.d = e.start()
	if e.c, err = client.New(e.d.URL, adminToken, nil); err != nil {
		tb.Fatal(err)
	}
	f.e = e
	return f
}

// measureServicesList times `GET /v1/services` on the idle daemon (no deployment yet, so every AWS call
// in the meantime is the request's) and reports its latency and AWS calls per request.
func (f *fleet) measureServicesList(b *testing.B, requests int) {
	var took []time.Duration
	f.px.Reset()
	for range requests {
		t0 := time.Now()
		if _, err := f.e.c.Services(f.e.ctx); err != nil {
			b.Fatalf("GET /v1/services: %v", err)
		}
		took = append(took, time.Since(t0))
	}
	c := f.px.Counts()
	per := float64(c.Sum(nil).Calls) / float64(requests)
	report(b, "GET /v1/services with %d services: median %s, max %s, %.1f AWS calls per request:\n%s",
		len(f.stacks), quantile(took, 0.5).Round(time.Millisecond), quantile(took, 1).Round(time.Millisecond), per, table(c, 0))
	b.ReportMetric(float64(quantile(took, 0.5).Microseconds())/1000, "services-get-p50-ms")
	b.ReportMetric(per, "services-get-calls/req")
}

// createAll requests one deployment of v2 per service, 8 at a time, for at most budget (a request still
// unanswered then is abandoned and counted as refused, though the daemon may have created it); it returns the ids of the accepted
// deployments and the errors of the refused ones.
func (f *fleet) createAll(s *deploy.Strategy, budget time.Duration) (ids []string, refused []error) {
	ctx, cancel := context.WithTimeout(f.e.ctx, budget)
	defer cancel()
	var mu sync.Mutex
	_ = parallel(len(f.stacks), 8, func(i int) error {
		d, err := f.e.c.CreateDeployment(ctx, f.stacks[i].Name, "v2", client.DeployOptions{Strategy: s, Reason: "economy bench"})
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			refused = append(refused, err)
		} else {
			ids = append(ids, d.ID)
		}
		return nil
	})
	sort.Strings(ids)
	return ids, refused
}

// refusals groups create errors by HTTP status.
func refusals(errs []error) map[string]int {
	out := map[string]int{}
	for _, err := range errs {
		var api *client.APIError
		switch {
		case errors.As(err, &api):
			out[strconv.Itoa(api.Status)+" "+api.Code]++
		case errors.Is(err, context.DeadlineExceeded):
			out["unanswered within the create budget (may exist)"]++
		default:
			out["transport: "+err.Error()]++
		}
	}
	return out
}

// endings groups the deployments that did not succeed by state and cause, with one reason of each.
func (f *fleet) endings() map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := map[string]int{}
	example := map[string]string{}
	for _, d := range f.last {
		if d.State == deploy.StateRolledBack || d.State == deploy.StateFailed || d.State == deploy.StateRollingBack {
			k := string(d.State) + "/" + string(d.Cause)
			n[k]++
			if example[k] == "" {
				example[k] = d.Reason
			}
		}
	}
	out := map[string]string{}
	for k, c := range n {
		out[k] = fmt.Sprintf("%d, e.g. %q", c, example[k])
	}
	return out
}

// waitAll polls every deployment until cond holds for all of them or timeout passes, and returns how
// many are in each state at the end.
func (f *fleet) waitAll(ids []string, timeout time.Duration, cond func(*deploy.Deployment) bool) map[deploy.State]int {
	deadline := time.Now().Add(timeout)
	pending := append([]string(nil), ids...)
	for len(pending) > 0 && time.Now().Before(deadline) {
		var still []string
		for _, id := range pending {
			d, err := f.e.c.Deployment(f.e.ctx, id)
			if err == nil {
				f.mu.Lock()
				f.last[id] = d
				f.mu.Unlock()
			}
			if err != nil || !cond(d) {
				still = append(still, id)
			}
		}
		pending = still
		if len(pending) > 0 {
			time.Sleep(250 * time.Millisecond)
		}
	}
	if len(pending) > 0 {
		f.b.Logf("%d of %d deployments did not get there within %s", len(pending), len(ids), timeout)
	}
	states := map[deploy.State]int{}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		if d := f.last[id]; d != nil {
			states[d.State]++
		} else {
			states["unreadable"]++
		}
	}
	return states
}

// parallel runs fn(0..n-1) on at most workers goroutines and returns the first error.
func parallel(n, workers int, fn func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

// report prints to stdout: a benchmark's own log is cut to ten lines, and these tables are the result.
func report(b *testing.B, format string, args ...any) { daemontest.Report(b, format, args...) }

func envInt(tb testing.TB, key string, def int) int { return daemontest.EnvInt(tb, key, def) }

func envDuration(tb testing.TB, key string, def time.Duration) time.Duration {
	return daemontest.EnvDuration(tb, key, def)
}
