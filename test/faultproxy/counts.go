package faultproxy

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// outcome is what happened to one call on the wire.
type outcome int

const (
	Forwarded outcome = iota // reached the upstream and its answer was relayed
	Delayed                  // as Forwarded, after injected latency
	Injected                 // answered with a rule's fault
	Throttled                // answered Throttling by an empty bucket
	Dropped                  // reached the upstream, then the connection was closed unanswered
)

type record struct {
	at      time.Time
	key     string
	outcome outcome
}

// OpCount is one operation's calls as seen on the wire: every SDK attempt is a call.
type OpCount struct {
	Calls     int // all of them
	Injected  int // answered with a rule's fault
	Throttled int // refused by an emulated bucket
	Dropped   int // forwarded, answer withheld
}

func (o *OpCount) add(out outcome) {
	o.Calls++
	switch out {
	case Injected:
		o.Injected++
	case Throttled:
		o.Throttled++
	case Dropped:
		o.Dropped++
	}
}

// Counts maps "service:Operation" to its counts.
type Counts map[string]OpCount

// Counts returns every call since the proxy started or was last Reset.
func (p *Proxy) Counts() Counts { return p.CountsBetween(time.Time{}, time.Time{}) }

// CountsBetween returns the calls that arrived in [from, to); a zero bound is open.
func (p *Proxy) CountsBetween(from, to time.Time) Counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := Counts{}
	for _, r := range p.records {
		if (!from.IsZero() && r.at.Before(from)) || (!to.IsZero() && !r.at.Before(to)) {
			continue
		}
		c := out[r.key]
		c.add(r.outcome)
		out[r.key] = c
	}
	return out
}

// Reset forgets every call counted so far.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.records = nil
}

// Calls returns the calls since Reset of an operation, named "DescribeAlarms" (any service) or
// "cloudwatch:DescribeAlarms".
func (p *Proxy) Calls(op string) int { return p.Counts().Calls(op) }

// Calls sums the calls of an operation named as in Proxy.Calls.
func (c Counts) Calls(op string) int {
	n := 0
	for k, v := range c {
		if k == op || strings.HasSuffix(k, ":"+op) {
			n += v.Calls
		}
	}
	return n
}

// Sum adds up the operations whose key satisfies keep (nil: all).
func (c Counts) Sum(keep func(key string) bool) OpCount {
	var t OpCount
	for k, v := range c {
		if keep == nil || keep(k) {
			t.Calls += v.Calls
			t.Injected += v.Injected
			t.Throttled += v.Throttled
			t.Dropped += v.Dropped
		}
	}
	return t
}

// Merge returns the counts of several proxies as one.
func Merge(cs ...Counts) Counts {
	out := Counts{}
	for _, c := range cs {
		for k, v := range c {
			o := out[k]
			o.Calls += v.Calls
			o.Injected += v.Injected
			o.Throttled += v.Throttled
			o.Dropped += v.Dropped
			out[k] = o
		}
	}
	return out
}

// Keys returns the operations, busiest first.
func (c Counts) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if d := c[b].Calls - c[a].Calls; d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	return keys
}

// WriteTable prints one line per operation with its calls and calls per second over window, then the
// total; window 0 omits the rates.
func (c Counts) WriteTable(w io.Writer, window time.Duration) {
	rate := func(n int) string {
		if window <= 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", float64(n)/window.Seconds())
	}
	fmt.Fprintf(w, "%-44s %8s %9s %9s %8s %8s\n", "operation", "calls", "calls/s", "throttled", "injected", "dropped")
	for _, k := range c.Keys() {
		v := c[k]
		fmt.Fprintf(w, "%-44s %8d %9s %9d %8d %8d\n", k, v.Calls, rate(v.Calls), v.Throttled, v.Injected, v.Dropped)
	}
	t := c.Sum(nil)
	fmt.Fprintf(w, "%-44s %8d %9s %9d %8d %8d\n", "TOTAL", t.Calls, rate(t.Calls), t.Throttled, t.Injected, t.Dropped)
}
