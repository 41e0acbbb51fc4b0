package daemontest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/client"
	"github.com/switchyard/switchyard/pkg/deploy"
)

// Steps builds a steps strategy from percent, bake pairs: Steps(10, time.Minute, 100, time.Duration(0)).
func Steps(pairs ...any) *deploy.Strategy {
	s := &deploy.Strategy{Type: deploy.StrategySteps}
	for i := 0; i < len(pairs); i += 2 {
		s.Steps = append(s.Steps, deploy.Step{Percent: float64(pairs[i].(int)), Bake: deploy.Duration(pairs[i+1].(time.Duration))})
	}
	return s
}

// Report prints a benchmark's result line to stdout (Go cuts a benchmark's own log to 10 lines).
func Report(b *testing.B, format string, args ...any) {
	fmt.Printf("--- %s: %s\n", b.Name(), fmt.Sprintf(format, args...))
}

// EnvInt reads a positive integer setting from the environment.
func EnvInt(tb testing.TB, key string, def int) int {
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		tb.Fatalf("%s=%q: want a positive integer", key, v)
	}
	return n
}

// EnvDuration reads a positive duration setting from the environment.
func EnvDuration(tb testing.TB, key string, def time.Duration) time.Duration {
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		tb.Fatalf("%s=%q: want a positive duration", key, v)
	}
	return d
}

// WaitFor polls a deployment through the API until cond holds, failing the test after timeout.
func WaitFor(t testing.TB, ctx context.Context, c *client.Client, id, what string, timeout time.Duration, cond func(*deploy.Deployment) bool) *deploy.Deployment {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last *deploy.Deployment
	for time.Now().Before(deadline) {
		d, err := c.Deployment(ctx, id)
		if err == nil {
			last = d
			if cond(d) {
				return d
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; last: %+v", what, last)
	return nil
}

// Deploy creates a deployment of tag to service, failing the test on an error.
func Deploy(t testing.TB, ctx context.Context, c *client.Client, service, tag string, s *deploy.Strategy) *deploy.Deployment {
	t.Helper()
	d, err := c.CreateDeployment(ctx, service, tag, client.DeployOptions{Strategy: s, Reason: "e2e"})
	if err != nil {
		t.Fatalf("deploy %s: %v", tag, err)
	}
	return d
}

// Actions returns a deployment's audit trail as actor:action.
func Actions(t testing.TB, ctx context.Context, c *client.Client, id string) []string {
	t.Helper()
	evs, err := c.Events(ctx, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Actor + ":" + ev.Action
	}
	return out
}
