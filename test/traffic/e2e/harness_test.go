// Package e2e proves, through real `switchyard serve` processes in the traffic world, what users see:
// zero failed requests for a good release, the failures a bad one causes and none after its rollback,
// rollbacks on real errors and real health, and (as a benchmark) how long a bad release serves users
// before it is out of traffic.
package e2e

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/client"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/test/daemontest"
	"github.com/switchyard/switchyard/test/demostack"
)

var (
	binary string // the switchyard binary under test, built once
	worlds int    // worlds created so far in this test binary
)

const (
	adminToken = "e2e-admin-token-0123456789"
	roToken    = "e2e-readonly-token-0123456789"
	poll       = 100 * time.Millisecond
)

func TestMain(m *testing.M) { os.Exit(daemontest.Main(m, &binary)) }

// env is a world plus a daemon configured for it.
type env struct {
	t    testing.TB
	w    *demostack.World
	d    *daemontest.Daemon
	c    *client.Client
	db   string
	cfg  string
	ctx  context.Context
	name string
}

func (e *env) start() *daemontest.Daemon { e.t.Helper(); return daemontest.Start(e.t, binary, e.cfg) }

func (e *env) waitState(id string, s deploy.State, timeout time.Duration) *deploy.Deployment {
	e.t.Helper()
	return daemontest.WaitFor(e.t, e.ctx, e.c, id, string(s), timeout, func(d *deploy.Deployment) bool { return d.State == s })
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

func report(b *testing.B, format string, args ...any) { daemontest.Report(b, format, args...) }

func envInt(tb testing.TB, key string, def int) int { return daemontest.EnvInt(tb, key, def) }

func envDuration(tb testing.TB, key string, def time.Duration) time.Duration {
	return daemontest.EnvDuration(tb, key, def)
}
