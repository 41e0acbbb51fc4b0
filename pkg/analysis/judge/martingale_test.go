package judge

import (
	"math"
	"math/rand/v2"
	"testing"
)

// lindonMalek is the two-arm Bayes factor of Lindon & Malek (NeurIPS 2022) with theta0 = (s, 1-s)
// and a Dirichlet(k*theta0) prior: lnB(a0 + c) - lnB(a0) - sum c_i ln theta0_i.
func lindonMalek(x, e, s, k float64) float64 {
	lbeta := func(a, b float64) float64 {
		la, _ := math.Lgamma(a)
		lb, _ := math.Lgamma(b)
		lab, _ := math.Lgamma(a + b)
		return la + lb - lab
	}
	a0, b0 := k*s, k*(1-s)
	return lbeta(a0+x, b0+e-x) - lbeta(a0, b0) - x*math.Log(s) - (e-x)*math.Log(1-s)
}

// With constant shares, the interval-conditional mixture with the prior on rho induced by
// Beta(k*s, k*(1-s)) on pi is Lindon & Malek's Bayes factor (two-sided: the whole prior).
func TestReducesToLindonMalek(t *testing.T) {
	for _, c := range []struct{ s, k float64 }{{0.1, 100}, {0.2, 10}, {0.5, 4}} {
		const m = 20000
		rt := ratioTest{}
		for i := 0; i < m; i++ {
			pi := (float64(i) + 0.5) / m
			rho := pi * (1 - c.s) / (c.s * (1 - pi))
			a, b := c.k*c.s, c.k*(1-c.s)
			la, _ := math.Lgamma(a)
			lb, _ := math.Lgamma(b)
			lab, _ := math.Lgamma(a + b)
			logPDF := (a-1)*math.Log(pi) + (b-1)*math.Log1p(-pi) - (la + lb - lab)
			rt.LogRho = append(rt.LogRho, math.Log(rho))
			rt.LogW = append(rt.LogW, logPDF-math.Log(m))
			rt.LogL = append(rt.LogL, 0)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		x, e := 0.0, 0.0
		for step := 0; step < 50; step++ {
			ei := float64(rng.IntN(6))
			xi := math.Floor(ei * rng.Float64() * 1.5)
			xi = math.Min(xi, ei)
			rt.observe(xi, ei, c.s)
			x, e = x+xi, e+ei
			got, want := rt.logBF(), lindonMalek(x, e, c.s, c.k)
			if math.Abs(got-want) > 1e-3*math.Max(1, math.Abs(want)) {
				t.Fatalf("s=%v k=%v after %v of %v events: log BF %v, Lindon & Malek %v", c.s, c.k, x, e, got, want)
			}
		}
		t.Logf("s=%v k=%v: %v of %v events in the canary, log BF %.4f = Lindon & Malek %.4f",
			c.s, c.k, x, e, rt.logBF(), lindonMalek(x, e, c.s, c.k))
	}
}

// Each interval's likelihood ratio has expectation exactly 1 under H0 (binomial split with p = s) and
// at most 1 when the canary is better, for any share: the product is a test (super)martingale.
func TestIntervalRatioIsFair(t *testing.T) {
	for _, s := range []float64{0.01, 0.1, 0.37, 0.5, 0.9} {
		for _, e := range []int{1, 3, 17} {
			for _, p := range []float64{s, s / 2} {
				ex := make([]float64, len(oneSidedGrid().LogRho)) // E[LR(rho_k)] under split probability p
				for x := 0; x <= e; x++ {
					lc, _ := math.Lgamma(float64(e + 1))
					l1, _ := math.Lgamma(float64(x + 1))
					l2, _ := math.Lgamma(float64(e - x + 1))
					logPMF := lc - l1 - l2 + float64(x)*math.Log(p) + float64(e-x)*math.Log1p(-p)
					g := oneSidedGrid()
					g.observe(float64(x), float64(e), s)
					for k, logLR := range g.LogL {
						ex[k] += math.Exp(logPMF + logLR)
					}
				}
				for k, v := range ex {
					if v > 1+1e-9 || (p == s && math.Abs(v-1) > 1e-9) {
						t.Fatalf("s=%v e=%d p=%v rho=%v: E[LR] = %v", s, e, p, math.Exp(oneSidedGrid().LogRho[k]), v)
					}
				}
			}
		}
	}
}

// The confidence sequence covers the true rate at all times in all but about alpha of runs, and gives
// a finite upper bound with no events at all.
func TestRateCSCoverage(t *testing.T) {
	const runs, steps, alpha = 400, 200, 0.05
	for _, p := range []float64{0, 0.003, 0.1} {
		missed := 0
		rng := rand.New(rand.NewPCG(7, uint64(p*1e6)))
		for r := 0; r < runs; r++ {
			c := newRateCS(0.01, 100)
			for i := 0; i < steps; i++ {
				x := 0.0
				for j := 0; j < 10; j++ {
					if rng.Float64() < p {
						x++
					}
				}
				c.observe(x, 10, alpha, true)
				if c.Lo > p || c.Hi < p {
					missed++
					break
				}
			}
		}
		// alpha is an upper bound; allow binomial noise above it (fixed seed: this cannot flake).
		if limit := int(alpha*runs + 3*math.Sqrt(alpha*runs)); missed > limit {
			t.Errorf("p=%v: %d of %d runs left the confidence sequence (limit %d)", p, missed, runs, limit)
		}
	}
	// No events: M_n(p) = B(1, 99+n)/B(1, 99) / (1-p)^n = 99/(99+n) / (1-p)^n, so the bound is exact.
	c := newRateCS(0.01, 100)
	c.observe(0, 1000, 0.005, true)
	want := 1 - math.Pow(0.005*99/1099, 1.0/1000)
	if c.Lo != 0 || c.Hi < want || c.Hi > want+1e-7 {
		t.Errorf("1000 requests, no errors: bounds [%v, %v], want [0, %v]", c.Lo, c.Hi, want)
	}
}
