package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/client"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/test/daemontest"
	"github.com/switchyard/switchyard/test/demostack"
	"github.com/switchyard/switchyard/test/emulator"
)

var (
	binary string // the switchyard binary under test, built once
	worlds int    // worlds created so far in this test binary
)

const (
	adminToken = "e2e-admin-token-0123456789"
	roToken    = "e2e-readonly-token-0123456789"
)

func TestMain(m *testing.M) { os.Exit(daemontest.Main(m, &binary)) }

// daemon is a switchyard serve process.
type daemon = daemontest.Daemon

// env is a world plus a daemon configured for it.
type env struct {
	t    testing.TB
	w    *demostack.World
	d    *daemon
	c    *client.Client
	ro   *client.Client
	db   string
	cfg  string
	ctx  context.Context
	name string
}

// newEnv creates a world called name (its own ALB, alarms, ECR repository and ECS stand-in) and starts a
// daemon for it with poll interval poll and the service strategy YAML; edits rewrite the config first.
func newEnv(t testing.TB, name string, poll time.Duration, strategyYAML string, edits ...func(string) string) *env {
	t.Helper()
	k := emulator.Shared(t)
	ctx := emulator.Context(t, 3*time.Minute)
	// Every world gets its own names in the shared emulator, also when a test runs more than once.
	worlds++
	name = fmt.Sprintf("%s%d", name, worlds)
	w, err := demostack.NewWorld(ctx, k.URL, name, 50*time.Millisecond, "v2", "v3")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	dir := t.TempDir()
	e := &env{t: t, w: w, db: filepath.Join(dir, "switchyard.db"), cfg: filepath.Join(dir, "switchyard.yaml"), ctx: ctx, name: name}
	port, err := emulator.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	listen := fmt.Sprintf("127.0.0.1:%d", port)
	yaml := w.ConfigYAML(listen, e.db, poll, []demostack.Token{{Name: "e2e-admin", Value: adminToken}, {Name: "e2e-oncall", Value: roToken, ReadOnly: true}}, strategyYAML)
	for _, edit := range edits {
		yaml = edit(yaml)
	}
	if err := os.WriteFile(e.cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	e.d = e.start()
	if e.c, err = client.New(e.d.URL, adminToken, nil); err != nil {
		t.Fatal(err)
	}
	if e.ro, err = client.New(e.d.URL, roToken, nil); err != nil {
		t.Fatal(err)
	}
	return e
}

// start launches `switchyard serve` and waits for /readyz.
func (e *env) start() *daemon {
	e.t.Helper()
	return daemontest.Start(e.t, binary, e.cfg)
}

// weights reads both routes straight from the emulator (not through switchyard).
func (e *env) weights() (listener, rule deploy.Weights) {
	e.t.Helper()
	l, r, err := e.w.Stack.Weights(e.ctx, e.w.AWS)
	if err != nil {
		e.t.Fatal(err)
	}
	return deploy.Weights{Blue: int(l[0]), Green: int(l[1])}, deploy.Weights{Blue: int(r[0]), Green: int(r[1])}
}

func (e *env) assertWeights(want deploy.Weights) {
	e.t.Helper()
	l, r := e.weights()
	if l != want || r != want {
		e.t.Fatalf("ALB weights listener %s rule %s, want %s on both", l, r, want)
	}
}

func (e *env) waitFor(id, what string, timeout time.Duration, cond func(*deploy.Deployment) bool) *deploy.Deployment {
	e.t.Helper()
	return daemontest.WaitFor(e.t, e.ctx, e.c, id, what, timeout, cond)
}

func (e *env) waitState(id string, s deploy.State, timeout time.Duration) *deploy.Deployment {
	e.t.Helper()
	return e.waitFor(id, string(s), timeout, func(d *deploy.Deployment) bool { return d.State == s })
}

func (e *env) deploy(tag string, s *deploy.Strategy) *deploy.Deployment {
	e.t.Helper()
	return daemontest.Deploy(e.t, e.ctx, e.c, e.name, tag, s)
}

func (e *env) actions(id string) []string {
	e.t.Helper()
	return daemontest.Actions(e.t, e.ctx, e.c, id)
}

func steps(pairs ...any) *deploy.Strategy { return daemontest.Steps(pairs...) }
