// Package analysis judges a release from evidence as it arrives: every Interval it reads each metric
// of the deployment's AnalysisSpec from its provider (Prometheus, CloudWatch, the daemon's own probes),
// feeds the per-colour deltas to the metric's judge (pkg/analysis/judge) and reports one verdict. It
// imports no SDK: providers are adapters behind the Provider interface.
package analysis

import (
	"context"
	"time"

	"github.com/switchyard/switchyard/pkg/analysis/judge"
	"github.com/switchyard/switchyard/pkg/deploy"
)

// Target is what one colour is, in the names metrics use.
type Target struct {
	Slot            deploy.Slot
	TargetGroupARN  string
	TargetGroup     string // ALB metric dimension form: targetgroup/name/id
	TargetGroupName string
	LoadBalancer    string // ALB metric dimension form: app/name/id
	Service         string // ECS service name
}

// Request asks a provider for one metric of one deployment: the live colour (Base) and the new one
// (Canary). Since is when the analysis began; Key identifies the deployment (providers that keep
// state, like the prober, keep it per key).
type Request struct {
	Key          string
	Metric       deploy.AnalysisMetric
	Base, Canary Target
	Since        time.Time
}

// Reading is a provider's answer: cumulative counters per colour (requests, errors and, for latency,
// a cumulative histogram) from an origin of the provider's choosing. The engine judges the deltas of
// successive readings, so an origin that moves (a counter reset) must show as a decrease.
type Reading struct {
	Base, Canary judge.Arm
}

// Provider reads metrics. Measure answers every request, in order; a request it cannot answer has a
// non-nil error at its index (the engine counts it toward the metric's consecutive-error limit).
// Batching providers (CloudWatch's GetMetricData) answer all requests with as few calls as they can.
type Provider interface {
	Measure(ctx context.Context, now time.Time, reqs []Request) ([]Reading, []error)
}

// Stopper is implemented by providers that keep per-deployment work (the prober): Stop ends the work
// kept for key.
type Stopper interface {
	Stop(key string)
}
