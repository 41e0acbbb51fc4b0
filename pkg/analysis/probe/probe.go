// Package probe is the analysis provider for HTTP checks the daemon sends itself: through the test
// listener before production traffic, and against the new colour during the shift. A Prober runs one
// checker per (deployment key, metric name) at the metric's rate and reports its cumulative counts as
// the canary arm; the base arm stays empty (the probe only ever reaches the new colour).
package probe

import (
	"context"
	"net/http"
	"reflect"
	"sync"
	"time"

	"github.com/switchyard/switchyard/pkg/analysis"
	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/deploy"
)

// Defaults of a ProbeSpec's zero fields.
const (
	DefaultStatus  = http.StatusOK
	DefaultRate    = 5.0
	DefaultTimeout = 2 * time.Second
	// MaxRate bounds a spec's rate: the probe is a check, not a load test.
	MaxRate = 100.0
)

// Bounds are the latency histogram's upper bounds in seconds, fixed so that readings of one checker
// are always comparable: fine between 50 ms and 1 s, where +200 ms on a typical answer shows as a
// shift of several buckets.
var Bounds = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5,
	0.6, 0.75, 1, 1.5, 2, 2.5, 5, 10}

// Doer sends one HTTP request (*http.Client has it).
type Doer interface {
	Do(req *http.Request) (*http.Response, error)
}

// Prober implements analysis.Provider and analysis.Stopper.
type Prober struct {
	clk    clock.Clock
	client Doer

	mu       sync.Mutex
	checkers map[checkerID]*checker
	closed   bool
}

type checkerID struct{ key, metric string }

// New returns a prober whose schedules and timeouts run on clk. client nil: a client that does not
// follow redirects (a probe expecting 200 must not pass on a 302 to a login page).
func New(clk clock.Clock, client Doer) *Prober {
	if client == nil {
		client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return &Prober{clk: clk, client: client, checkers: make(map[checkerID]*checker)}
}

// Measure makes sure a checker runs for every probe request and returns each one's cumulative counts
// as the canary arm. A checker that is new (or whose spec changed, which restarts it from zero)
// reports zero until its first checks complete.
func (p *Prober) Measure(_ context.Context, _ time.Time, reqs []analysis.Request) ([]analysis.Reading, []error) {
	const op = "probe.Measure"
	out := make([]analysis.Reading, len(reqs))
	errs := make([]error, len(reqs))
	for i, r := range reqs {
		if r.Metric.Probe == nil {
			errs[i] = deploy.Errorf(op, deploy.KindInvalid, "metric %q has no probe spec", r.Metric.Name)
			continue
		}
		c, err := p.ensure(r.Key, r.Metric.Name, *r.Metric.Probe)
		if err != nil {
			errs[i] = err
			continue
		}
		out[i].Canary = c.arm()
	}
	return out, errs
}

func (p *Prober) ensure(key, metric string, spec deploy.ProbeSpec) (*checker, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, deploy.Errorf("probe.Measure", deploy.KindUnavailable, "prober closed")
	}
	id := checkerID{key, metric}
	if c, ok := p.checkers[id]; ok {
		if reflect.DeepEqual(c.spec, spec) {
			return c, nil
		}
		go c.stop() // the spec changed: start again from zero (the engine sees a counter reset)
		delete(p.checkers, id)
	}
	c, err := newChecker(p.clk, p.client, spec)
	if err != nil {
		return nil, err
	}
	p.checkers[id] = c
	go c.run()
	return c, nil
}

// Counts returns the cumulative counts of key's checker for metric (ok false if none runs).
func (p *Prober) Counts(key, metric string) (Counts, bool) {
	p.mu.Lock()
	c, ok := p.checkers[checkerID{key, metric}]
	p.mu.Unlock()
	if !ok {
		return Counts{}, false
	}
	return c.counts(), true
}

// Stop ends every checker of key and waits until none of its checks is in flight.
func (p *Prober) Stop(key string) {
	p.mu.Lock()
	var stop []*checker
	for id, c := range p.checkers {
		if id.key == key {
			stop = append(stop, c)
			delete(p.checkers, id)
		}
	}
	p.mu.Unlock()
	for _, c := range stop {
		c.stop()
	}
}

// Close ends every checker; Measure then fails.
func (p *Prober) Close() error {
	p.mu.Lock()
	p.closed = true
	all := p.checkers
	p.checkers = map[checkerID]*checker{}
	p.mu.Unlock()
	for _, c := range all {
		c.stop()
	}
	return nil
}
