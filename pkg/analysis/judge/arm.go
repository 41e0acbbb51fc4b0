package judge

import (
	"math"
	"sort"
)

// Bucket is one bucket of a cumulative histogram: the count of requests with latency <= Le seconds.
// The +Inf bucket is not listed: Arm.Requests is it.
type Bucket struct {
	Le    float64 `json:"le"`
	Count float64 `json:"count"`
}

// Arm is one colour's counters, cumulative (readings) or over one interval (deltas). Buckets are
// ascending by Le.
type Arm struct {
	Requests float64  `json:"requests"`
	Errors   float64  `json:"errors"`
	Buckets  []Bucket `json:"buckets,omitempty"`
}

// Delta returns cur - prev per field and bucket. reset is true when any counter went down (a counter
// reset: a task restarted, a series was recreated); the delta is then cur itself, which is
// Prometheus' rule for rate(): a reset counter counted from zero. Buckets of cur that prev lacks count
// from zero too.
func Delta(prev, cur Arm) (d Arm, reset bool) {
	if cur.Requests < prev.Requests || cur.Errors < prev.Errors {
		return cur, true
	}
	d = Arm{Requests: cur.Requests - prev.Requests, Errors: cur.Errors - prev.Errors}
	if len(cur.Buckets) > 0 {
		d.Buckets = make([]Bucket, len(cur.Buckets))
	}
	for i, b := range cur.Buckets {
		p, ok := bucketAt(prev.Buckets, b.Le)
		if ok && b.Count < p {
			return cur, true
		}
		d.Buckets[i] = Bucket{Le: b.Le, Count: b.Count - p}
	}
	return d, false
}

// accumulate returns acc + b, buckets matched by Le (a bucket only one side has keeps that side's
// count). acc is an accumulator the caller owns: its buckets are reused when both layouts agree.
func accumulate(acc, b Arm) Arm {
	s := Arm{Requests: acc.Requests + b.Requests, Errors: acc.Errors + b.Errors}
	switch {
	case len(b.Buckets) == 0:
		s.Buckets = acc.Buckets
		return s
	case len(acc.Buckets) == 0:
		s.Buckets = append([]Bucket(nil), b.Buckets...)
		return s
	case sameBounds(acc.Buckets, b.Buckets): // the usual case: one histogram layout
		s.Buckets = acc.Buckets
		for i := range b.Buckets {
			s.Buckets[i].Count += b.Buckets[i].Count
		}
		return s
	}
	seen := make(map[float64]int, len(acc.Buckets)+len(b.Buckets))
	for _, arm := range [2]Arm{acc, b} {
		for _, bk := range arm.Buckets {
			if i, ok := seen[bk.Le]; ok {
				s.Buckets[i].Count += bk.Count
				continue
			}
			seen[bk.Le] = len(s.Buckets)
			s.Buckets = append(s.Buckets, bk)
		}
	}
	sort.Slice(s.Buckets, func(i, j int) bool { return s.Buckets[i].Le < s.Buckets[j].Le })
	return s
}

func sameBounds(a, b []Bucket) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Le != b[i].Le {
			return false
		}
	}
	return true
}

// bucketAt is the count of the bucket whose bound is le.
func bucketAt(bs []Bucket, le float64) (float64, bool) {
	i := sort.Search(len(bs), func(i int) bool { return bs[i].Le >= le })
	if i < len(bs) && bs[i].Le == le {
		return bs[i].Count, true
	}
	return 0, false
}

// Quantile estimates the q-quantile (seconds) of an arm's latency from its buckets, as PromQL's
// histogram_quantile does: find the bucket the rank q*Requests falls in and interpolate linearly
// between its bounds; the first bucket's lower bound is 0 (for a positive first bound); a rank in the
// +Inf bucket answers the highest finite bound. NaN when there are no requests (or no buckets).
func Quantile(a Arm, q float64) float64 {
	if a.Requests <= 0 || len(a.Buckets) == 0 || math.IsNaN(q) {
		return math.NaN()
	}
	if q <= 0 {
		return 0
	}
	if q >= 1 {
		return a.Buckets[len(a.Buckets)-1].Le
	}
	rank := q * a.Requests
	lowLe, lowCount := 0.0, 0.0
	for _, b := range a.Buckets {
		if b.Count >= rank {
			if b.Count == lowCount {
				return b.Le
			}
			if b.Le <= 0 {
				return b.Le
			}
			return lowLe + (b.Le-lowLe)*(rank-lowCount)/(b.Count-lowCount)
		}
		lowLe, lowCount = b.Le, b.Count
	}
	return a.Buckets[len(a.Buckets)-1].Le
}

// mean estimates the mean latency (seconds) from bucket midpoints; requests beyond the highest finite
// bound count at that bound (a lower estimate: the +Inf bucket has no midpoint). NaN without requests.
func mean(a Arm) float64 {
	if a.Requests <= 0 || len(a.Buckets) == 0 {
		return math.NaN()
	}
	sum, lowLe, lowCount := 0.0, 0.0, 0.0
	for _, b := range a.Buckets {
		sum += (b.Count - lowCount) * (lowLe + b.Le) / 2
		lowLe, lowCount = b.Le, b.Count
	}
	sum += (a.Requests - lowCount) * lowLe
	return sum / a.Requests
}
