package faultproxy

import (
	"math/rand/v2"
	"strings"
	"time"
)

// Match selects calls.
type Match func(Call) bool

// All matches every call.
func All() Match { return func(Call) bool { return true } }

// Op matches the named operations in any service ("DescribeAlarms") or in one ("cloudwatch:DescribeAlarms").
func Op(names ...string) Match {
	return func(c Call) bool {
		for _, n := range names {
			if n == c.Operation || n == c.Key() {
				return true
			}
		}
		return false
	}
}

// Service matches every operation of a service (elbv2, cloudwatch, ecs, autoscaling, ecr, dynamodb).
func Service(name string) Match { return func(c Call) bool { return c.Service == name } }

// Family matches a service's operations whose names start with prefix: Family("elbv2", "Describe") is
// the set of calls the ELB API throttling guide puts in one bucket.
func Family(service, prefix string) Match {
	return func(c Call) bool { return c.Service == service && strings.HasPrefix(c.Operation, prefix) }
}

// Rule is one fault to inject. A rule with a Fault answers that error without reaching the upstream;
// Drop forwards the call (so its side effect happens) and then closes the client's connection without an
// answer; Latency delays the call before either. The first live rule that matches a call applies.
type Rule struct {
	Match       Match
	Fault       *Fault
	Drop        bool
	Latency     time.Duration
	Times       int     // apply to this many matching calls, then expire; 0: until removed
	Probability float64 // apply to a matching call with this probability; 0 means always
}

type liveRule struct {
	id   int
	rule Rule
	used int
}

// Bucket is an emulated AWS token bucket shared by every call it matches: Burst tokens at first, refilled
// at PerSecond; a call that finds it empty is answered with Fault (Throttling if zero) and reaches
// nothing. Calls answered by a rule's fault still take a token, as they reached AWS.
type Bucket struct {
	Match     Match
	Burst     int
	PerSecond float64
	Fault     Fault
}

type liveBucket struct {
	b      Bucket
	tokens float64
	last   time.Time
}

// take refills the bucket up to now and takes a token if there is one.
func (l *liveBucket) take(now time.Time) bool {
	if el := now.Sub(l.last).Seconds(); el > 0 {
		l.tokens = min(float64(l.b.Burst), l.tokens+el*l.b.PerSecond)
		l.last = now
	}
	if l.tokens < 1 {
		return false
	}
	l.tokens--
	return true
}

// action is what the proxy does with one call.
type action struct {
	fault   *Fault
	drop    bool
	latency time.Duration
	outcome outcome
}

// decideLocked picks the call's action: an empty bucket first, then the first live matching rule.
func (p *Proxy) decideLocked(c Call, now time.Time) action {
	for _, b := range p.buckets {
		if b.b.Match(c) && !b.take(now) {
			f := b.b.Fault
			if f.Code == "" {
				f = Throttling
			}
			return action{fault: &f, outcome: Throttled}
		}
	}
	for i := 0; i < len(p.rules); i++ {
		r := p.rules[i]
		if !r.rule.Match(c) {
			continue
		}
		if pr := r.rule.Probability; pr > 0 && pr < 1 && rand.Float64() >= pr {
			continue
		}
		r.used++
		if r.rule.Times > 0 && r.used >= r.rule.Times {
			p.rules = append(p.rules[:i], p.rules[i+1:]...)
		}
		a := action{fault: r.rule.Fault, drop: r.rule.Drop, latency: r.rule.Latency, outcome: Forwarded}
		switch {
		case a.fault != nil:
			a.outcome = Injected
		case a.drop:
			a.outcome = Dropped
		case a.latency > 0:
			a.outcome = Delayed
		}
		return a
	}
	return action{outcome: Forwarded}
}

// Inject adds a rule after the existing ones and returns a function that removes it (safe to call twice).
func (p *Proxy) Inject(r Rule) (remove func()) {
	if r.Match == nil {
		r.Match = All()
	}
	p.mu.Lock()
	p.nextID++
	id := p.nextID
	p.rules = append(p.rules, &liveRule{id: id, rule: r})
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		for i, l := range p.rules {
			if l.id == id {
				p.rules = append(p.rules[:i], p.rules[i+1:]...)
				return
			}
		}
	}
}

// Fail answers matching calls with f until the returned function is called.
func (p *Proxy) Fail(m Match, f Fault) (remove func()) { return p.Inject(Rule{Match: m, Fault: &f}) }

// FailN answers the next n matching calls with f.
func (p *Proxy) FailN(m Match, f Fault, n int) (remove func()) {
	return p.Inject(Rule{Match: m, Fault: &f, Times: n})
}

// AddBucket starts an emulated token bucket, full; the returned function removes it.
func (p *Proxy) AddBucket(b Bucket) (remove func()) {
	if b.Match == nil {
		b.Match = All()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	l := &liveBucket{b: b, tokens: float64(b.Burst), last: p.now()}
	p.buckets = append(p.buckets, l)
	return func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		for i, x := range p.buckets {
			if x == l {
				p.buckets = append(p.buckets[:i], p.buckets[i+1:]...)
				return
			}
		}
	}
}

// ELBDescribeBucket is the ELB API throttling guide's example: every ELBv2 Describe* call of an account
// shares one bucket of 40 tokens refilled at 10 per second.
func ELBDescribeBucket() Bucket {
	return Bucket{Match: Family("elbv2", "Describe"), Burst: 40, PerSecond: 10, Fault: Throttling}
}

// ClearFaults removes every rule and bucket.
func (p *Proxy) ClearFaults() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules, p.buckets = nil, nil
}
