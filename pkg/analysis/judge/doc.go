// Package judge decides, from per-colour counters as they arrive, whether a new release (the canary
// colour) is worse than the live one (the base colour). Its sequential judges stay valid however often
// they are looked at: the probability that they ever FAIL a release that is no worse than the live one
// is at most alpha over an unbounded bake (Ville's inequality for a nonnegative supermartingale).
//
// # errors: the new colour's error rate against the live colour's
//
// Lindon & Malek, "Anytime-Valid Inference for Multinomial Count Data" (NeurIPS 2022, arXiv
// 2011.03567) test whether events (here errors) land in arm i with probability theta0_i, the arm's
// share of the traffic, with a Dirichlet-multinomial Bayes factor
//
//	log BF_n = lnB(k*theta0 + c_n) - lnB(k*theta0) - sum_i c_i ln theta0_i.
//
// That formula needs a fixed theta0. A canary's traffic share is not fixed: it changes with every
// weight step and the real split lags the configured one. The reference implementation
// (assuncaolfi/savvi, InhomogeneousPoissonProcess) handles inhomogeneous event rates over time but
// still assumes a fixed assignment probability; we need inhomogeneous exposure. So we condition on
// each interval: given the interval's total errors e_t and the measured requests of each colour, the
// canary's errors x_t are Binomial(e_t, pi_t) with
//
//	pi_t = s_t*rho / (s_t*rho + 1 - s_t),   s_t = canary requests / all requests,   rho = p_canary / p_base.
//
// (Errors as Poisson counts make this exact; as binomial counts per request the split is
// hypergeometric, which is smaller in convex order than the binomial (Hoeffding 1963), so the
// likelihood ratio below has expectation <= 1 and the product stays a supermartingale.) Under H0,
// rho <= 1. For a fixed rho the product over intervals of
//
//	LR_t(rho) = rho^x_t * (1 + s_t*(rho - 1))^-e_t
//
// is a test (super)martingale, and so is any mixture sum_k w_k prod_t LR_t(rho_k) with weights fixed
// in advance. We mix over a grid rho_k = 2^(k/2), k = 1..28, with a prior concentrated on ratios 2.5
// to 10 (see gridWeight); the mixture is one-sided (rho > 1): the judge FAILs only a worse colour,
// when BF >= 1/alpha. With constant shares s_t = s and the prior on rho induced by a
// Beta(k*s, k*(1-s)) prior on pi, the mixture is exactly Lindon & Malek's two-arm Bayes factor
// (TestReducesToLindonMalek checks it by quadrature). Conditioning on each interval also makes the
// test indifferent to the live error rate moving over time (a dependency failing both colours):
// only how errors split between the colours counts, against how requests split.
//
// PASS ("enough evidence the new colour is not worse") needs a bound, not a failed test: a
// time-uniform upper confidence bound on p_canary and a lower one on p_base, each at alpha/2, from
// the beta-binomial mixture martingale (Robbins 1970; Howard, Ramdas, McAuliffe & Sekhon,
// "Time-uniform, nonparametric, nonasymptotic confidence sequences", Ann. Statist. 2021), running
// intersections kept. The judge passes when upper - lower <= Margin. The bounds work with no errors at
// all (the upper bound shrinks like ln(1/alpha)/n). The chance of passing a colour that is worse by
// more than Margin is at most alpha.
//
// No verdict is given before MinRequests requests on the new colour (the evidence accumulates from
// the start; only the decision waits), so a verdict rests on at least that many requests.
//
// # latency: is the new colour slower?
//
// Lindon, Sanden & Shirikian, "Rapid Regression Detection in Software Deployments through Sequential
// Testing" (KDD 2022, arXiv 2205.14762) test stochastic order on raw latencies with confidence
// sequences for CDFs. Here latencies arrive as histogram buckets per interval, and the buckets alone
// already give a valid and powerful test: take a threshold T predictably (from earlier data only) and
// count each colour's requests slower than T. If both colours have the same latency distribution (or
// the canary's is stochastically smaller), a request above T lands in the canary with probability at
// most its share of the requests, whatever T is: the exceedance counts are events with the requests
// as exposure, and the errors judge's martingale applies unchanged, including its robustness to load
// changing both colours' latency over time. T is the smallest bucket bound at or above the live
// colour's Quantile, chosen once from warm-up intervals (at least max(MinRequests,
// 10/(1-Quantile)) live requests) that are then not used by the test; it is fixed afterwards so that
// the exceedance shares have one meaning and the PASS bound (the canary's exceedance share at most
// the live colour's + Margin, by the same confidence sequences as the errors judge) is about a fixed
// quantity. A regression that leaves the tail above T untouched is not seen: this judges the
// Quantile, not the whole distribution.
//
// # threshold: limits on the new colour alone
//
// As Argo Rollouts' AnalysisTemplate: each interval's value of the new colour (error_rate, p50, p90,
// p99, mean from bucket midpoints, or requests) beyond Max or below Min is a failure; more than
// FailureLimit failures FAIL; MinSamples measured intervals without that PASS. Not sequentially valid
// in the statistical sense: for absolute service levels beside the comparisons.
package judge
