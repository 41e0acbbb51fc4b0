// Package dataplane runs a real HAProxy on loopback as the data plane of the load balancers that a
// test follows in kumo: a sync loop reads kumo's ELBv2 state (listeners, rules, weights, target groups,
// registrations) every SyncInterval and applies it through HAProxy's runtime API, so requests are
// routed with ALB semantics (docs/alb-semantics.md): per-request weighted choice between target groups,
// path rules, health checks with the group's interval and thresholds, deregistration delay, fail-open.
package dataplane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Options configures Start.
type Options struct {
	ELBv2            ELBv2    // an SDK elasticloadbalancingv2 client pointed at kumo
	LoadBalancerARNs []string // the load balancers whose listeners the plane serves
	HAProxy          string   // binary; default "haproxy" on PATH
	Dir              string   // config, sockets, state; default a new temporary directory, removed by Close
	SyncInterval     time.Duration
	// HealthScale multiplies health-check intervals and timeouts (not thresholds, not the
	// deregistration delay); 0 means 1, as configured. 0.01 turns a 30 s interval into 300 ms.
	HealthScale float64
}

// Plane is a running data plane.
type Plane struct {
	opts   Options
	ownDir bool
	proc   *proc
	cancel context.CancelFunc
	done   chan struct{}

	mu        sync.Mutex
	ports     map[string]int      // listener ARN -> port
	statsPort int                 //
	groups    map[string]*tgState // by target group ARN, every group ever referenced
	byBackend map[string]string   // backend name -> target group ARN
	lbOfFront map[string]string   // frontend name -> load balancer ARN
	lbStats   map[string]*LBStats // by load balancer ARN
	closed    bool
	sig       string              // the layout HAProxy runs
	entries   map[string]string   // weight map as HAProxy has it
	stats     map[string]*TGStats // by target group ARN, from the request log
	lastErr   error
	syncs     int
	reloads   int
}

type tgState struct {
	g       *group
	lb      string // the load balancer whose listener forwards to it
	used    bool
	servers map[string]*server // by addr
}

// Start reads the followed load balancers from kumo, starts HAProxy with their listeners and target
// groups, registers the current targets (as `initial`), and keeps following kumo until Close.
// ctx bounds the start-up only.
func Start(ctx context.Context, o Options) (*Plane, error) {
	if o.ELBv2 == nil || len(o.LoadBalancerARNs) == 0 {
		return nil, errors.New("dataplane: ELBv2 client and at least one load balancer ARN are required")
	}
	if o.HAProxy == "" {
		o.HAProxy = "haproxy"
	}
	if o.SyncInterval <= 0 {
		o.SyncInterval = 100 * time.Millisecond
	}
	if o.HealthScale <= 0 {
		o.HealthScale = 1
	}
	p := &Plane{opts: o, ports: map[string]int{}, groups: map[string]*tgState{}, byBackend: map[string]string{},
		lbOfFront: map[string]string{}, lbStats: map[string]*LBStats{},
		entries: map[string]string{}, stats: map[string]*TGStats{}, done: make(chan struct{})}
	if p.opts.Dir == "" {
		d, err := os.MkdirTemp("", "dataplane-")
		if err != nil {
			return nil, err
		}
		p.opts.Dir, p.ownDir = d, true
	}
	st, err := read(ctx, o.ELBv2, o.LoadBalancerARNs)
	if err != nil {
		p.cleanup()
		return nil, fmt.Errorf("dataplane: %w", err)
	}
	if p.statsPort, err = freePort(); err != nil {
		p.cleanup()
		return nil, err
	}
	lay, err := p.prepare(st)
	if err != nil {
		p.cleanup()
		return nil, err
	}
	if err := p.writeConfig(lay, false); err != nil {
		p.cleanup()
		return nil, err
	}
	if p.proc, err = startHAProxy(o.HAProxy, p.opts.Dir, p.onLog); err != nil {
		p.cleanup()
		return nil, err
	}
	p.sig = lay.signature()
	if err := p.apply(st); err != nil {
		p.Close()
		return nil, err
	}
	loopCtx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go p.loop(loopCtx)
	return p, nil
}

// ListenerURL is the loopback address that serves the listener, or "" if the plane does not follow it.
func (p *Plane) ListenerURL(listenerARN string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if port, ok := p.ports[listenerARN]; ok {
		return "http://127.0.0.1:" + strconv.Itoa(port)
	}
	return ""
}

// PrometheusURL is HAProxy's built-in Prometheus exporter (Debian's 2.6 is built with PROMEX).
func (p *Plane) PrometheusURL() string {
	return "http://127.0.0.1:" + strconv.Itoa(p.statsPort) + "/metrics"
}

// Err is the error of the last sync, nil if it succeeded.
func (p *Plane) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastErr
}

// Reloads counts configuration reloads since Start (weights and targets never need one).
func (p *Plane) Reloads() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reloads
}

// WaitSync returns after n further syncs completed (successfully or not), or when ctx ends.
func (p *Plane) WaitSync(ctx context.Context, n int) error {
	p.mu.Lock()
	target := p.syncs + n
	p.mu.Unlock()
	for {
		p.mu.Lock()
		s := p.syncs
		p.mu.Unlock()
		if s >= target {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(p.opts.SyncInterval / 4):
		}
	}
}

// Close stops the sync loop and kills HAProxy (master and workers); it returns when no HAProxy
// process of the plane is left. Closing twice is harmless.
func (p *Plane) Close() {
	p.mu.Lock()
	was := p.closed
	p.closed = true
	p.mu.Unlock()
	if was {
		return
	}
	if p.cancel != nil {
		p.cancel()
		<-p.done
	}
	if p.proc != nil {
		p.proc.kill()
	}
	p.cleanup()
}

func (p *Plane) cleanup() {
	if p.ownDir {
		_ = os.RemoveAll(p.opts.Dir)
	}
}

func (p *Plane) loop(ctx context.Context) {
	defer close(p.done)
	t := time.NewTicker(p.opts.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := p.syncOnce(ctx)
		p.mu.Lock()
		p.lastErr, p.syncs = err, p.syncs+1
		p.mu.Unlock()
	}
}

func (p *Plane) syncOnce(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := read(rctx, p.opts.ELBv2, p.opts.LoadBalancerARNs)
	if err != nil {
		return fmt.Errorf("dataplane: %w", err)
	}
	lay, err := p.prepare(st)
	if err != nil {
		return err
	}
	if sig := lay.signature(); sig != p.sig {
		// A new listener, rule condition, target group or health-check setting: HAProxy needs a
		// new config. The running servers go into it and their health carries over in the state file.
		if err := p.reloadWith(lay); err != nil {
			return err
		}
		p.sig = sig
	}
	return p.apply(st)
}

// prepare records the target groups and listener ports of st and returns the layout to run.
func (p *Plane) prepare(st *state) (*layout, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range st.listeners {
		p.lbOfFront[l.backend] = l.lb
		if _, ok := p.ports[l.arn]; !ok {
			port, err := freePort()
			if err != nil {
				return nil, err
			}
			p.ports[l.arn] = port
		}
	}
	for _, ts := range p.groups {
		ts.used = false
	}
	for arn, g := range st.groups {
		ts, ok := p.groups[arn]
		if !ok {
			ts = &tgState{servers: map[string]*server{}}
			p.groups[arn] = ts
			p.byBackend[g.backend] = arn
		}
		ts.g, ts.used = g, true
	}
	for _, l := range st.listeners {
		for _, r := range l.rules {
			for _, w := range r.forward {
				if ts, ok := p.groups[w.tg]; ok {
					ts.lb = l.lb
				}
			}
		}
	}
	lay := &layout{dir: p.opts.Dir, statsPort: p.statsPort, ports: p.ports, listeners: st.listeners, scale: p.opts.HealthScale}
	for _, ts := range p.groups {
		lay.groups = append(lay.groups, ts.g)
	}
	sort.Slice(lay.groups, func(i, j int) bool { return lay.groups[i].backend < lay.groups[j].backend })
	return lay, nil
}

func (l *layout) signature() string {
	c := *l
	c.withServer = nil
	return c.render()
}

func (p *Plane) writeConfig(lay *layout, withServers bool) error {
	if withServers {
		lay.withServer = p.serverLines
	}
	cfg := lay.render()
	entries := p.mapEntries(lay.listeners)
	if err := writeFileAtomic(lay.mapPath(), []byte(renderMap(entries))); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(p.opts.Dir, "haproxy.cfg"), []byte(cfg)); err != nil {
		return err
	}
	p.entries = entries
	return nil
}

func (p *Plane) reloadWith(lay *layout) error {
	state, err := p.proc.cmd1("show servers state")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(p.opts.Dir, "servers.state"), []byte(state)); err != nil {
		return err
	}
	if err := p.writeConfig(lay, true); err != nil {
		return err
	}
	if err := p.proc.reload(); err != nil {
		return err
	}
	p.mu.Lock()
	p.reloads++
	p.mu.Unlock()
	return nil
}

// mapEntries is the weight map for the listeners' actions.
func (p *Plane) mapEntries(ls []listener) map[string]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]string{}
	for _, l := range ls {
		for _, r := range l.rules {
			out[r.key] = mapValue(r.forward, func(tg string) string {
				if ts, ok := p.groups[tg]; ok {
					return ts.g.backend
				}
				return ""
			})
		}
	}
	return out
}

// apply brings HAProxy's weights and servers to st: the weights first, as they matter most for speed.
func (p *Plane) apply(st *state) error {
	want := p.mapEntries(st.listeners)
	for k, v := range want {
		if p.entries[k] == v {
			continue
		}
		verb := "set"
		if _, ok := p.entries[k]; !ok {
			verb = "add"
		}
		if err := p.proc.run(fmt.Sprintf("%s map %s %s %s", verb, p.opts.Dir+"/actions.map", k, v)); err != nil {
			return err
		}
		p.entries[k] = v
	}
	var errs []error
	for arn, g := range st.groups {
		errs = append(errs, p.syncTargets(arn, g))
	}
	errs = append(errs, p.expireDrains(), p.refreshHealth())
	return errors.Join(errs...)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
