package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"reflect"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/api"
	"github.com/switchyard/switchyard/pkg/config"
	"github.com/switchyard/switchyard/pkg/dashboard"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/eventhub"
	"github.com/switchyard/switchyard/pkg/logging"
	"github.com/switchyard/switchyard/pkg/metrics"
)

// shutdownTimeout bounds how long in-flight API requests may take once shutdown starts.
const shutdownTimeout = 30 * time.Second

func (a *app) serveCommand() *cobra.Command {
	var (
		path            string
		metricsEndpoint bool
		dashboardOn     bool
		unsafeClock     bool
	)
	cmd := &cobra.Command{
		Use:   "serve --config FILE",
		Short: "Run the deployment daemon and its HTTP API",
		Long: `Run the daemon: the deployment controller and the HTTP API on the configured listen address.

SIGINT/SIGTERM shut down gracefully: the API stops accepting requests, in-flight requests finish,
then the controller stops; unfinished deployments are persisted and recovered at the next start.
SIGHUP (or POST /v1/reload, or 'switchyard reload') re-reads the configuration: services and API
tokens change without a restart, and running deployments keep the service definition they started
with. Other settings (listen, store, aws, log, poll_interval, calendar) need a restart.

/healthz, /readyz and /metrics need no token; --metrics-endpoint=false removes /metrics.
The web dashboard is at / (sign in with an API token; docs/dashboard.md); --dashboard=false removes it.

For tests only, --unsafe-test-clock makes the daemon read ` + EnvTestClock + `=start=RFC3339[,rate=N]
and run the controller on that shifted, accelerated clock; either one without the other is refused
(docs/schedules.md, "Test clock").`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			hup := a.hup
			if hup == nil {
				ch := make(chan os.Signal, 1)
				signal.Notify(ch, syscall.SIGHUP)
				defer signal.Stop(ch)
				hup = ch
			}
			clk, err := testClock(unsafeClock, os.Getenv(EnvTestClock))
			if err != nil {
				return err
			}
			return a.serve(withClock(cmd.Context(), clk), path, metricsEndpoint, dashboardOn, hup)
		},
	}
	cmd.Flags().BoolVar(&unsafeClock, "unsafe-test-clock", false, "TESTS ONLY: run on the clock in "+EnvTestClock)
	_ = cmd.Flags().MarkHidden("unsafe-test-clock")
	cmd.Flags().StringVarP(&path, "config", "c", "", "configuration file (YAML)")
	cmd.Flags().BoolVar(&metricsEndpoint, "metrics-endpoint", true, "serve Prometheus metrics on GET /metrics (unauthenticated)")
	cmd.Flags().BoolVar(&dashboardOn, "dashboard", true, "serve the web dashboard at / (sign-in with an API token)")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

// serve runs until ctx is cancelled (SIGINT/SIGTERM) or the HTTP server fails.
func (a *app) serve(ctx context.Context, path string, metricsEndpoint, dashboardOn bool, hup <-chan os.Signal) (err error) {
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	log, err := logging.NewWriter(cfg.Log, a.stderr)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()
	m := metrics.New()
	tokens, err := api.TokensFromConfig(cfg.Auth.Tokens)
	if err != nil {
		return err
	}
	if len(tokens) == 0 {
		log.Warn("no API tokens configured: every /v1 request will be refused with 401")
	}

	// The controller outlives the signal: HTTP is drained first, then the controller is stopped, so
	// no request sees a controller that is already shutting down.
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	d, closeDaemon, err := buildDaemon(runCtx, cfg, log, m)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer func() {
		stopRun()
		if closeDaemon != nil {
			if cerr := closeDaemon(); cerr != nil {
				log.Error("closing the daemon", zap.Error(cerr))
				err = errors.Join(err, cerr)
			}
		}
		log.Info("stopped")
	}()

	r := &reloader{path: path, current: cfg, ctl: d, log: log}
	srv, err := api.New(api.Options{Controller: d, Tokens: tokens, Reload: r.reload, Ready: d.Ready,
		Logger: log, Metrics: m, DisableMetricsEndpoint: !metricsEndpoint})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	r.api = srv

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("serve: listen on %s: %w", cfg.Listen, err)
	}
	if err := d.Start(runCtx); err != nil {
		_ = ln.Close()
		return fmt.Errorf("serve: start controller: %w", err)
	}
	hs := api.NewHTTPServer(srv)
	if dashboardOn {
		// The same controller calls as the API; sessions check the API's current tokens; live from
		// the daemon's event hub when it has one (docs/dashboard.md).
		hub, _ := d.(interface{ Hub() *eventhub.Hub })
		opts := dashboard.Options{Controller: d, Auth: srv, Clock: clockFrom(ctx), Logger: log.Named("dashboard")}
		if hub != nil {
			opts.Hub = hub.Hub()
		}
		dash := dashboard.New(opts)
		srv.Handle("GET /{$}", dash)
		srv.Handle("/ui/", dash)
		hs.RegisterOnShutdown(dash.Close) // open streams would hold the drain until its timeout
	}
	if lr, ok := d.(interface{ LinkRoute() (string, http.Handler) }); ok {
		// Notification action links carry their own credential (signed, expiring, single use), so
		// they are served outside token auth; the handler acts as the link's owner (docs/notifications.md).
		if path, h := lr.LinkRoute(); path != "" && h != nil {
			srv.Handle(path, h)
		}
	}
	hs.ErrorLog = zap.NewStdLog(log.Named("http"))
	served := make(chan error, 1)
	// net/http's own refusals (oversized headers, malformed requests) answer in the API's JSON shape too.
	go func() { served <- hs.Serve(api.JSONErrorListener(ln)) }()
	log.Info("listening", zap.String("addr", ln.Addr().String()), zap.Int("services", len(cfg.Services)),
		zap.Int("tokens", len(tokens)), zap.Bool("metrics_endpoint", metricsEndpoint))
	if a.onListen != nil {
		a.onListen(ln.Addr().String())
	}

	for {
		select {
		case <-hup:
			err := r.reload(ctx, "SIGHUP")
			if a.onReload != nil {
				a.onReload(err)
			}
		case err := <-served:
			return fmt.Errorf("serve: http server: %w", err)
		case <-ctx.Done():
			log.Info("shutting down: draining API requests", zap.Duration("timeout", shutdownTimeout))
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
			defer cancel()
			if err := hs.Shutdown(sctx); err != nil {
				return fmt.Errorf("serve: shutdown: %w", err)
			}
			return nil
		}
	}
}

// reloader applies a re-read configuration: tokens and services. One reload at a time.
type reloader struct {
	mu      sync.Mutex
	path    string
	current *config.Config
	ctl     api.Controller
	api     *api.Server
	log     *zap.Logger
}

// reload is the api.Reloader and the SIGHUP handler. An invalid file changes nothing.
func (r *reloader) reload(_ context.Context, actor string) error {
	const op = "serve.reload"
	r.mu.Lock()
	defer r.mu.Unlock()
	cfg, err := config.Load(r.path)
	if err != nil {
		r.log.Error("configuration reload failed; keeping the running configuration", zap.String("actor", actor), zap.Error(err))
		return deploy.Wrap(op, deploy.KindPrecondition, err, "configuration not reloaded")
	}
	tokens, err := api.TokensFromConfig(cfg.Auth.Tokens)
	if err == nil {
		// SetTokens validates before swapping, so a bad token set leaves the old one in place.
		err = r.api.SetTokens(tokens)
	}
	if err != nil {
		r.log.Error("configuration reload failed; keeping the running configuration", zap.String("actor", actor), zap.Error(err))
		return deploy.Wrap(op, deploy.KindPrecondition, err, "configuration not reloaded")
	}
	r.ctl.SetServices(cfg.DomainServices())
	if changed := restartOnly(r.current, cfg); len(changed) > 0 {
		r.log.Warn("configuration changes that need a restart were not applied", zap.Strings("keys", changed))
	}
	r.current = cfg
	r.log.Info("configuration reloaded", zap.String("actor", actor), zap.Int("services", len(cfg.Services)), zap.Int("tokens", len(tokens)))
	return nil
}

// restartOnly lists the top-level settings that differ but only take effect at start-up.
func restartOnly(old, cur *config.Config) []string {
	var out []string
	for _, c := range []struct {
		key  string
		a, b any
	}{
		{"listen", old.Listen, cur.Listen}, {"log", old.Log, cur.Log}, {"store", old.Store, cur.Store},
		{"aws", old.AWS, cur.AWS}, {"poll_interval", old.PollInterval, cur.PollInterval},
		{"recovery", old.Recovery, cur.Recovery}, {"drift_guard", old.DriftGuard, cur.DriftGuard},
		// The configured calendar is built at start; closures added through the API apply at once.
		{"calendar", old.Calendar, cur.Calendar},
	} {
		if !reflect.DeepEqual(c.a, c.b) {
			out = append(out, c.key)
		}
	}
	return out
}
