package judge

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// The simulated world: one interval is one second; requests per second are Poisson, split between
// the colours by a weight that steps from 10% to 50% half-way through a run and that the real split
// follows with a lag (as ALB's does), so the measured exposure differs from the configured weight.

type world struct {
	rng     *rand.Rand
	w       float64   // actual canary share, following the configured weight
	reqCDF  []float64 // Poisson CDF of requests per interval
	base    arm       // how each colour behaves
	can     arm
	scratch []float64
}

// arm is a colour's behaviour: error rate and latency distribution as bucket probabilities.
type arm struct {
	errRate float64
	cum     []float64 // cumulative probability of latency <= simBounds[i]; nil: no histogram
}

func newWorld(seed uint64, rps float64, base, can arm) *world {
	w := &world{rng: rand.New(rand.NewPCG(seed, 0x5eed)), w: 0.1, base: base, can: can,
		scratch: make([]float64, len(simBounds))}
	p := math.Exp(-rps)
	for k, f := 0, 0.0; f < 1-1e-15 && k < 10*int(rps)+100; k++ {
		f += p
		w.reqCDF = append(w.reqCDF, f)
		p *= rps / float64(k+1)
	}
	return w
}

// step simulates one interval with configured canary weight target.
func (w *world) step(target float64) Interval {
	w.w += (target - w.w) * 0.3
	n := sort.SearchFloat64s(w.reqCDF, w.rng.Float64()) // Poisson by inversion
	nc := w.binomial(n, w.w)
	return Interval{Base: w.sample(n-nc, w.base), Canary: w.sample(nc, w.can)}
}

func (w *world) sample(n int, a arm) Arm {
	out := Arm{Requests: float64(n), Errors: float64(w.binomial(n, a.errRate))}
	if a.cum == nil {
		return out
	}
	counts := w.scratch
	clear(counts)
	for i := 0; i < n; i++ {
		if k := sort.SearchFloat64s(a.cum, w.rng.Float64()); k < len(counts) { // first bound with cum >= u
			counts[k]++
		}
	}
	out.Buckets = make([]Bucket, len(simBounds))
	c := 0.0
	for i, le := range simBounds {
		c += counts[i]
		out.Buckets[i] = Bucket{Le: le, Count: c}
	}
	return out
}

// binomial draws Binomial(n, p) exactly: by geometric skips between successes when they are rare,
// by n Bernoulli trials otherwise.
func (w *world) binomial(n int, p float64) int {
	switch {
	case p <= 0:
		return 0
	case p >= 1:
		return n
	case p > 0.5:
		return n - w.binomial(n, 1-p)
	case p > 0.05:
		x := 0
		for i := 0; i < n; i++ {
			if w.rng.Float64() < p {
				x++
			}
		}
		return x
	}
	x, l := 0, math.Log1p(-p)
	for i := int(math.Log(1-w.rng.Float64()) / l); i < n; i += 1 + int(math.Log(1-w.rng.Float64())/l) {
		x++
	}
	return x
}

// simBounds: Prometheus' default buckets plus finer ones around typical web latencies.
var simBounds = []float64{.005, .01, .02, .025, .03, .04, .05, .06, .07, .08, .09, .1, .12, .15, .2, .25, .3, .4,
	.5, .75, 1, 2.5, 5, 10}

// lognormal bucket probabilities: median m seconds, log-sd sigma, shifted by shift seconds.
func lognormal(m, sigma, shift float64) []float64 {
	cum := make([]float64, len(simBounds))
	for i, le := range simBounds {
		if le > shift {
			cum[i] = 0.5 * math.Erfc(-(math.Log(le-shift)-math.Log(m))/(sigma*math.Sqrt2))
		}
	}
	return cum
}

// run feeds a judge intervals until it fails or horizon intervals pass; it answers the interval
// (1-based) of the first FAIL (0: none) and of the first PASS (0: none).
func run(t testing.TB, m deploy.AnalysisMetric, alpha float64, w *world, horizon int, stepAt int) (fail, pass int) {
	j, err := New(m, alpha)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= horizon; i++ {
		target := 0.1
		if stepAt > 0 && i > stepAt {
			target = 0.5
		}
		j.Observe(w.step(target))
		switch verdictOf(j) {
		case deploy.VerdictFail:
			return i, pass
		case deploy.VerdictPass:
			if pass == 0 {
				pass = i
			}
		}
	}
	return 0, pass
}

type dist struct{ median, p90, max, missed int }

func distOf(ts []int) dist {
	var d dist
	var got []int
	for _, t := range ts {
		if t == 0 {
			d.missed++
			continue
		}
		got = append(got, t)
	}
	if len(got) == 0 {
		return d
	}
	sort.Ints(got)
	d.median = got[(len(got)-1)/2]
	d.p90 = got[int(math.Ceil(0.9*float64(len(got))))-1]
	d.max = got[len(got)-1]
	return d
}

// verdictOf is j.Result().Verdict without formatting Why (the simulations ask after every interval);
// TestVerdictMatchesResult checks that the two agree.
func verdictOf(j Judge) deploy.Verdict { return j.(interface{ verdict() deploy.Verdict }).verdict() }
