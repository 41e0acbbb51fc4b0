package apptask

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MetricsPath is where a task serves its Prometheus metrics, on its own address, as a Django app with
// django-prometheus does. A scrape is not an application request: it is neither delayed nor counted.
const MetricsPath = "/metrics"

// The task's own metrics of its application requests (health checks and scrapes excluded).
const (
	RequestsMetric = "http_requests_total"           // counter, label code ("200", "500")
	DurationMetric = "http_request_duration_seconds" // histogram, from request arrival to the answer written
)

// DurationBuckets are fine enough to tell 50 ms from 250 ms (the latency judges compare colours at a
// quantile of the live colour's latency: coarse buckets would hide a +200 ms release).
var DurationBuckets = []float64{.005, .01, .025, .05, .075, .1, .15, .2, .25, .3, .4, .5, .75, 1, 2.5, 5, 10}

// metrics is one task's registry: each task is its own process in ECS, so each has its own.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration prometheus.Histogram
	handler  http.Handler
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: RequestsMetric,
			Help: "Application requests answered, by status code."}, []string{"code"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: DurationMetric,
			Help: "Application request latency in seconds.", Buckets: DurationBuckets}),
	}
	m.reg.MustRegister(m.requests, m.duration)
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
}

// observe records one answered application request that arrived at began.
func (m *metrics) observe(status int, began time.Time) {
	m.requests.WithLabelValues(strconv.Itoa(status)).Inc()
	m.duration.Observe(time.Since(began).Seconds())
}
