package controller

import (
	"context"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/shifter"
)

// routeCache holds every configured service's live weights, read in the background with one batched
// ReadRoutes for all services, so that listing services costs no AWS call and its latency does not grow
// with the number of services.
type routeCache struct {
	router   deploy.TrafficRouter
	clock    clock.Clock
	interval time.Duration
	log      *zap.Logger

	mu       sync.Mutex
	services map[string]deploy.Service
	entries  map[string]routeEntry
	kick     chan struct{}
}

type routeEntry struct {
	routes []deploy.RouteWeights
	err    error
	at     time.Time // when this reading was made (zero: never read)
}

func newRouteCache(r deploy.TrafficRouter, clk clock.Clock, interval time.Duration, log *zap.Logger) *routeCache {
	return &routeCache{router: r, clock: clk, interval: interval, log: log,
		entries: map[string]routeEntry{}, kick: make(chan struct{}, 1)}
}

func (c *routeCache) set(s map[string]deploy.Service) {
	c.mu.Lock()
	c.services = copyServices(s)
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *routeCache) run(ctx context.Context) {
	for {
		c.refresh(ctx)
		wake, stop := c.clock.After(c.interval)
		select {
		case <-ctx.Done():
			stop()
			return
		case <-wake:
		case <-c.kick:
			stop()
		}
	}
}

// ensure reads, in one batched call, the services that have no reading yet (just configured, or
// invalidated by a finished deployment), so an answer never says "not read yet" when it can say more.
func (c *routeCache) ensure(ctx context.Context) {
	c.mu.Lock()
	missing := map[string]deploy.Service{}
	for name, s := range c.services {
		if e, ok := c.entries[name]; !ok || (e.at.IsZero() && e.err == nil) {
			missing[name] = s
		}
	}
	c.mu.Unlock()
	if len(missing) > 0 {
		c.read(ctx, missing)
	}
}

// refresh reads every service's routes in one batched call.
func (c *routeCache) refresh(ctx context.Context) {
	c.mu.Lock()
	svcs := copyServices(c.services)
	c.mu.Unlock()
	c.read(ctx, svcs)
}

func (c *routeCache) read(ctx context.Context, svcs map[string]deploy.Service) {
	var all []deploy.Route
	seen := map[deploy.Route]bool{}
	for _, s := range svcs {
		for _, r := range s.Routes {
			if !seen[r] {
				seen[r] = true
				all = append(all, r)
			}
		}
	}
	if len(all) == 0 {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	got, err := c.router.ReadRoutes(cctx, all)
	cancel()
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for name, s := range svcs {
		e := c.entries[name]
		if err != nil {
			e.err = err // keep the last good routes; the age shows how old they are
		} else {
			routes, rerr := shifter.FromBatch(s, got)
			e = routeEntry{routes: routes, err: rerr, at: now}
		}
		c.entries[name] = e
	}
	if err != nil {
		c.log.Warn("route refresh failed", zap.Error(err))
	}
}

// get returns a service's cached routes and when they were read.
func (c *routeCache) get(name string) routeEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries[name]
}

// invalidate forgets a service's reading (its weights just changed) and refreshes soon.
func (c *routeCache) invalidate(name string) {
	c.mu.Lock()
	delete(c.entries, name)
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// put records a fresh reading made elsewhere (a create check that read live).
func (c *routeCache) put(name string, routes []deploy.RouteWeights, at time.Time) {
	c.mu.Lock()
	c.entries[name] = routeEntry{routes: routes, at: at}
	c.mu.Unlock()
}

// routesVerified records weights just read back on every route of spec (a verified change) in the
// route cache, when spec's routes are still the configured service's.
func (c *Controller) routesVerified(spec deploy.Service, w deploy.Weights) {
	svc, ok := c.service(spec.Name)
	if !ok || !slices.Equal(svc.Routes, spec.Routes) {
		return
	}
	routes := make([]deploy.RouteWeights, len(spec.Routes))
	for i, r := range spec.Routes {
		routes[i] = deploy.RouteWeights{Route: r, Weights: w}
	}
	c.routes.put(spec.Name, routes, c.clock.Now())
}
