package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/switchyard/switchyard/pkg/client"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/dynamo"
	"github.com/switchyard/switchyard/pkg/shifter"
	"github.com/switchyard/switchyard/test/daemontest"
	"github.com/switchyard/switchyard/test/demostack"
	"github.com/switchyard/switchyard/test/ecsfake"
	"github.com/switchyard/switchyard/test/emulator"
)

// haFleet is n services run by several `switchyard serve` processes on one DynamoDB table in kumo,
// each daemon reaching AWS through its own fault proxies (so every call is counted per daemon).
type haFleet struct {
	t      testing.TB
	stacks []*demostack.Stack
	w      *demostack.World
	table  string
	store  *dynamo.Store // the test's own view of the table (not counted)
	yaml   string        // the config before the per-daemon edits
	ds     []*haDaemon
	lease  time.Duration
}

type haDaemon struct {
	name string
	d    *daemon
	c    *client.Client
	px   *proxies
	ddb  *dynamoCounter // its DynamoDB calls by purpose
}

func newHAFleet(t testing.TB, n int, lease time.Duration) *haFleet {
	t.Helper()
	k := emulator.Shared(t)
	ctx := emulator.Context(t, 5*time.Minute)
	cfg := emulator.Config(k.URL)
	worlds++
	prefix := fmt.Sprintf("ha%d-", worlds)
	f := &haFleet{t: t, stacks: make([]*demostack.Stack, n), lease: lease, table: fmt.Sprintf("ha-switchyard-%d-%d", worlds, time.Now().UnixNano()%1000000)}
	if err := parallel(n, 8, func(i int) error {
		st, err := demostack.Create(ctx, cfg, fmt.Sprintf("%s%d", prefix, i), "v1", "v2")
		f.stacks[i] = st
		return err
	}); err != nil {
		t.Fatal(err)
	}
	fake, err := ecsfake.Start(ecsfake.Options{ELBv2: elb.NewFromConfig(cfg), StartDelay: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	for _, st := range f.stacks {
		td := fake.SeedTaskDefinition("td-"+st.Name, st.Container, st.RepositoryURI+":v1")
		if _, err := fake.Seed(st.Cluster, st.BlueService, td, demostack.LiveCount, st.BlueTG, int(st.ContainerPort)); err != nil {
			t.Fatal(err)
		}
		if _, err := fake.Seed(st.Cluster, st.GreenService, td, 0, st.GreenTG, int(st.ContainerPort)); err != nil {
			t.Fatal(err)
		}
	}
	f.w = &demostack.World{KumoURL: k.URL, AWS: cfg, Stack: f.stacks[0], ECS: fake}
	var sb strings.Builder
	sb.WriteString(f.w.ConfigYAML("LISTEN", "unused.db", poll, []demostack.Token{{Name: "e2e-admin", Value: adminToken}}, ""))
	for _, st := range f.stacks[1:] {
		sb.WriteString(st.ServiceYAML(""))
	}
	f.yaml = sb.String()
	i := strings.Index(f.yaml, "store: {")
	j := strings.Index(f.yaml[i:], "\n")
	f.yaml = f.yaml[:i] + "store: {driver: dynamodb, table: " + f.table + ", lease_time: " + lease.String() + ", daemon_name: DAEMON}" + f.yaml[i+j:]
	f.store = dynamo.New(dynamodb.NewFromConfig(cfg), f.table)
	return f
}

// start launches daemon number i (a new process, a new lease owner, new proxies).
func (f *haFleet) start(i int) *haDaemon {
	f.t.Helper()
	port, err := emulator.FreePort()
	if err != nil {
		f.t.Fatal(err)
	}
	hd := &haDaemon{name: fmt.Sprintf("ha-d%d", i), px: newProxies(f.t)}
	yaml := strings.Replace(hd.px.edit(f.yaml), "LISTEN", fmt.Sprintf("127.0.0.1:%d", port), 1)
	yaml = strings.Replace(yaml, "daemon_name: DAEMON", "daemon_name: "+hd.name, 1)
	hd.ddb = newDynamoCounter(f.t, hd.px.AWS.URL()) // in front of its fault proxy: every call is counted by both
	yaml = strings.Replace(yaml, "  endpoints: {", "  endpoints: {dynamodb: "+hd.ddb.URL()+", ", 1)
	path := filepath.Join(f.t.TempDir(), "switchyard.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		f.t.Fatal(err)
	}
	hd.d = daemontest.Start(f.t, binary, path)
	if hd.c, err = client.New(hd.d.URL, adminToken, nil); err != nil {
		f.t.Fatal(err)
	}
	for len(f.ds) <= i {
		f.ds = append(f.ds, nil)
	}
	f.ds[i] = hd
	return hd
}

// owners maps each lease's deployment to its owner's daemon name and epoch, read from the table.
func (f *haFleet) owners() map[string]deploy.Lease {
	f.t.Helper()
	ls, _, err := f.store.ListLeases(emulator.Context(f.t, 10*time.Second))
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]deploy.Lease{}
	for _, l := range ls {
		l.Owner = strings.SplitN(l.Owner, "/", 2)[0]
		out[l.DeploymentID] = l
	}
	return out
}

func signal(t testing.TB, d *daemon, s syscall.Signal) {
	t.Helper()
	if err := d.Signal(s); err != nil {
		t.Fatal(err)
	}
}

// watcher reads every stack's listener and rule weights straight from kumo, over and over, and keeps
// every distinct pair it saw per service: an independent view of the ALB that no daemon writes.
type watcher struct {
	mu   sync.Mutex
	seen map[string]map[deploy.Weights]bool
	stop chan struct{}
	done chan struct{}
}

func (f *haFleet) watch() *watcher {
	w := &watcher{seen: map[string]map[deploy.Weights]bool{}, stop: make(chan struct{}), done: make(chan struct{})}
	ctx := emulator.Context(f.t, 10*time.Minute)
	go func() {
		defer close(w.done)
		for {
			for _, st := range f.stacks {
				l, r, err := st.Weights(ctx, f.w.AWS)
				if err != nil {
					continue
				}
				w.mu.Lock()
				if w.seen[st.Name] == nil {
					w.seen[st.Name] = map[deploy.Weights]bool{}
				}
				w.seen[st.Name][deploy.Weights{Blue: int(l[0]), Green: int(l[1])}] = true
				w.seen[st.Name][deploy.Weights{Blue: int(r[0]), Green: int(r[1])}] = true
				w.mu.Unlock()
			}
			select {
			case <-w.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return w
}

func (w *watcher) close() { close(w.stop); <-w.done }

// unexplained returns the weights seen on service that neither the deployment's starting weights nor
// any weights.intent of its journal (written before the change is sent) explains.
func (w *watcher) unexplained(t testing.TB, c *client.Client, service string, d *deploy.Deployment) []string {
	evs, err := c.Events(emulator.Context(t, 10*time.Second), d.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	ok := map[string]bool{shifter.Describe(deploy.AllOn(d.From)): true}
	for _, e := range evs {
		if e.Action == "weights.intent" || e.Action == "rollback" || e.Action == "rollback.traffic_restored" {
			ok[e.Detail["weights"]] = true
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for seen := range w.seen[service] {
		if !ok[shifter.Describe(seen)] && seen != deploy.AllOn(d.From) && seen != deploy.AllOn(d.To) {
			out = append(out, seen.String())
		}
	}
	return out
}

func emulator_ctx(t testing.TB) context.Context { return emulator.Context(t, 30*time.Second) }

func clientOpts(s *deploy.Strategy) client.DeployOptions {
	return client.DeployOptions{Strategy: s, Reason: "ha e2e"}
}

// waitAny polls a deployment through the last daemon (never killed nor stopped by the tests).
func waitAny(t testing.TB, f *haFleet, id, what string, timeout time.Duration, cond func(*deploy.Deployment) bool) *deploy.Deployment {
	t.Helper()
	return daemontest.WaitFor(t, emulator.Context(t, timeout+10*time.Second), f.ds[len(f.ds)-1].c, id, what, timeout, cond)
}

func actionsOf(t testing.TB, c *client.Client, id string) []string {
	t.Helper()
	return daemontest.Actions(t, emulator_ctx(t), c, id)
}
