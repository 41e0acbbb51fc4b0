package judge

import (
	"math"
	"reflect"
	"testing"
)

func TestDelta(t *testing.T) {
	prev := Arm{Requests: 100, Errors: 5, Buckets: []Bucket{{0.1, 60}, {0.5, 90}}}
	cur := Arm{Requests: 150, Errors: 6, Buckets: []Bucket{{0.1, 80}, {0.5, 140}}}
	d, reset := Delta(prev, cur)
	want := Arm{Requests: 50, Errors: 1, Buckets: []Bucket{{0.1, 20}, {0.5, 50}}}
	if reset || !reflect.DeepEqual(d, want) {
		t.Fatalf("Delta = %+v, %v; want %+v, false", d, reset, want)
	}
	for name, c := range map[string]Arm{
		"requests": {Requests: 10, Errors: 6, Buckets: []Bucket{{0.1, 80}, {0.5, 140}}},
		"errors":   {Requests: 150, Errors: 1, Buckets: []Bucket{{0.1, 80}, {0.5, 140}}},
		"bucket":   {Requests: 150, Errors: 6, Buckets: []Bucket{{0.1, 50}, {0.5, 140}}},
	} {
		d, reset := Delta(prev, c)
		if !reset || !reflect.DeepEqual(d, c) {
			t.Errorf("%s went down: Delta = %+v, %v; want cur itself and reset", name, d, reset)
		}
	}
	// A bucket prev lacks counts from zero.
	d, reset = Delta(Arm{Requests: 1}, Arm{Requests: 3, Buckets: []Bucket{{1, 2}}})
	if reset || !reflect.DeepEqual(d, Arm{Requests: 2, Buckets: []Bucket{{1, 2}}}) {
		t.Errorf("new bucket: Delta = %+v, %v", d, reset)
	}
}

func TestQuantile(t *testing.T) {
	// 100 requests: 10 <= 0.1 s, 50 <= 0.2, 90 <= 0.4, 100 <= 1 (none in +Inf).
	a := Arm{Requests: 100, Buckets: []Bucket{{0.1, 10}, {0.2, 50}, {0.4, 90}, {1, 100}}}
	for _, c := range []struct{ q, want float64 }{
		{0.05, 0.05}, // first bucket interpolates from 0
		{0.1, 0.1},   // exactly a bound
		{0.3, 0.15},  // rank 30: half-way through (0.1, 0.2]
		{0.5, 0.2},   // rank 50
		{0.9, 0.4},   // rank 90
		{0.95, 0.7},  // rank 95: half-way through (0.4, 1]
		{0.99, 0.94}, // rank 99
		{1, 1},       // highest bound
		{0, 0},       // lowest
	} {
		if got := Quantile(a, c.q); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	// Ranks in the +Inf bucket answer the highest finite bound (histogram_quantile's rule).
	inf := Arm{Requests: 100, Buckets: []Bucket{{0.1, 50}, {0.5, 80}}}
	if got := Quantile(inf, 0.9); got != 0.5 {
		t.Errorf("rank in +Inf: Quantile = %v, want 0.5", got)
	}
	if got := Quantile(Arm{}, 0.9); !math.IsNaN(got) {
		t.Errorf("no requests: Quantile = %v, want NaN", got)
	}
	// Against a known distribution: uniform on (0, 1] in 20 buckets, 1e6 requests.
	u := Arm{Requests: 1e6}
	for i := 1; i <= 20; i++ {
		u.Buckets = append(u.Buckets, Bucket{Le: float64(i) / 20, Count: 1e6 * float64(i) / 20})
	}
	for _, q := range []float64{0.01, 0.37, 0.5, 0.9, 0.99} {
		if got := Quantile(u, q); math.Abs(got-q) > 1e-9 {
			t.Errorf("uniform: Quantile(%v) = %v", q, got)
		}
	}
	if got := mean(u); math.Abs(got-0.5) > 1e-9 {
		t.Errorf("uniform: mean = %v, want 0.5", got)
	}
}

func TestAccumulate(t *testing.T) {
	acc := accumulate(Arm{}, Arm{Requests: 2, Buckets: []Bucket{{1, 1}}})
	acc = accumulate(acc, Arm{Requests: 3, Errors: 1, Buckets: []Bucket{{1, 2}}})
	acc = accumulate(acc, Arm{Requests: 1, Buckets: []Bucket{{0.5, 1}, {1, 1}}}) // another layout
	want := Arm{Requests: 6, Errors: 1, Buckets: []Bucket{{0.5, 1}, {1, 4}}}
	if !reflect.DeepEqual(acc, want) {
		t.Fatalf("accumulate = %+v, want %+v", acc, want)
	}
}
