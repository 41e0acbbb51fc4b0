package world

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/test/apptask"
	"github.com/switchyard/switchyard/test/promharness"
)

// Prometheus jobs of the world: the data plane's HAProxy exporter (per target group backend
// counters, as the ALB's per-target-group metrics) and every running app task, discovered as ECS
// task discovery would (file_sd, rewritten as tasks start and stop), each labelled with its colour.
const (
	HAProxyJob = "haproxy"
	TasksJob   = "tasks"
)

// startPrometheus runs the world's Prometheus and keeps the tasks' file_sd current; it returns once
// the data plane and every running task are scraped (about 5 s: Prometheus' discovery throttle).
func (w *World) startPrometheus(ctx context.Context) error {
	job, err := promharness.JobFromURL(HAProxyJob, w.Plane.PrometheusURL())
	if err != nil {
		return err
	}
	if w.sdDir, err = os.MkdirTemp("", "world-sd-"); err != nil {
		return err
	}
	tasks := promharness.Job{Name: TasksJob, MetricsPath: apptask.MetricsPath, FileSD: filepath.Join(w.sdDir, "tasks.json")}
	if err := promharness.WriteTargets(tasks.FileSD, w.taskTargets()); err != nil {
		return err
	}
	if w.Prom, err = promharness.Start(ctx, promharness.Config{Jobs: []promharness.Job{job, tasks}}); err != nil {
		return err
	}
	loop, cancel := context.WithCancel(context.Background())
	w.sdCancel = cancel
	w.wg.Add(1)
	go func() { defer w.wg.Done(); w.followTasks(loop, tasks.FileSD) }()
	return w.waitScraped(ctx)
}

// followTasks rewrites the file_sd file whenever the fleet starts or loses a task.
func (w *World) followTasks(ctx context.Context, path string) {
	last := ""
	for {
		groups := w.taskTargets()
		if key := fmt.Sprint(groups); key != last {
			if err := promharness.WriteTargets(path, groups); err != nil {
				w.opts.Log("prometheus targets: %v", err)
			} else {
				last = key
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-w.tasksChanged:
		case <-time.After(time.Second): // a failed write is retried
		}
	}
}

// taskTargets are the running tasks as file_sd entries, one per task with its colour's labels.
func (w *World) taskTargets() []promharness.TargetGroup {
	var out []promharness.TargetGroup
	for _, s := range w.Fleet.Running() {
		sp := s.Spec()
		out = append(out, promharness.TargetGroup{Targets: []string{s.Addr()}, Labels: map[string]string{
			"slot": sp.Colour, "service": sp.Service, "target_group": w.tgNameOf(sp.Service), "task": sp.TaskARN}})
	}
	slices.SortFunc(out, func(a, b promharness.TargetGroup) int { return strings.Compare(a.Targets[0], b.Targets[0]) })
	return out
}

// tgNameOf is the name of the target group a service's tasks register in.
func (w *World) tgNameOf(service string) string {
	switch service {
	case w.Stack.BlueService:
		return TargetGroupName(w.Stack.BlueTG)
	case w.Stack.GreenService:
		return TargetGroupName(w.Stack.GreenTG)
	}
	return ""
}

// TargetGroupName is the name in a target group ARN (…:targetgroup/NAME/ID).
func TargetGroupName(arn string) string {
	parts := strings.Split(arn, "/")
	if len(parts) < 3 {
		return ""
	}
	return parts[len(parts)-2]
}

// waitScraped waits until Prometheus scrapes the data plane and every running task.
func (w *World) waitScraped(ctx context.Context) error {
	for {
		want := len(w.Fleet.Running()) + 1
		v, err := w.Prom.Query(ctx, `count(up == 1)`)
		if err == nil && len(v) == 1 && int(v[0].Value) >= want {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("world: prometheus scrapes %v of %d targets (%v): %w", v, want, err, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// PrometheusURL is the world's Prometheus HTTP API (PrometheusQueries.URL), "" without Options.Prometheus.
func (w *World) PrometheusURL() string {
	if w.Prom == nil {
		return ""
	}
	return w.Prom.URL
}

// The PromQL templates of AnalysisMetrics ({{.TargetGroupName}}, {{.Service}} are the colour's).
const (
	// HAProxy names a target group's backend tg_<name>_<id> (test/dataplane); names are unique in an
	// account and Region and hold no "_" (nor do ids: hex on AWS, hex and "-" in kumo), so the name
	// and any id select exactly that backend.
	backendSelector = `proxy=~"tg_{{.TargetGroupName}}_[^_]+"`
	RequestsQuery   = `sum(haproxy_backend_http_responses_total{` + backendSelector + `})`
	ErrorsQuery     = `sum(haproxy_backend_http_responses_total{` + backendSelector + `,code="5xx"})`
	// A task's counters vanish with it, so a plain sum over tasks would fall when one stops; the last
	// value of each task's series within the past hour keeps the sum monotone (a task never restarts:
	// a new task is a new instance). A task gone for over an hour drops out: a decrease, which the
	// engine takes as a counter reset. Its le="+Inf" series counts the requests (the latency judge's
	// exposure); LatencyCountQuery is the same count as one series, for checks and dashboards.
	LatencyBucketsQuery = `sum by (le) (max_over_time(http_request_duration_seconds_bucket{service="{{.Service}}"}[1h]))`
	LatencyCountQuery   = `sum(max_over_time(http_request_duration_seconds_count{service="{{.Service}}"}[1h]))`
)

// ProbePath is the application path the probe metric asks for through the test listener.
const ProbePath = "/api/probe"

// AnalysisMetrics are ready-made metrics for the daemon's analysis in this world: "errors" from
// the data plane's per-target-group response counters, "latency" from the tasks' own histograms,
// and "probe", HTTP checks through the test listener (which forwards to the new colour only).
// Needs Options.Prometheus.
func (w *World) AnalysisMetrics() []deploy.AnalysisMetric {
	url := w.PrometheusURL()
	pre, maxErr := true, 0.1
	return []deploy.AnalysisMetric{
		{Name: "errors", Provider: deploy.ProviderPrometheus, Judge: deploy.JudgeErrors,
			Prometheus: &deploy.PrometheusQueries{URL: url, Requests: RequestsQuery, Errors: ErrorsQuery}},
		{Name: "latency", Provider: deploy.ProviderPrometheus, Judge: deploy.JudgeLatency,
			Prometheus: &deploy.PrometheusQueries{URL: url, Buckets: LatencyBucketsQuery}}, // requests: its +Inf series
		{Name: "probe", Provider: deploy.ProviderProbe, Judge: deploy.JudgeThreshold, PreTraffic: &pre,
			Probe: &deploy.ProbeSpec{URL: w.TestURL() + ProbePath, Status: 200, Body: `"status":200`, Rate: 5,
				Timeout: deploy.Duration(2 * time.Second)},
			Threshold: &deploy.ThresholdSpec{Value: "error_rate", Max: &maxErr, MinSamples: 5}},
	}
}
