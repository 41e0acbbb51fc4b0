package guard

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/deploy"
)

// Watch is what one deployment asks the observer to read.
type Watch struct {
	Alarms      []string
	Cluster     string // with Service: the new slot's ECS service ("" before it matters)
	Service     string
	TargetGroup string // the new slot's target group ("" before it matters)
}

// Observer reads the guards of every watched deployment together, once per interval, so that the call
// volume grows with the number of clusters and alarm batches, not with the number of deployments.
type Observer struct {
	Alarms     deploy.Alarms
	Containers deploy.Containers
	Router     deploy.TrafficRouter
	Interval   time.Duration
	Clock      clock.Clock
	Log        *zap.Logger

	mu           sync.Mutex
	serviceEvery time.Duration // the current cadence of ECS reads
	targetFloor  time.Duration // the shortest target-health cadence the budget allows
	watches      map[string]*entry
	alarms       map[string]Alarm
	alarmErr     string
	// alarmsDelayed: the last alarm read waited out its time for the daemon's own budget.
	alarmsDelayed bool
	services      map[[2]string]serviceReading
	targets       map[string]*targetReading
	inFlight      map[string]bool
	sem           chan struct{} // bounds concurrent target-health reads
	kick          chan struct{}
}

type entry struct {
	w      Watch
	notify chan struct{}
}

type serviceReading struct {
	svc     deploy.ECSService
	present bool
	at      time.Time
	goodAt  time.Time
	err     string
	demand  bool
	delayed bool // the last read waited out its time for the daemon's own budget
}

// targetCadence is how often a target group's health is read: its health-check interval, but no more
// often than the poll interval nor than MaxTargetCallsPerSecond allows for all target groups.
func (o *Observer) targetCadence(tr *targetReading) time.Duration {
	return max(tr.interval, o.Interval, o.targetFloor)
}

type targetReading struct {
	targets  []deploy.Target
	at       time.Time
	err      string
	interval time.Duration // the target group's health-check interval; 0 until read
	demand   bool          // a deployment needs a reading sooner than the cadence
	delayed  bool          // the last read waited out its time for the daemon's own budget
}

// NewObserver returns an observer; call Run to start it.
func NewObserver(a deploy.Alarms, c deploy.Containers, r deploy.TrafficRouter, interval time.Duration, clk clock.Clock, log *zap.Logger) *Observer {
	if log == nil {
		log = zap.NewNop()
	}
	if clk == nil {
		clk = clock.Real{}
	}
	return &Observer{Alarms: a, Containers: c, Router: r, Interval: interval, Clock: clk, Log: log,
		watches: map[string]*entry{}, alarms: map[string]Alarm{}, services: map[[2]string]serviceReading{},
		targets: map[string]*targetReading{}, inFlight: map[string]bool{},
		kick: make(chan struct{}, 1)}
}

// Watch starts (or changes) what is read for deployment id and returns a channel that receives after
// every round that read something for it. A new or changed watch is read at once.
func (o *Observer) Watch(id string, w Watch) <-chan struct{} {
	o.mu.Lock()
	e, ok := o.watches[id]
	if !ok {
		e = &entry{notify: make(chan struct{}, 1)}
		o.watches[id] = e
	}
	e.w = Watch{Alarms: append([]string(nil), w.Alarms...), Cluster: w.Cluster, Service: w.Service, TargetGroup: w.TargetGroup}
	if w.TargetGroup != "" {
		if tr := o.targets[w.TargetGroup]; tr != nil {
			tr.demand = true
		}
	}
	o.mu.Unlock()
	o.Kick()
	return e.notify
}

// Unwatch stops reading for id.
func (o *Observer) Unwatch(id string) {
	o.mu.Lock()
	delete(o.watches, id)
	o.mu.Unlock()
}

// Demand asks for a reading of deployment id's ECS service and target health at the next round,
// sooner than their cadence (a bake ended and needs evidence newer than its start). Callers ask once
// per need: a demand costs one call of each kind.
func (o *Observer) Demand(id string) { o.demand(id, true) }

// DemandTargets asks for a target-health reading only (readiness: the service is up, its targets are
// the last thing to come up).
func (o *Observer) DemandTargets(id string) { o.demand(id, false) }

func (o *Observer) demand(id string, service bool) {
	o.mu.Lock()
	e := o.watches[id]
	kick := false
	if e != nil && e.w.TargetGroup != "" {
		if tr := o.targets[e.w.TargetGroup]; tr != nil && !tr.demand {
			tr.demand, kick = true, true
		}
	}
	if service && e != nil && e.w.Service != "" {
		k := [2]string{e.w.Cluster, e.w.Service}
		if sr, ok := o.services[k]; ok && !sr.demand {
			sr.demand, kick = true, true
			o.services[k] = sr
		}
	}
	o.mu.Unlock()
	if kick {
		o.Kick()
	}
}

// Kick starts a round now instead of at the next tick.
func (o *Observer) Kick() {
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

// Readings returns what is known for deployment id.
func (o *Observer) Readings(id string) Readings {
	o.mu.Lock()
	defer o.mu.Unlock()
	e := o.watches[id]
	if e == nil {
		return Readings{}
	}
	r := Readings{Alarms: make(map[string]Alarm, len(e.w.Alarms)), AlarmErr: o.alarmErr,
		AlarmsDelayed: o.alarmsDelayed || o.inFlight["alarms"]}
	for _, n := range e.w.Alarms {
		if a, ok := o.alarms[n]; ok {
			r.Alarms[n] = a
		}
	}
	if e.w.Service != "" {
		s := o.services[[2]string{e.w.Cluster, e.w.Service}]
		r.Service, r.ServicePresent, r.ServiceAt, r.ServiceGoodAt, r.ServiceErr = s.svc, s.present, s.at, s.goodAt, s.err
		r.ServiceEvery = max(o.serviceEvery, o.Interval)
		r.ServiceDelayed = s.delayed || o.inFlight["ecs:"+e.w.Cluster]
	}
	if tr := o.targets[e.w.TargetGroup]; tr != nil {
		r.Targets, r.TargetsAt, r.TargetsErr = append([]deploy.Target(nil), tr.targets...), tr.at, tr.err
		r.TargetsEvery = o.targetCadence(tr)
		r.TargetsDelayed = tr.delayed || o.inFlight["tg:"+e.w.TargetGroup]
	}
	return r
}

// AlarmStates returns the last polled states of names (for status reports).
func (o *Observer) AlarmStates(names []string) map[string]deploy.AlarmState {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[string]deploy.AlarmState, len(names))
	for _, n := range names {
		if a, ok := o.alarms[n]; ok && a.Present {
			out[n] = a.State
		}
	}
	return out
}

// Steady-state budgets of the guard reads, whatever the number of deployments: the observer stretches
// the cadence of ECS and target-health reads so that their sum stays under these rates (alarms are
// read every interval: 100 names a call). Bake ends and readiness ask for readings sooner (Demand).
const (
	MaxServiceCallsPerSecond = 5.0 // DescribeServices
	MaxTargetCallsPerSecond  = 3.0 // DescribeTargetHealth (an ELB Describe*: the account shares one bucket)
)

// Run polls until ctx ends. Each kind of read runs on its own: a slow or throttled ECS or target-health
// read never holds up the next alarm poll, and a read still in flight is not started twice.
func (o *Observer) Run(ctx context.Context) {
	for {
		o.round(ctx, false)
		tick, stop := o.Clock.After(o.Interval)
		select {
		case <-ctx.Done():
			stop()
			return
		case <-tick:
		case <-o.kick:
			stop()
		}
	}
}

// Poll runs one round and waits for it (tests).
func (o *Observer) Poll(ctx context.Context) { o.round(ctx, true) }

// round starts the reads that are due and not already in flight; each tells every watcher when done.
func (o *Observer) round(ctx context.Context, wait bool) {
	names, clusters, tgs := o.plan()
	var wg sync.WaitGroup
	start := func(key string, f func()) {
		o.mu.Lock()
		if o.inFlight[key] {
			o.mu.Unlock()
			return
		}
		o.inFlight[key] = true
		o.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			f()
			o.mu.Lock()
			delete(o.inFlight, key)
			o.mu.Unlock()
			o.notifyAll()
		}()
	}
	if len(names) > 0 {
		start("alarms", func() { o.pollAlarms(ctx, names) })
	}
	for cluster, svcs := range clusters {
		start("ecs:"+cluster, func() { o.pollServices(ctx, cluster, svcs) })
	}
	for _, tg := range tgs {
		// No concurrency bound of its own: the daemon's rate limiter orders them, and a read waiting in
		// its queue is known to be in flight (delayed, not unreadable).
		start("tg:"+tg, func() { o.pollTargets(ctx, tg) })
	}
	if wait {
		wg.Wait()
	}
}

// notifyAll tells every watcher that something new was read. Each part of a round notifies as soon as
// it is done, so a slow target-health read never delays an alarm that is already known.
func (o *Observer) notifyAll() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, e := range o.watches {
		select {
		case e.notify <- struct{}{}:
		default:
		}
	}
}

// plan collects the alarm names, the services per cluster and the target groups due this round.
func (o *Observer) plan() ([]string, map[string][]string, []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.Clock.Now()
	nameSet, svcSet, tgSet := map[string]bool{}, map[[2]string]bool{}, map[string]bool{}
	for _, e := range o.watches {
		for _, n := range e.w.Alarms {
			nameSet[n] = true
		}
		if e.w.Service != "" {
			svcSet[[2]string{e.w.Cluster, e.w.Service}] = true
		}
		if e.w.TargetGroup != "" {
			tgSet[e.w.TargetGroup] = true
		}
	}
	names := make([]string, 0, len(nameSet))
	for n := range nameSet {
		names = append(names, n)
	}
	sort.Strings(names)
	perCluster := map[string]int{}
	for k := range svcSet {
		perCluster[k[0]]++
	}
	calls := 0
	for _, n := range perCluster {
		calls += (n + 9) / 10
	}
	o.serviceEvery = max(2*o.Interval, time.Duration(float64(calls)/MaxServiceCallsPerSecond*float64(time.Second)))
	o.targetFloor = time.Duration(float64(len(tgSet)) / MaxTargetCallsPerSecond * float64(time.Second))
	clusters := map[string][]string{}
	for k := range svcSet {
		sr := o.services[k]
		// ECS state changes slowly and guards nothing that needs sub-second detection: at most every
		// other round, slower with many clusters (unless never read, or asked for).
		if sr.at.IsZero() || sr.demand || now.Sub(sr.at) >= o.serviceEvery-o.Interval/2 {
			clusters[k[0]] = append(clusters[k[0]], k[1])
		}
	}
	// Forget what nobody watches any more.
	for n := range o.alarms {
		if !nameSet[n] {
			delete(o.alarms, n)
		}
	}
	for k := range o.services {
		if !svcSet[k] {
			delete(o.services, k)
		}
	}
	for tg := range o.targets {
		if !tgSet[tg] {
			delete(o.targets, tg)
		}
	}
	var due []string
	for tg := range tgSet {
		tr := o.targets[tg]
		if tr == nil {
			tr = &targetReading{demand: true}
			o.targets[tg] = tr
		}
		cadence := o.targetCadence(tr)
		if tr.demand || tr.at.IsZero() || now.Sub(tr.at) >= cadence-o.Interval/2 {
			due = append(due, tg)
		}
	}
	sort.Strings(due)
	return names, clusters, due
}

func (o *Observer) pollAlarms(ctx context.Context, names []string) {
	cctx, cancel := context.WithTimeout(ctx, max(5*o.Interval, 5*time.Second))
	states, err := o.Alarms.AlarmStates(cctx, names)
	cancel()
	now := o.Clock.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.alarmsDelayed = errors.Is(err, deploy.ErrBudgetWait)
	if err != nil {
		o.alarmErr = "DescribeAlarms failed: " + err.Error()
		o.Log.Warn("alarm poll failed", zap.Error(err), zap.Int("alarms", len(names)))
		return
	}
	o.alarmErr = ""
	for _, n := range names {
		a := o.alarms[n]
		st, ok := states[n]
		a.Present, a.ReadAt = ok, now
		if ok {
			a.State = st
			switch st.State {
			case "OK":
				a.OKAt = now
			case "INSUFFICIENT_DATA":
				a.InsufAt = now
			}
		}
		o.alarms[n] = a
	}
}

func (o *Observer) pollServices(ctx context.Context, cluster string, names []string) {
	cctx, cancel := context.WithTimeout(ctx, max(10*o.Interval, 30*time.Second)) // includes budget waits
	got, err := o.Containers.DescribeServices(cctx, cluster, names)
	cancel()
	now := o.Clock.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, n := range names {
		k := [2]string{cluster, n}
		s := o.services[k]
		s.delayed = errors.Is(err, deploy.ErrBudgetWait)
		if err != nil {
			s.err = "DescribeServices failed: " + err.Error()
			o.services[k] = s
			continue
		}
		svc, ok := got[n]
		s.svc, s.present, s.at, s.err, s.demand = svc, ok, now, "", false
		if ok {
			s.goodAt = now
		} else {
			s.err = "ECS service " + n + " not found"
		}
		o.services[k] = s
	}
	if err != nil {
		o.Log.Warn("ECS poll failed", zap.Error(err), zap.String("cluster", cluster))
	}
}

func (o *Observer) pollTargets(ctx context.Context, tg string) {
	cctx, cancel := context.WithTimeout(ctx, max(10*o.Interval, 30*time.Second)) // includes budget waits
	defer cancel()
	o.mu.Lock()
	tr0 := o.targets[tg]
	needInterval := tr0 != nil && tr0.interval == 0
	o.mu.Unlock()
	if tr0 == nil {
		return // nobody watches it any more
	}
	var interval time.Duration
	if needInterval {
		if iv, err := o.Router.HealthCheckInterval(cctx, tg); err == nil {
			interval = iv
		}
	}
	targets, err := o.Router.TargetHealth(cctx, tg)
	now := o.Clock.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	tr := o.targets[tg]
	if tr == nil {
		return // unwatched while the read was in flight
	}
	if interval > 0 {
		tr.interval = interval
	}
	tr.delayed = errors.Is(err, deploy.ErrBudgetWait)
	if err != nil {
		tr.err = "DescribeTargetHealth failed: " + err.Error()
		o.Log.Warn("target health poll failed", zap.Error(err), zap.String("target_group", tg))
		return
	}
	tr.targets, tr.at, tr.err, tr.demand = targets, now, "", false
}
