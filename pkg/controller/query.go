package controller

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/shifter"
)

// liveReads caches the routes read for Get, per deployment, for one poll interval.
type liveReads struct {
	mu sync.Mutex
	m  map[string]liveEntry
}

// Get returns a deployment with its guarding alarms' last polled states.
func (c *Controller) Get(ctx context.Context, id string) (*deploy.Deployment, error) {
	d, err := c.store.GetDeployment(ctx, id)
	if err != nil {
		return nil, err
	}
	if d.State.Active() {
		// The ALB's own view, so that an operator never has to trust the record alone.
		if live, err := c.liveWeights(ctx, d); err == nil {
			d.Live = live
		} else {
			c.log.Warn("live weights unavailable", zap.String("deployment_id", d.ID), zap.Error(err))
		}
		names := d.Spec.AlarmsFor(d.To)
		states := c.obs.AlarmStates(names)
		for _, n := range names {
			st, ok := states[n]
			if !ok {
				st = deploy.AlarmState{Name: n, State: "UNKNOWN"}
			}
			d.Guard = append(d.Guard, st)
		}
		if c.analysis != nil {
			if a, ok := c.analysis.Status(d.ID); ok {
				d.Analysis = &a
			}
		}
	}
	return d, nil
}

// liveWeights reads a deployment's routes from the ALB, at most once per poll interval: watchers poll
// deployments often, and their reads share the ELBv2 request quota with the runners' own.
func (c *Controller) liveWeights(ctx context.Context, d *deploy.Deployment) ([]deploy.RouteWeights, error) {
	c.live.mu.Lock()
	e, ok := c.live.m[d.ID]
	c.live.mu.Unlock()
	if ok && c.clock.Now().Sub(e.at) < c.o.PollInterval {
		return e.routes, nil
	}
	// The background route cache is an ALB reading too: use it while it is recent, so that many
	// watchers (`deploy --wait`, dashboards) cost no AWS calls of their own.
	svc, configured := c.service(d.Service)
	cached := c.routes.get(d.Service)
	useCache := configured && slices.Equal(svc.Routes, d.Spec.Routes) && cached.routes != nil
	if useCache && c.clock.Now().Sub(cached.at) < c.o.RouteRefresh {
		return cached.routes, nil
	}
	// A status read never waits long for the AWS budget: past two seconds the cached reading (however
	// old; the record's verified weights are in the answer too) is better than no answer.
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	routes, err := c.shifter.Read(rctx, d.Spec)
	if err != nil && useCache {
		return cached.routes, nil
	}
	if err != nil {
		return nil, err
	}
	c.live.mu.Lock()
	for id, old := range c.live.m { // keep the cache small: drop entries nobody read for a while
		if c.clock.Now().Sub(old.at) > time.Minute {
			delete(c.live.m, id)
		}
	}
	c.live.m[d.ID] = liveEntry{at: c.clock.Now(), routes: routes}
	c.live.mu.Unlock()
	return routes, nil
}

type liveEntry struct {
	at     time.Time
	routes []deploy.RouteWeights
}

// List returns deployments, newest first.
func (c *Controller) List(ctx context.Context, f deploy.ListFilter) ([]*deploy.Deployment, error) {
	if f.Service != "" {
		if _, ok := c.service(f.Service); !ok {
			return nil, deploy.Errorf("controller.List", deploy.KindNotFound, "unknown service %q", f.Service)
		}
	}
	return c.store.ListDeployments(ctx, f)
}

// Events returns a deployment's audit events after afterSeq.
func (c *Controller) Events(ctx context.Context, id string, afterSeq int64) ([]deploy.Event, error) {
	if _, err := c.store.GetDeployment(ctx, id); err != nil {
		return nil, err
	}
	return c.store.Events(ctx, id, afterSeq)
}

// Services lists every configured service with its live weights from the route cache (no AWS call;
// the answer says how old the reading is), its active deployment and any quarantined record.
func (c *Controller) Services(ctx context.Context) ([]deploy.ServiceStatus, error) {
	c.mu.Lock()
	svcs := make([]deploy.Service, 0, len(c.services))
	for _, s := range c.services {
		svcs = append(svcs, s)
	}
	c.mu.Unlock()
	sort.Slice(svcs, func(i, j int) bool { return svcs[i].Name < svcs[j].Name })
	c.routes.ensure(ctx)
	active, err := c.store.ListDeployments(ctx, deploy.ListFilter{ActiveOnly: true, Limit: deploy.MaxListLimit})
	if err != nil {
		return nil, err
	}
	byService := map[string]*deploy.Deployment{}
	quarantined := map[string][]string{}
	for _, d := range active {
		if d.Quarantine != "" {
			quarantined[d.Service] = append(quarantined[d.Service], d.ID)
		}
		byService[d.Service] = d
	}
	now := c.clock.Now()
	out := make([]deploy.ServiceStatus, 0, len(svcs))
	for _, s := range svcs {
		st := deploy.ServiceStatus{Name: s.Name, Cluster: s.Cluster, ECSServices: s.ECSServices, TargetGroups: s.TargetGroups,
			Quarantined: quarantined[s.Name]}
		e := c.routes.get(s.Name)
		switch {
		case e.at.IsZero() && e.err == nil:
			st.Error = "live weights not read yet"
		case e.err != nil && e.routes == nil:
			st.Error = deploy.MessageOf(e.err)
		default:
			if e.err != nil {
				st.Error = "last refresh failed: " + deploy.MessageOf(e.err)
			}
			st.Routes = e.routes
			at := e.at.UTC()
			st.ReadAt, st.AgeSeconds = &at, now.Sub(e.at).Seconds()
			if live, consistent := shifter.Common(e.routes); consistent {
				if slot, ok := live.LiveSlot(); ok {
					st.LiveSlot = slot
				}
			}
		}
		if d := byService[s.Name]; d != nil {
			st.Active = d.ID
		}
		out = append(out, st)
	}
	return out, nil
}
