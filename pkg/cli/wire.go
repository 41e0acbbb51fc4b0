package cli

// This file is the seam between `switchyard serve` and the packages that do the work (controller,
// store, AWS adapters). serve.go only relies on Daemon and buildDaemon.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/google/uuid"

	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/analysis"
	"github.com/switchyard/switchyard/pkg/analysis/probe"
	"github.com/switchyard/switchyard/pkg/api"
	"github.com/switchyard/switchyard/pkg/awsclient"
	"github.com/switchyard/switchyard/pkg/config"
	"github.com/switchyard/switchyard/pkg/controller"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/dynamo"
	"github.com/switchyard/switchyard/pkg/eventhub"
	"github.com/switchyard/switchyard/pkg/metrics"
	"github.com/switchyard/switchyard/pkg/notify"
	"github.com/switchyard/switchyard/pkg/prometheus"
	"github.com/switchyard/switchyard/pkg/provision"
	"github.com/switchyard/switchyard/pkg/sqlite"
)

// Daemon is what serve runs: the controller behind the API plus its lifecycle.
type Daemon interface {
	api.Controller
	// Start begins recovery of unfinished deployments and the control loops, and returns promptly;
	// the loops run until ctx is cancelled. serve calls it once, after the listener is bound.
	Start(ctx context.Context) error
	// Ready reports whether requests can be served (store open, recovery done); it backs /readyz.
	Ready(ctx context.Context) error
}

// daemon adds readiness to the controller.
type daemon struct {
	*controller.Controller
	store   deploy.Store
	started bool
	hub     *eventhub.Hub // the dashboard's live stream
	// notifier delivers audit events (nil: no notifications block); it only reads the store.
	notifier *notify.Runtime
}

func (d *daemon) Start(ctx context.Context) error {
	if err := d.Controller.Start(ctx); err != nil {
		return err
	}
	if d.notifier != nil {
		d.notifier.Start(ctx)
	}
	d.started = true
	return nil
}

// LinkRoute is where notification action links are served and their handler (empty path: links
// off). serve mounts it outside token authentication: the signed link is the credential.
func (d *daemon) LinkRoute() (string, http.Handler) {
	if d.notifier == nil {
		return "", nil
	}
	return d.notifier.LinkRoute()
}

func (d *daemon) Ready(ctx context.Context) error {
	if !d.started || !d.Recovered() {
		return errors.New("recovery of unfinished deployments not finished")
	}
	// A cheap read proves the store answers.
	_, err := d.store.ListDeployments(ctx, deploy.ListFilter{Limit: 1})
	return err
}

// buildDaemon opens the store, builds the AWS clients and the controller from cfg. The returned close
// function is called once at shutdown after the Start context has been cancelled: it waits for the
// control loops to persist their state and then closes the store.
var buildDaemon = func(ctx context.Context, cfg *config.Config, log *zap.Logger, m *metrics.Metrics) (Daemon, func() error, error) {
	clients, err := awsclient.New(ctx, cfg.AWS, m)
	if err != nil {
		return nil, nil, fmt.Errorf("aws clients: %w", err)
	}
	var store deploy.Store
	var leases *controller.LeaseOptions
	switch cfg.Store.Driver {
	case "sqlite":
		s, err := sqlite.Open(cfg.Store.Path)
		if err != nil {
			return nil, nil, err
		}
		store = s
	case "dynamodb":
		if err := dynamo.EnsureTable(ctx, clients.DynamoDB, cfg.Store.Table); err != nil {
			return nil, nil, fmt.Errorf("dynamodb store: %w", err)
		}
		ds := dynamo.New(clients.DynamoDB, cfg.Store.Table)
		store = ds
		leases = leaseOptions(ds, cfg.Store)
	default:
		return nil, nil, fmt.Errorf("unknown store driver %q", cfg.Store.Driver)
	}
	var preflight []func(context.Context, deploy.Service) error
	if g := cfg.DriftGuard; g.Enabled {
		check, err := driftPreflight(ctx, g)
		if err != nil {
			store.Close()
			return nil, nil, err
		}
		preflight = append(preflight, check)
	}
	clk := clockFrom(ctx) // one clock for the controller, the analysis and its probes
	prober := probe.New(clk, nil)
	engine := analysis.NewEngine(map[deploy.AnalysisProvider]analysis.Provider{
		deploy.ProviderProbe:      prober,
		deploy.ProviderPrometheus: prometheus.New(prometheus.Config{Credentials: clients.Credentials, Region: clients.Region}),
		deploy.ProviderCloudWatch: awsclient.NewMetricData(clients.CloudWatch),
	}, clk, log.Named("analysis"))
	objects, _ := store.(deploy.ObjectStore)
	hub := eventhub.New() // every stored event and deployment, live to the dashboard; never waits for it
	store = hub.Wrap(store)
	ctl, err := controller.New(controller.Options{
		Clock: clk, Objects: objects,
		Calendar:  controller.Calendar{Exchange: cfg.Calendar.Exchange, Closures: cfg.Calendar.Closures},
		Preflight: preflight, Analysis: engine,
		Store: store, Router: clients.Router, Containers: clients.Containers, Alarms: clients.Alarms, Images: clients.Images, Scaling: clients.Scaling,
		Services: cfg.DomainServices(), PollInterval: cfg.PollInterval.D(), RecoveryRollback: cfg.Recovery == "rollback",
		Log: log, Metrics: m, Leases: leases,
	})
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	var notifier *notify.Runtime
	if cfg.Notifications != nil {
		notifier, err = notify.FromConfig(*cfg.Notifications, notify.Deps{Events: store, Objects: objects, Actions: ctl,
			SNS: func() notify.Publisher { return clients.SNSPublisher(cfg.AWS, m) }, Clock: clk, Log: log.Named("notify")})
		if err != nil {
			store.Close()
			return nil, nil, fmt.Errorf("notifications: %w", err)
		}
	}
	d := &daemon{Controller: ctl, store: store, notifier: notifier, hub: hub}
	closeFn := func() error {
		ctl.Wait()
		if notifier != nil {
			notifier.Wait() // a delivery in flight is sent again after the next start
		}
		prober.Close()
		return store.Close()
	}
	return d, closeFn, nil
}

// leaseOptions turns leases on for the DynamoDB store (store.lease_time, store.lease_scan,
// store.daemon_name; docs/ha.md). Each daemon process is its own owner: the name plus the pid and a
// random suffix, so a restarted daemon never mistakes its predecessor's leases for its own. The scan
// is passed explicitly so that it never follows a short poll_interval (each scan is a Query).
func leaseOptions(s *dynamo.Store, cfg config.Store) *controller.LeaseOptions {
	name := cfg.DaemonName
	if name == "" {
		name, _ = os.Hostname()
	}
	return &controller.LeaseOptions{Store: s, Commands: s, Duration: cfg.LeaseTime.D(), Scan: cfg.LeaseScan.D(),
		Owner: fmt.Sprintf("%s/%d/%s", name, os.Getpid(), uuid.NewString()[:8])}
}

// driftPreflight checks the Terraform stack for drift outside the controller's fields before a
// deployment starts, so that Terraform and the controller never fight over a resource.
func driftPreflight(ctx context.Context, g config.DriftGuard) (func(context.Context, deploy.Service) error, error) {
	p, err := provision.New(ctx, provision.Options{Dir: g.Dir, Binary: g.Binary, BackendConfig: g.BackendConfig,
		LocalBackend: g.BackendConfig == "", VarFiles: g.VarFiles})
	if err != nil {
		return nil, fmt.Errorf("drift guard: %w", err)
	}
	return func(ctx context.Context, svc deploy.Service) error {
		rep, err := p.Drift(ctx)
		if err != nil {
			return deploy.Wrap("driftguard", deploy.KindUnavailable, err, "drift check failed")
		}
		if rep.HasDrift() {
			names := make([]string, 0, len(rep.Drifted))
			for _, d := range rep.Drifted {
				names = append(names, d.Address)
			}
			return deploy.Errorf("driftguard", deploy.KindPrecondition,
				"the Terraform stack drifted outside the controller's fields (%s); reconcile it with `switchyard provision plan` first", strings.Join(names, ", "))
		}
		return nil
	}, nil
}

// Hub is the daemon's event stream (the dashboard's live updates).
func (d *daemon) Hub() *eventhub.Hub { return d.hub }
