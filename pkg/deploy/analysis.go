package deploy

import (
	"encoding/json"
	"fmt"
	"time"
)

// AnalysisSpec is how a service's releases are judged from evidence as it arrives (pkg/analysis): a
// set of metrics, each read from a provider and judged, polled every Interval for the whole shift and
// by analysis steps. See README, "Analysis".
type AnalysisSpec struct {
	// Interval between measurements (default 1 s).
	Interval Duration `json:"interval,omitempty" yaml:"interval,omitempty"`
	// Alpha bounds the probability that a sequential judge ever fails a release that is no worse than
	// the live one, however long it watches (default 0.01), and that it passes one worse than the live
	// one by more than the metric's Margin. Each sequential metric gets the whole alpha.
	Alpha float64 `json:"alpha,omitempty" yaml:"alpha,omitempty"`
	// EarlyPass ends a weight step's bake as soon as every metric passes.
	EarlyPass bool `json:"early_pass,omitempty" yaml:"early_pass,omitempty"`
	// OnInconclusive is what a bake (or an analysis step's timeout) that ends without a verdict does.
	OnInconclusive InconclusivePolicy `json:"on_inconclusive,omitempty" yaml:"on_inconclusive,omitempty"`
	// ConsecutiveErrorLimit: this many failed measurements of one metric in a row fail the analysis
	// (fail closed; default 4). A measurement that succeeds resets the count.
	ConsecutiveErrorLimit int              `json:"consecutive_error_limit,omitempty" yaml:"consecutive_error_limit,omitempty"`
	Metrics               []AnalysisMetric `json:"metrics" yaml:"metrics"`
}

// InconclusivePolicy is what happens when a bake or an analysis step ends without a verdict.
type InconclusivePolicy string

const (
	InconclusiveAdvance  InconclusivePolicy = "advance"  // default: the alarms still guard; go on
	InconclusiveHold     InconclusivePolicy = "hold"     // pause for an operator
	InconclusiveRollback InconclusivePolicy = "rollback" // no evidence of good, no release
)

// AnalysisMetric is one measured quantity, where it comes from and how it is judged.
type AnalysisMetric struct {
	Name     string           `json:"name" yaml:"name"`
	Provider AnalysisProvider `json:"provider" yaml:"provider"`
	Judge    JudgeKind        `json:"judge" yaml:"judge"`
	// PreTraffic says the metric is measured before production traffic too (probes through the test
	// listener). Default: true for probe metrics, false otherwise.
	PreTraffic *bool `json:"pre_traffic,omitempty" yaml:"pre_traffic,omitempty"`

	Prometheus *PrometheusQueries `json:"prometheus,omitempty" yaml:"prometheus,omitempty"`
	CloudWatch *CloudWatchQueries `json:"cloudwatch,omitempty" yaml:"cloudwatch,omitempty"`
	Probe      *ProbeSpec         `json:"probe,omitempty" yaml:"probe,omitempty"`

	// Sequential judges (errors, latency).
	// Margin is the tolerance of "not worse" for a pass: errors, absolute error rate (default 0.01);
	// latency, absolute share of requests slower than the live colour's Quantile (default 0.05).
	Margin float64 `json:"margin,omitempty" yaml:"margin,omitempty"`
	// Quantile (latency judge) of the live colour's latency whose exceedance is compared (default 0.9).
	Quantile float64 `json:"quantile,omitempty" yaml:"quantile,omitempty"`
	// Tolerance (latency judge): a slowdown smaller than this is not a failure. The compared threshold is
	// the smallest histogram bound at or above the live colour's Quantile plus Tolerance (default 20 ms), so
	// that scheduling noise and scrape timing around a few milliseconds never fail a release.
	Tolerance Duration `json:"tolerance,omitempty" yaml:"tolerance,omitempty"`
	// MinRequests on the new colour before any verdict (default 20 errors judge, 50 latency).
	MinRequests int `json:"min_requests,omitempty" yaml:"min_requests,omitempty"`

	// Threshold judge (as Argo Rollouts' AnalysisTemplate).
	Threshold *ThresholdSpec `json:"threshold,omitempty" yaml:"threshold,omitempty"`
}

// AnalysisProvider names where a metric is read.
type AnalysisProvider string

const (
	ProviderPrometheus AnalysisProvider = "prometheus"
	ProviderCloudWatch AnalysisProvider = "cloudwatch"
	ProviderProbe      AnalysisProvider = "probe"
)

// JudgeKind names how a metric is judged.
type JudgeKind string

const (
	JudgeErrors    JudgeKind = "errors"    // sequential blue-vs-green error counts (Lindon & Malek)
	JudgeLatency   JudgeKind = "latency"   // sequential blue-vs-green latency comparison
	JudgeThreshold JudgeKind = "threshold" // the new colour's value against limits
)

// PrometheusQueries are PromQL templates returning cumulative counters for one colour. Templates see
// {{.Slot}} (blue|green), {{.TargetGroup}} (targetgroup/name/id), {{.TargetGroupName}},
// {{.LoadBalancer}} (app/name/id) and {{.Service}} (the ECS service).
type PrometheusQueries struct {
	// URL of the Prometheus HTTP API (e.g. http://prometheus:9090, or an Amazon Managed Service for
	// Prometheus workspace URL, signed with SigV4 when SigV4 is set).
	URL   string `json:"url" yaml:"url"`
	SigV4 bool   `json:"sigv4,omitempty" yaml:"sigv4,omitempty"`
	// Requests and Errors: scalar cumulative counters. Buckets: a cumulative histogram, one series per
	// "le" label (latency judge and latency thresholds); for the latency judge its le="+Inf" series is
	// the request count, whatever Requests says (a separate query can be a scrape apart, and requests
	// minus a bucket would count requests that were never slow).
	Requests string `json:"requests,omitempty" yaml:"requests,omitempty"`
	Errors   string `json:"errors,omitempty" yaml:"errors,omitempty"`
	Buckets  string `json:"buckets,omitempty" yaml:"buckets,omitempty"`
}

// CloudWatchQueries read per-target-group metrics with GetMetricData, summed since the analysis began.
// Dimensions are filled per colour: LoadBalancer and TargetGroup in ALB's arn-suffix form.
type CloudWatchQueries struct {
	Namespace string `json:"namespace,omitempty" yaml:"namespace,omitempty"` // default AWS/ApplicationELB
	Requests  string `json:"requests,omitempty" yaml:"requests,omitempty"`   // default RequestCount
	Errors    string `json:"errors,omitempty" yaml:"errors,omitempty"`       // default HTTPCode_Target_5XX_Count
	// Period in seconds: 60 for ALB metrics, 1 or 10 for high-resolution custom metrics (default 60).
	Period int `json:"period,omitempty" yaml:"period,omitempty"`
}

// ProbeSpec is an HTTP check the daemon sends itself, through the test listener (which forwards only
// to the new colour).
type ProbeSpec struct {
	URL     string            `json:"url" yaml:"url"` // e.g. http://internal-alb:8443/healthz
	Method  string            `json:"method,omitempty" yaml:"method,omitempty"`
	Headers map[string]string `json:"headers,omitempty" yaml:"headers,omitempty"`
	Status  int               `json:"status,omitempty" yaml:"status,omitempty"` // expected (default 200)
	// Body, when set, must occur in the response body.
	Body    string   `json:"body,omitempty" yaml:"body,omitempty"`
	Rate    float64  `json:"rate,omitempty" yaml:"rate,omitempty"` // checks per second (default 5)
	Timeout Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
}

// ThresholdSpec judges one value of the new colour per interval: a measurement beyond Max or below
// Min is a failure; more than FailureLimit failures fail the metric (default 0: the first does); it
// passes after MinSamples measured intervals (default 1; intervals without requests do not count).
type ThresholdSpec struct {
	// Value: error_rate, p50, p90, p99 (seconds), mean (seconds) or requests.
	Value        string   `json:"value" yaml:"value"`
	Max          *float64 `json:"max,omitempty" yaml:"max,omitempty"`
	Min          *float64 `json:"min,omitempty" yaml:"min,omitempty"`
	FailureLimit int      `json:"failure_limit,omitempty" yaml:"failure_limit,omitempty"`
	MinSamples   int      `json:"min_samples,omitempty" yaml:"min_samples,omitempty"`
}

// Verdict is an analysis' judgement.
type Verdict string

const (
	VerdictInconclusive Verdict = "inconclusive" // keep baking
	VerdictPass         Verdict = "pass"         // enough evidence the new colour is not worse
	VerdictFail         Verdict = "fail"         // roll back at once
)

// AnalysisRun is the analysis of one deployment, stored with it: what was measured, the verdicts over
// time and why. Judge states let a restarted daemon continue the sequential tests where they were.
type AnalysisRun struct {
	StartedAt time.Time      `json:"started_at"`
	UpdatedAt time.Time      `json:"updated_at"`
	Verdict   Verdict        `json:"verdict"`
	Why       string         `json:"why,omitempty"`
	Metrics   []MetricStatus `json:"metrics"`
	// Points are the measurements over time, newest last, thinned to at most MaxAnalysisPoints.
	Points     []AnalysisPoint `json:"points,omitempty"`
	FinishedAt *time.Time      `json:"finished_at,omitempty"`
}

// MaxAnalysisPoints bounds the stored measurements of one run (a DynamoDB item holds 400 KB).
const MaxAnalysisPoints = 400

// MetricStatus is one metric's judgement and the state its judge needs to continue.
type MetricStatus struct {
	Name    string             `json:"name"`
	Verdict Verdict            `json:"verdict"`
	Why     string             `json:"why,omitempty"`
	Stats   map[string]float64 `json:"stats,omitempty"`
	// Errors is the number of failed measurements in a row; LastError the last one's message.
	Errors    int    `json:"errors,omitempty"`
	LastError string `json:"last_error,omitempty"`
	// Judge is the judge's own state (pkg/analysis/judge), Last the last cumulative reading.
	Judge json.RawMessage `json:"judge,omitempty"`
	Last  json.RawMessage `json:"last,omitempty"`
}

// AnalysisPoint is one measurement interval of one metric: what each colour did in it.
type AnalysisPoint struct {
	At             time.Time `json:"at"`
	Metric         string    `json:"metric"`
	BaseRequests   float64   `json:"base_requests"`
	BaseErrors     float64   `json:"base_errors"`
	CanaryRequests float64   `json:"canary_requests"`
	CanaryErrors   float64   `json:"canary_errors"`
	// BaseValue and CanaryValue: the interval's p90 latency (latency metrics) or error rate.
	BaseValue   float64 `json:"base_value,omitempty"`
	CanaryValue float64 `json:"canary_value,omitempty"`
	Verdict     Verdict `json:"verdict"`
}

// Defaults of the analysis settings.
const (
	DefaultAnalysisInterval = time.Second
	DefaultAnalysisAlpha    = 0.01
	DefaultErrorLimit       = 4
	// DefaultPreTrafficGate is how long the implicit analysis step before any traffic waits for the
	// pre-traffic metrics (probes) to pass.
	DefaultPreTrafficGate = time.Minute
)

// WithDefaults returns s with every unset setting at its default.
func (s AnalysisSpec) WithDefaults() AnalysisSpec {
	if s.Interval == 0 {
		s.Interval = Duration(DefaultAnalysisInterval)
	}
	if s.Alpha == 0 {
		s.Alpha = DefaultAnalysisAlpha
	}
	if s.OnInconclusive == "" {
		s.OnInconclusive = InconclusiveAdvance
	}
	if s.ConsecutiveErrorLimit == 0 {
		s.ConsecutiveErrorLimit = DefaultErrorLimit
	}
	return s
}

// IsPreTraffic reports whether m is measured before production traffic (probes by default).
func (m AnalysisMetric) IsPreTraffic() bool {
	if m.PreTraffic != nil {
		return *m.PreTraffic
	}
	return m.Provider == ProviderProbe
}

// HasPreTraffic reports whether any metric is measured before production traffic.
func (s AnalysisSpec) HasPreTraffic() bool {
	for _, m := range s.Metrics {
		if m.IsPreTraffic() {
			return true
		}
	}
	return false
}

// Check validates s; every message starts with the field relative to the analysis block. The judges'
// own settings (margin, quantile, threshold) are checked by the judge package when it is built.
func (s AnalysisSpec) Check() error {
	const op = "analysis.Check"
	bad := func(format string, args ...any) error { return Errorf(op, KindInvalid, format, args...) }
	switch {
	case s.Interval < 0 || (s.Interval > 0 && s.Interval.D() < 100*time.Millisecond) || s.Interval.D() > 5*time.Minute:
		return bad("interval: must be between 100ms and 5m, got %s", s.Interval.D())
	case s.Alpha < 0 || s.Alpha >= 0.5 || s.Alpha != s.Alpha:
		return bad("alpha: must be in (0, 0.5), got %v", s.Alpha)
	case s.ConsecutiveErrorLimit < 0 || s.ConsecutiveErrorLimit > 1000:
		return bad("consecutive_error_limit: must be between 1 and 1000, got %d", s.ConsecutiveErrorLimit)
	case len(s.Metrics) == 0:
		return bad("metrics: at least one metric")
	}
	switch s.OnInconclusive {
	case "", InconclusiveAdvance, InconclusiveHold, InconclusiveRollback:
	default:
		return bad("on_inconclusive: one of advance, hold, rollback; got %q", s.OnInconclusive)
	}
	seen := map[string]bool{}
	for i, m := range s.Metrics {
		if m.Name == "" {
			return bad("metrics[%d].name: required", i)
		}
		if seen[m.Name] {
			return bad("metrics[%d].name: %q appears twice", i, m.Name)
		}
		seen[m.Name] = true
		if err := m.check(); err != nil {
			return bad("metrics[%d] (%s).%s", i, m.Name, err)
		}
	}
	return nil
}

func (m AnalysisMetric) check() error {
	given := 0
	for _, p := range []bool{m.Prometheus != nil, m.CloudWatch != nil, m.Probe != nil} {
		if p {
			given++
		}
	}
	if given > 1 {
		return fmt.Errorf("provider: give exactly one of prometheus, cloudwatch, probe")
	}
	switch m.Provider {
	case ProviderPrometheus:
		q := m.Prometheus
		switch {
		case q == nil:
			return fmt.Errorf("prometheus: required for provider prometheus")
		case q.URL == "":
			return fmt.Errorf("prometheus.url: required")
		case m.Judge == JudgeLatency && q.Buckets == "":
			return fmt.Errorf("prometheus.buckets: the latency judge needs a histogram query")
		case m.Judge == JudgeErrors && (q.Requests == "" || q.Errors == ""):
			return fmt.Errorf("prometheus: the errors judge needs requests and errors queries")
		}
	case ProviderCloudWatch:
		if m.CloudWatch == nil {
			return fmt.Errorf("cloudwatch: required for provider cloudwatch (an empty block takes the ALB defaults)")
		}
		if m.Judge == JudgeLatency {
			return fmt.Errorf("judge: cloudwatch gives no per-request histogram; use a threshold or the prometheus provider")
		}
		switch p := m.CloudWatch.Period; {
		case p == 0 || p == 1 || p == 5 || p == 10 || p == 30 || (p >= 60 && p%60 == 0):
		default:
			return fmt.Errorf("cloudwatch.period: 1, 5, 10, 30 or a multiple of 60 seconds, got %d", p)
		}
	case ProviderProbe:
		switch p := m.Probe; {
		case p == nil:
			return fmt.Errorf("probe: required for provider probe")
		case p.URL == "":
			return fmt.Errorf("probe.url: required")
		case p.Rate < 0 || p.Rate > 100:
			return fmt.Errorf("probe.rate: between 0 and 100 checks a second, got %v", p.Rate)
		case p.Timeout < 0:
			return fmt.Errorf("probe.timeout: must not be negative")
		}
		if m.Judge != JudgeThreshold {
			return fmt.Errorf("judge: probes reach only the new colour; judge them with a threshold")
		}
	default:
		return fmt.Errorf("provider: one of prometheus, cloudwatch, probe; got %q", m.Provider)
	}
	switch m.Judge {
	case JudgeErrors, JudgeLatency:
	case JudgeThreshold:
		if m.Threshold == nil {
			return fmt.Errorf("threshold: required for judge threshold")
		}
	default:
		return fmt.Errorf("judge: one of errors, latency, threshold; got %q", m.Judge)
	}
	return nil
}
