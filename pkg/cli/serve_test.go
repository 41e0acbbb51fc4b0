package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/api/apitest"
	"github.com/switchyard/switchyard/pkg/client"
	"github.com/switchyard/switchyard/pkg/config"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/metrics"
)

// fakeDaemon is the apitest controller plus the lifecycle serve drives.
type fakeDaemon struct {
	*apitest.Controller
	mu       sync.Mutex
	startCtx context.Context
	closed   bool
	notReady error
}

func (d *fakeDaemon) Start(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.startCtx = ctx
	return nil
}

func (d *fakeDaemon) Ready(context.Context) error { return d.notReady }

func (d *fakeDaemon) close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.startCtx.Err() == nil {
		return errors.New("closed before the controller's context was cancelled")
	}
	d.closed = true
	return nil
}

const serviceYAML = `
services:
  web:
    cluster: main
    blue_service: web-blue
    green_service: web-green
    container: app
    image_repository: 123456789012.dkr.ecr.us-east-1.amazonaws.com/web
    listener_arn: arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/alb/1/2
    blue_target_group_arn: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-blue/1
    green_target_group_arn: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-green/2
`

// apiServiceYAML is a second service, added by writeConfig(..., true).
const apiServiceYAML = `  api:
    cluster: main
    blue_service: api-blue
    green_service: api-green
    container: app
    image_repository: 123456789012.dkr.ecr.us-east-1.amazonaws.com/api
    listener_arn: arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/alb/1/3
    blue_target_group_arn: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api-blue/3
    green_target_group_arn: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api-green/4
`

// writeConfig writes a config with service web, and api too when withAPI.
func writeConfig(t *testing.T, path, token string, withAPI bool) {
	t.Helper()
	y := "listen: 127.0.0.1:0\nstore:\n  path: " + filepath.Join(filepath.Dir(path), "db.sqlite") +
		"\nauth:\n  tokens:\n    - name: ops\n      value: " + token + "\n" + serviceYAML
	if withAPI {
		y += apiServiceYAML
	}
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestServeReloadAndShutdown(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "switchyard.yaml")
	const tokA, tokB = "token-a-0123456789abcdef", "token-b-0123456789abcdef"
	writeConfig(t, path, tokA, false)

	daemon := &fakeDaemon{Controller: apitest.New()}
	orig := buildDaemon
	t.Cleanup(func() { buildDaemon = orig })
	var builtWith *config.Config
	buildDaemon = func(_ context.Context, cfg *config.Config, _ *zap.Logger, m *metrics.Metrics) (Daemon, func() error, error) {
		if m == nil {
			return nil, nil, errors.New("no metrics")
		}
		builtWith = cfg
		return daemon, daemon.close, nil
	}

	var stderr, stdout bytes.Buffer
	a := newApp(&stdout, &stderr)
	hup := make(chan os.Signal, 1)
	addrs := make(chan string, 1)
	reloads := make(chan error, 1)
	a.hup, a.onListen, a.onReload = hup, func(s string) { addrs <- s }, func(err error) { reloads <- err }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- a.run(ctx, []string{"serve", "--config", path}) }()

	var addr string
	select {
	case addr = <-addrs:
	case code := <-done:
		t.Fatalf("serve exited %d: %s", code, stderr.String())
	}
	if builtWith == nil || builtWith.Listen != "127.0.0.1:0" {
		t.Fatalf("daemon built with %+v", builtWith)
	}
	bg := context.Background()
	cA, _ := client.New("http://"+addr, tokA, nil)
	cB, _ := client.New("http://"+addr, tokB, nil)
	if _, err := cA.Services(bg); err != nil {
		t.Fatalf("token A before reload: %v", err)
	}
	if err := cA.Ready(bg); err != nil {
		t.Fatal(err)
	}
	if err := cA.Health(bg); err != nil {
		t.Fatal(err)
	}

	// Reload over HTTP: token B replaces A and service api appears in the controller.
	writeConfig(t, path, tokB, true)
	if err := cA.Reload(bg, ""); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if _, err := cA.Services(bg); !client.IsKind(err, deploy.KindUnauthorized) {
		t.Fatalf("old token after reload: %v", err)
	}
	ss, err := cB.Services(bg)
	if err != nil || len(ss) != 2 || ss[0].Name != "api" || ss[1].Name != "web" {
		t.Fatalf("services after reload: %v %v", ss, err)
	}

	// A broken file changes nothing and says why.
	if err := os.WriteFile(path, []byte("listen: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err = cB.Reload(bg, "")
	if !client.IsKind(err, deploy.KindPrecondition) || !strings.Contains(err.Error(), "configuration not reloaded") {
		t.Fatalf("bad reload: %v", err)
	}
	if _, err := cB.Services(bg); err != nil {
		t.Fatalf("token B lost after a failed reload: %v", err)
	}

	// SIGHUP takes the same path.
	writeConfig(t, path, tokA, false)
	hup <- syscall.SIGHUP
	if err := <-reloads; err != nil {
		t.Fatalf("SIGHUP reload: %v", err)
	}
	if _, err := cA.Services(bg); err != nil {
		t.Fatalf("token A after SIGHUP: %v", err)
	}
	if n := daemon.SetServicesCalls(); n != 2 {
		t.Fatalf("SetServices called %d times, want 2 (HTTP + SIGHUP)", n)
	}

	cancel() // SIGINT/SIGTERM
	if code := <-done; code != 0 {
		t.Fatalf("serve exit %d: %s", code, stderr.String())
	}
	if !daemon.closed {
		t.Fatal("daemon not closed at shutdown")
	}
	if !strings.Contains(stderr.String(), `"configuration reloaded"`) || !strings.Contains(stderr.String(), `"actor":"SIGHUP"`) {
		t.Fatalf("reload not logged:\n%s", stderr.String())
	}
}

func TestServeErrors(t *testing.T) {
	t.Setenv(EnvServer, "")
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := newApp(&out, &errb).run(context.Background(), []string{"serve"}); code != 1 || !strings.Contains(errb.String(), `"config" not set`) {
		t.Fatalf("missing --config: %d %s", code, errb.String())
	}
	errb.Reset()
	if code := newApp(&out, &errb).run(context.Background(), []string{"serve", "--config", filepath.Join(dir, "none.yaml")}); code != 1 {
		t.Fatalf("missing file: %d", code)
	}
	// A daemon that cannot be built (store, AWS) stops serve before it listens.
	orig := buildDaemon
	t.Cleanup(func() { buildDaemon = orig })
	buildDaemon = func(context.Context, *config.Config, *zap.Logger, *metrics.Metrics) (Daemon, func() error, error) {
		return nil, nil, errors.New("store locked")
	}
	path := filepath.Join(dir, "c.yaml")
	writeConfig(t, path, "token-a-0123456789abcdef", false)
	errb.Reset()
	code := newApp(&out, &errb).run(context.Background(), []string{"serve", "--config", path})
	if code != 1 || !strings.Contains(errb.String(), "serve: store locked") {
		t.Fatalf("build failure: %d %s", code, errb.String())
	}
}
