package albmetrics

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/switchyard/switchyard/pkg/clock"
)

// Config sets up a Publisher.
type Config struct {
	// LoadBalancerARN is the ALB of the target groups whose Counters name none.
	LoadBalancerARN string
	Source          Source
	Sink            Sink
	// Period between datapoints; 0 means 60 s, the ALB's. Periods start at time.Truncate(Period)
	// (whole minutes for 60 s, as CloudWatch's), as in package alarmeval, so both agree on where a
	// period starts.
	Period time.Duration
	// Clock defaults to the wall clock.
	Clock clock.Clock
	// OnError, if set, hears a failed sample or put; Run keeps going (the ALB does not stop
	// publishing because one minute failed). The failed period's requests are folded into the next.
	OnError func(error)
}

// Publisher samples the source at every period boundary and publishes the period's datapoints.
type Publisher struct {
	cfg  Config
	mu   sync.Mutex
	prev map[string]Counters
	// started is set once a baseline sample exists.
	started bool
	last    time.Time // boundary of the last successful sample
}

// New checks cfg and returns a publisher; call Run (or Tick, in tests).
func New(cfg Config) (*Publisher, error) {
	if cfg.Source == nil || cfg.Sink == nil {
		return nil, errors.New("albmetrics: Source and Sink are required")
	}
	if cfg.Period == 0 {
		cfg.Period = time.Minute
	}
	if cfg.Period < time.Second {
		return nil, fmt.Errorf("albmetrics: period %v is below CloudWatch's 1 s resolution", cfg.Period)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	return &Publisher{cfg: cfg}, nil
}

// Period is the publishing period.
func (p *Publisher) Period() time.Duration { return p.cfg.Period }

// Run publishes at every period boundary until ctx ends. The first boundary only takes the
// baseline sample.
func (p *Publisher) Run(ctx context.Context) error {
	for {
		now := p.cfg.Clock.Now()
		next := now.Truncate(p.cfg.Period).Add(p.cfg.Period)
		c, stop := p.cfg.Clock.After(next.Sub(now))
		select {
		case <-ctx.Done():
			stop()
			return ctx.Err()
		case <-c:
		}
		if err := p.Tick(ctx, next); err != nil && p.cfg.OnError != nil && ctx.Err() == nil {
			p.cfg.OnError(err)
		}
	}
}

// Tick samples the source as of the period boundary at and publishes the period that ends there.
func (p *Publisher) Tick(ctx context.Context, at time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	now, err := p.cfg.Source()
	if err != nil {
		return fmt.Errorf("albmetrics: sample: %w", err)
	}
	if !p.started {
		p.prev, p.started, p.last = now, true, at
		return nil
	}
	data, err := p.datapoints(now, at.Add(-p.cfg.Period))
	if err != nil {
		return err
	}
	if len(data) > 0 {
		if err := p.cfg.Sink.Put(ctx, Namespace, data); err != nil {
			return err // prev stays: the next period carries these requests
		}
	}
	p.prev, p.last = now, at
	return nil
}

// datapoints builds the period's datapoints, stamped with its start.
func (p *Publisher) datapoints(now map[string]Counters, start time.Time) ([]Datum, error) {
	res := 60
	if p.cfg.Period < time.Minute {
		res = 1
	}
	// Target groups by load balancer: each ALB reports its own traffic.
	byLB := map[string][]string{}
	for arn, c := range now {
		lb := c.LoadBalancerARN
		if lb == "" {
			lb = p.cfg.LoadBalancerARN
		}
		if lb == "" {
			return nil, fmt.Errorf("albmetrics: target group %s has no load balancer", arn)
		}
		byLB[lb] = append(byLB[lb], arn)
	}
	lbs := make([]string, 0, len(byLB))
	for lb := range byLB {
		lbs = append(lbs, lb)
	}
	sort.Strings(lbs)
	var out []Datum
	for _, lb := range lbs {
		tgs := byLB[lb]
		sort.Strings(tgs)
		out = append(out, p.loadBalancer(LoadBalancerDimension(lb), tgs, now, start, res)...)
	}
	return out, nil
}

// loadBalancer builds one ALB's datapoints for the period.
func (p *Publisher) loadBalancer(lb string, tgs []string, now map[string]Counters, start time.Time, res int) []Datum {
	var total delta
	deltas := make(map[string]delta, len(tgs))
	for _, arn := range tgs {
		d := diff(now[arn], p.prev[arn]) // a group first seen now started from zero
		deltas[arn] = d
		total.add(d)
	}
	if total.requests == 0 && total.elb5 == 0 {
		return nil // no request flowed through the load balancer: the ALB reports nothing
	}
	lbDims := []Dimension{{"LoadBalancer", lb}}
	var out []Datum
	emit := func(name string, dims []Dimension, v float64, unit string) {
		out = append(out, Datum{MetricName: name, Dimensions: dims, Timestamp: start, Value: v, Unit: unit, StorageResolution: res})
	}
	counts := func(dims []Dimension, d delta, withELB bool) {
		for _, c := range []struct {
			name string
			n    uint64
		}{{"RequestCount", d.requests}, {"HTTPCode_Target_2XX_Count", d.t2}, {"HTTPCode_Target_3XX_Count", d.t3},
			{"HTTPCode_Target_4XX_Count", d.t4}, {"HTTPCode_Target_5XX_Count", d.t5}} {
			if c.n > 0 {
				emit(c.name, dims, float64(c.n), "Count")
			}
		}
		if withELB && d.elb5 > 0 {
			emit("HTTPCode_ELB_5XX_Count", dims, float64(d.elb5), "Count")
		}
		if n := d.responses(); n > 0 {
			avg := d.rtSeconds / float64(n)
			out = append(out, Datum{MetricName: "TargetResponseTime", Dimensions: dims, Timestamp: start, Unit: "Seconds",
				StorageResolution: res, Stats: &StatisticSet{SampleCount: float64(n), Sum: d.rtSeconds, Minimum: avg, Maximum: avg}})
		}
	}
	counts(lbDims, total, true)
	for _, arn := range tgs {
		dims := []Dimension{{"LoadBalancer", lb}, {"TargetGroup", TargetGroupDimension(arn)}}
		counts(dims, deltas[arn], false)
		if c := now[arn]; c.Healthy+c.Unhealthy > 0 {
			emit("HealthyHostCount", dims, float64(c.Healthy), "Count")
			emit("UnHealthyHostCount", dims, float64(c.Unhealthy), "Count")
		}
	}
	return out
}
