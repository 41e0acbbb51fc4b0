// Package metrics defines switchyard's Prometheus metrics on a registry of its own, so that tests can
// build independent instances and /metrics shows only what switchyard exports (plus Go runtime figures).
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics holds every collector. A nil *Metrics is valid and records nothing.
type Metrics struct {
	Registry *prometheus.Registry

	Deployments      *prometheus.CounterVec   // by service, outcome (succeeded, rolled_back, failed)
	StepDuration     *prometheus.HistogramVec // by service: seconds from a step's start to its end
	RollbackDecision *prometheus.HistogramVec // by cause: trigger observed -> first ModifyListener/ModifyRule sent
	RollbackTotal    *prometheus.HistogramVec // by cause: trigger observed -> 100/0 verified
	AWSCalls         *prometheus.CounterVec   // by service, operation
	AWSErrors        *prometheus.CounterVec   // by service, operation, code
	HTTPRequests     *prometheus.CounterVec   // by route, code
	ActiveDeploys    prometheus.Gauge
}

// New creates and registers the collectors.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Deployments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_deployments_total", Help: "Finished deployments by outcome.",
		}, []string{"service", "outcome"}),
		StepDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "switchyard_step_duration_seconds", Help: "Duration of weight steps including bake.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 16),
		}, []string{"service"}),
		RollbackDecision: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "switchyard_rollback_decision_seconds", Help: "Time from a rollback trigger being observed to the weight change being sent.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18),
		}, []string{"cause"}),
		RollbackTotal: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "switchyard_rollback_verified_seconds", Help: "Time from a rollback trigger being observed to verified weights on the previous slot.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, []string{"cause"}),
		AWSCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_aws_calls_total", Help: "AWS API calls by service and operation.",
		}, []string{"service", "operation"}),
		AWSErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_aws_errors_total", Help: "Failed AWS API calls by service, operation and error code.",
		}, []string{"service", "operation", "code"}),
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_http_requests_total", Help: "API requests by route and status code.",
		}, []string{"route", "code"}),
		ActiveDeploys: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchyard_active_deployments", Help: "Deployments not yet in a terminal state.",
		}),
	}
	m.Registry.MustRegister(m.Deployments, m.StepDuration, m.RollbackDecision, m.RollbackTotal,
		m.AWSCalls, m.AWSErrors, m.HTTPRequests, m.ActiveDeploys,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
