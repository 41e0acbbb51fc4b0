package judge

import "math"

// ratioTest is the test martingale shared by the errors and latency judges (see the package doc):
// events (errors, or requests slower than a threshold) of an interval split between the colours
// binomially given the interval's total events and exposures. Under H1 with rate ratio
// rho = p_canary/p_base, an event lands in the canary with probability
//
//	pi(rho, s) = s*rho / (s*rho + 1 - s),   s = canary requests / all requests of the interval,
//
// and under H0 (rho = 1) with probability s. The interval's likelihood ratio is therefore
//
//	LR_t(rho) = rho^x * (1 + s*(rho-1))^-e        (x canary events of e),
//
// and BF_n = sum_k w_k prod_t LR_t(rho_k), a mixture over a fixed grid of rho_k > 1 with fixed prior
// weights w_k. LogL keeps prod_t LR_t(rho_k) in log form per grid point, which is all the state the
// test needs.
type ratioTest struct {
	LogRho []float64 `json:"log_rho"`
	LogW   []float64 `json:"log_w"`
	LogL   []float64 `json:"log_l"`
	rhoM1  []float64 // rho_k - 1, derived from LogRho on first use
}

// oneSidedGrid is the prior on the rate ratio for "the new colour is worse": rho_k = 2^(k/2) for
// k = 1..28 (1.41 .. 16384), weights gridWeight(k) renormalised. Only rho > 1 carries mass: the test
// is one-sided, and since LR_t(rho) for rho > 1 has expectation <= 1 under every rho <= 1 too, it
// bounds the false-failure rate for a new colour that is better as well as for an equal one.
func oneSidedGrid() ratioTest {
	const n = 28
	t := ratioTest{LogRho: make([]float64, n), LogW: make([]float64, n), LogL: make([]float64, n)}
	sum := 0.0
	for k := 1; k <= n; k++ {
		sum += gridWeight(k)
	}
	for k := 1; k <= n; k++ {
		t.LogRho[k-1] = float64(k) / 2 * math.Ln2
		t.LogW[k-1] = math.Log(gridWeight(k) / sum)
	}
	return t
}

// observe adds one interval: x of e events on the canary, whose share of the interval's requests is
// s. An interval without events, or with one colour taking no requests, carries no evidence.
func (t *ratioTest) observe(x, e, s float64) {
	if e <= 0 || !(s > 0 && s < 1) {
		return
	}
	x = math.Min(math.Max(x, 0), e)
	if len(t.rhoM1) != len(t.LogRho) {
		t.rhoM1 = make([]float64, len(t.LogRho))
		for k, lr := range t.LogRho {
			t.rhoM1[k] = math.Expm1(lr)
		}
	}
	for k, lr := range t.LogRho {
		t.LogL[k] += x*lr - e*math.Log1p(s*t.rhoM1[k])
	}
}

// logBF is ln of the mixture Bayes factor: ln sum_k w_k L_k, computed without overflow.
func (t *ratioTest) logBF() float64 {
	m := t.maxTerm()
	if math.IsInf(m, -1) {
		return m
	}
	sum := 0.0
	for k := range t.LogL {
		sum += math.Exp(t.LogW[k] + t.LogL[k] - m)
	}
	return m + math.Log(sum)
}

// maxTerm is max_k ln(w_k L_k); logBF lies between it and it + ln K.
func (t *ratioTest) maxTerm() float64 {
	m := math.Inf(-1)
	for k := range t.LogL {
		if v := t.LogW[k] + t.LogL[k]; v > m {
			m = v
		}
	}
	return m
}

// reaches reports whether ln BF >= level, skipping the sum when the largest term says it cannot.
func (t *ratioTest) reaches(level float64) bool {
	if t.maxTerm()+math.Log(float64(len(t.LogL))) < level {
		return false
	}
	return t.logBF() >= level
}

// valid reports whether a restored test has the shape of a grid.
func (t *ratioTest) valid() bool {
	return len(t.LogRho) > 0 && len(t.LogW) == len(t.LogRho) && len(t.LogL) == len(t.LogRho)
}

// rateCS is a time-uniform confidence sequence for one colour's event rate p (events per request),
// from the beta-binomial mixture martingale (Robbins 1970; Howard, Ramdas, McAuliffe, Sekhon,
// "Time-uniform, nonparametric, nonasymptotic confidence sequences", Ann. Statist. 2021): with a
// Beta(A, B) mixture over the alternative, M_n(p) = B(A+x, B+n-x) / B(A, B) / (p^x (1-p)^(n-x)) is a
// test martingale for the true p, so {p : M_n(p) < 1/alpha} covers p at all times with probability
// >= 1-alpha. It needs no events: with x = 0 the upper bound still shrinks like ln(1/alpha)/n.
// Lo and Hi keep the running intersection, which is as valid as the current set.
type rateCS struct {
	A, B   float64
	N, X   float64
	Lo, Hi float64
}

func newRateCS(priorMean, strength float64) rateCS {
	return rateCS{A: priorMean * strength, B: (1 - priorMean) * strength, Hi: 1}
}

// observe adds x events in n requests and, when tighten, tightens the bounds at level alpha.
func (c *rateCS) observe(x, n, alpha float64, tighten bool) {
	if n <= 0 {
		return
	}
	c.N += n
	c.X += math.Min(math.Max(x, 0), n)
	if !tighten {
		return
	}
	lo, hi := c.bounds(alpha)
	c.Lo, c.Hi = math.Max(c.Lo, lo), math.Min(c.Hi, hi)
}

func (c *rateCS) rate() float64 {
	if c.N <= 0 {
		return math.NaN()
	}
	return c.X / c.N
}

// bounds solves ln M_n(p) = ln(1/alpha) on both sides of the maximum-likelihood rate x/n, where
// ln M_n is convex in p with its minimum; it answers the running intersection with the current set.
// Newton's method from the outer side of a root stays on that side (convexity), so every iterate is a
// conservative bound, and starting from the previous bound costs a few steps per interval; a previous
// bound already inside the current set is kept (the new root lies beyond it).
func (c *rateCS) bounds(alpha float64) (lo, hi float64) {
	x, n := c.X, c.N
	lbeta := func(a, b float64) float64 {
		la, _ := math.Lgamma(a)
		lb, _ := math.Lgamma(b)
		lab, _ := math.Lgamma(a + b)
		return la + lb - lab
	}
	level := math.Log(1/alpha) - (lbeta(c.A+x, c.B+n-x) - lbeta(c.A, c.B))
	// g(p) = ln M_n(p) - ln(1/alpha) = -x ln p - (n-x) ln(1-p) - level; the set is {g < 0}.
	g := func(p float64) (v, d float64) {
		if x > 0 {
			v -= x * math.Log(p)
			d -= x / p
		}
		if n-x > 0 {
			v -= (n - x) * math.Log1p(-p)
			d += (n - x) / (1 - p)
		}
		return v - level, d
	}
	mle := x / n
	if v, _ := g(mle); v >= 0 { // the set is empty: cannot happen for a proper prior
		return mle, mle
	}
	lo, hi = c.Lo, c.Hi
	if x < n {
		hi = newton(g, math.Min(hi, 1-1e-12), mle)
	}
	if x > 0 {
		lo = newton(g, math.Max(lo, mle*1e-9), mle)
	}
	return lo, hi
}

// newton walks from p (outside the set {g < 0}, or at its edge) towards the root between p and in.
// A start already inside the set is returned as it is.
func newton(g func(float64) (float64, float64), p, in float64) float64 {
	for i := 0; i < 60; i++ {
		v, d := g(p)
		if v <= 1e-9 || d == 0 {
			return p
		}
		next := p - v/d
		if (next-in)*(p-in) <= 0 { // would cross the minimum: numerical trouble; stay conservative
			return p
		}
		p = next
	}
	return p
}

// Prior on the rate ratio: normal in log2(rho), centred on rho = 5 (a +2% error rate on a 0.5%
// baseline, the reference effect) with a standard deviation of a factor of 2, plus a floor so
// that every ratio of the grid keeps some mass. Simulation chose it among weights 1/k, 1/k^2 and
// wider or narrower normals: it detects the +2% effect a sixth faster than 1/k and loses nothing on
// hard failures, whose evidence grows by about ln(1/s) per error whatever the weight.
const (
	priorCentre = 2.32 // log2(5)
	priorSD     = 1.0  // in log2 units
	priorFloor  = 0.01
)

func gridWeight(k int) float64 {
	d := (float64(k)/2 - priorCentre) / priorSD
	return math.Exp(-d*d/2) + priorFloor
}
