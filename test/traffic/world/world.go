// Package world is the test world that carries real traffic: the demo stack in kumo, its ECS tasks
// as real HTTP servers (test/apptask) started by the ECS stand-in, a real HAProxy as the data plane
// following the emulator's listeners, rules, weights and registrations (test/dataplane), a health
// front that answers the daemon's DescribeTargetHealth from the data plane's real health checks
// (test/healthfront), the data plane's counters published to CloudWatch as ALB metrics
// (test/albmetrics) and the stack's alarm definitions evaluated from them (test/alarmeval). Tests,
// benchmarks and the demo start it; everything listens on loopback.
package world

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/switchyard/switchyard/test/alarmeval"
	"github.com/switchyard/switchyard/test/albmetrics"
	"github.com/switchyard/switchyard/test/apptask"
	"github.com/switchyard/switchyard/test/dataplane"
	"github.com/switchyard/switchyard/test/demostack"
	"github.com/switchyard/switchyard/test/ecsfake"
	"github.com/switchyard/switchyard/test/emulator"
	"github.com/switchyard/switchyard/test/healthfront"
	"github.com/switchyard/switchyard/test/promharness"
)

// Options shape a World.
type Options struct {
	Name string
	// Tags are image tags pushed besides v1 (the live release).
	Tags []string
	// Table is the behaviour of each image tag; nil: every release is healthy and fast.
	Table *apptask.Table
	// HealthScale shortens the target groups' health-check intervals in the data plane (default 0.02:
	// the 30 s interval checks every 600 ms); the daemon reads the configured interval.
	HealthScale float64
	// AlarmScale makes alarm time run faster than the wall (default 1: 60 s periods, as configured).
	AlarmScale float64
	// StartDelay is how long a new ECS task takes to start (default 200 ms).
	StartDelay time.Duration
	// Prometheus starts a real Prometheus scraping, every second, the data plane's exporter and every
	// running app task (labels slot, service, target_group, task), for the analysis judges (see
	// AnalysisMetrics); off by default: it adds about 5 s to start-up.
	Prometheus bool
	// Log hears the world's own errors (metric puts, alarm rounds, data plane sync); nil: dropped.
	Log func(format string, args ...any)
}

// Propagation bounds how long the data plane takes to route by a weight change the emulator has
// accepted: one sync interval plus a read of kumo (docs/alb-semantics.md: p99 101-124 ms under load),
// with room for a loaded CI machine.
const Propagation = 500 * time.Millisecond

// The stack's alarm thresholds (terraform/modules/monitoring defaults).
const (
	Target5xxThreshold = 5   // HTTPCode_Target_5XX_Count per period, per colour
	ELB5xxThreshold    = 5   // HTTPCode_ELB_5XX_Count per period, load balancer-wide
	P99Threshold       = 1.0 // TargetResponseTime p99, seconds
	AlarmPeriod        = 60 * time.Second
)

// World is one service's environment with real traffic.
type World struct {
	*demostack.World
	Fleet *apptask.Fleet
	Plane *dataplane.Plane
	Front *healthfront.Front
	// BlueAlarms and GreenAlarms guard a release to that colour; SharedAlarms every release.
	SharedAlarms, BlueAlarms, GreenAlarms []string
	Evaluator                             *alarmeval.Evaluator
	// Prom is the Prometheus scraping the data plane and the tasks (Options.Prometheus), else nil.
	Prom   *promharness.Server
	opts   Options
	cancel context.CancelFunc
	wg     sync.WaitGroup

	tasksChanged chan struct{} // a task started or exited (Options.Prometheus)
	sdDir        string
	sdCancel     context.CancelFunc
}

// New builds the world named o.Name in the kumo emulator at kumoURL.
func New(ctx context.Context, kumoURL string, o Options) (*World, error) {
	if o.HealthScale == 0 {
		o.HealthScale = 0.02
	}
	if o.AlarmScale == 0 {
		o.AlarmScale = 1
	}
	if o.StartDelay == 0 {
		o.StartDelay = 200 * time.Millisecond
	}
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
	cfg := emulator.Config(kumoURL)
	st, err := demostack.Create(ctx, cfg, o.Name, append([]string{"v1"}, o.Tags...)...)
	if err != nil {
		return nil, err
	}
	lb := elb.NewFromConfig(cfg)
	// The target groups keep kumo's health-check defaults (30 s interval, 5 to turn healthy, 2 to turn
	// unhealthy, /healthz): kumo v0.33.1 answers ModifyTargetGroup with an empty 400, so the stack's own
	// settings cannot be set. The data plane scales the interval by HealthScale.
	w := &World{opts: o, Fleet: apptask.NewFleet(o.Table, nil), tasksChanged: make(chan struct{}, 1)}
	if o.Prometheus {
		w.Fleet.OnChange(func() {
			select {
			case w.tasksChanged <- struct{}{}:
			default: // a rewrite is already due
			}
		})
	}
	ok := false
	defer func() {
		if !ok {
			w.Close()
		}
	}()
	fake, err := ecsfake.Start(ecsfake.Options{ELBv2: lb, StartDelay: o.StartDelay, Runner: w.Fleet.Runner()})
	if err != nil {
		return nil, err
	}
	w.World = &demostack.World{KumoURL: kumoURL, AWS: cfg, Stack: st, ECS: fake}
	if w.Plane, err = dataplane.Start(ctx, dataplane.Options{ELBv2: lb, LoadBalancerARNs: []string{st.LoadBalancer}, HealthScale: o.HealthScale}); err != nil {
		return nil, err
	}
	if w.Front, err = healthfront.Start(healthfront.Options{Upstream: kumoURL, Health: w.Plane.Health}); err != nil {
		return nil, err
	}
	td := fake.SeedTaskDefinition("td-"+o.Name, st.Container, st.RepositoryURI+":v1")
	if _, err := fake.Seed(st.Cluster, st.BlueService, td, demostack.LiveCount, st.BlueTG, int(st.ContainerPort)); err != nil {
		return nil, err
	}
	if _, err := fake.Seed(st.Cluster, st.GreenService, td, 0, st.GreenTG, int(st.ContainerPort)); err != nil {
		return nil, err
	}
	fake.SeedScalableTarget(st.Cluster, st.BlueService, demostack.LiveCount, 4*demostack.LiveCount, false)
	fake.SeedScalableTarget(st.Cluster, st.GreenService, 0, 4*demostack.LiveCount, true)
	if err := w.putAlarms(ctx, cloudwatch.NewFromConfig(cfg)); err != nil {
		return nil, err
	}
	if err := w.startMetrics(cfg, kumoURL); err != nil {
		return nil, err
	}
	if err := w.WaitHealthy(ctx, st.BlueTG, demostack.LiveCount); err != nil {
		return nil, err
	}
	if o.Prometheus {
		if err := w.startPrometheus(ctx); err != nil {
			return nil, err
		}
	}
	ok = true
	return w, nil
}

// putAlarms replaces the demo stack's alarms with the Terraform stack's (same names): per colour,
// target 5xx and p99 latency on {LoadBalancer, TargetGroup}; load balancer-wide, ELB 5xx.
func (w *World) putAlarms(ctx context.Context, cw *cloudwatch.Client) error {
	st := w.Stack
	lbDim := albmetrics.LoadBalancerDimension(st.LoadBalancer)
	tgDims := func(tg string) []cwtypes.Dimension {
		return []cwtypes.Dimension{{Name: aws.String("LoadBalancer"), Value: aws.String(lbDim)},
			{Name: aws.String("TargetGroup"), Value: aws.String(albmetrics.TargetGroupDimension(tg))}}
	}
	alarm := func(name, metric string, dims []cwtypes.Dimension, threshold float64) *cloudwatch.PutMetricAlarmInput {
		return &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String(name), Namespace: aws.String(albmetrics.Namespace),
			MetricName: aws.String(metric), Dimensions: dims, Statistic: cwtypes.StatisticSum,
			Period: aws.Int32(int32(AlarmPeriod / time.Second)), EvaluationPeriods: aws.Int32(1), DatapointsToAlarm: aws.Int32(1),
			Threshold: aws.Float64(threshold), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
			TreatMissingData: aws.String("notBreaching")}
	}
	p99 := func(name, tg string) *cloudwatch.PutMetricAlarmInput {
		in := alarm(name, "TargetResponseTime", tgDims(tg), P99Threshold)
		in.Statistic, in.ExtendedStatistic = "", aws.String("p99")
		return in
	}
	blueP99, greenP99 := strings.Replace(st.BlueAlarm, "-5xx-", "-p99-", 1), strings.Replace(st.GreenAlarm, "-5xx-", "-p99-", 1)
	inputs := []*cloudwatch.PutMetricAlarmInput{
		alarm(st.SharedAlarm, "HTTPCode_ELB_5XX_Count", []cwtypes.Dimension{{Name: aws.String("LoadBalancer"), Value: aws.String(lbDim)}}, ELB5xxThreshold),
		alarm(st.BlueAlarm, "HTTPCode_Target_5XX_Count", tgDims(st.BlueTG), Target5xxThreshold),
		alarm(st.GreenAlarm, "HTTPCode_Target_5XX_Count", tgDims(st.GreenTG), Target5xxThreshold),
		p99(blueP99, st.BlueTG), p99(greenP99, st.GreenTG),
	}
	for _, in := range inputs {
		if _, err := cw.PutMetricAlarm(ctx, in); err != nil {
			return fmt.Errorf("world: alarm %s: %w", aws.ToString(in.AlarmName), err)
		}
		if err := demostack.SetAlarm(ctx, w.AWS, aws.ToString(in.AlarmName), "OK"); err != nil {
			return err
		}
	}
	w.SharedAlarms, w.BlueAlarms, w.GreenAlarms = []string{st.SharedAlarm}, []string{st.BlueAlarm, blueP99}, []string{st.GreenAlarm, greenP99}
	names := append(append(append([]string(nil), w.SharedAlarms...), w.BlueAlarms...), w.GreenAlarms...)
	var err error
	w.Evaluator, err = alarmeval.New(alarmeval.Config{API: cw, Alarms: names, Overrides: alarmeval.OverridesFrom(inputs...),
		Scale: w.opts.AlarmScale, OnError: func(err error) { w.opts.Log("alarm evaluation: %v", err) }})
	return err
}

// startMetrics publishes the data plane's counters as ALB metrics and runs the alarm evaluator.
func (w *World) startMetrics(cfg aws.Config, kumoURL string) error {
	pub, err := albmetrics.New(albmetrics.Config{LoadBalancerARN: w.Stack.LoadBalancer, Source: w.counters,
		Sink: albmetrics.KumoSink(kumoURL, nil), Period: alarmeval.WallPeriod(AlarmPeriod, w.opts.AlarmScale),
		OnError: func(err error) { w.opts.Log("metrics: %v", err) }})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	w.wg.Add(2)
	go func() { defer w.wg.Done(); pub.Run(ctx) }()
	go func() {
		defer w.wg.Done()
		if err := w.Evaluator.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			w.opts.Log("alarm evaluator stopped: %v", err)
		}
	}()
	return nil
}

func (w *World) counters() (map[string]albmetrics.Counters, error) {
	st, err := w.Plane.Stats()
	if err != nil {
		return nil, err
	}
	out := make(map[string]albmetrics.Counters, len(st))
	for arn, s := range st {
		out[arn] = albmetrics.Counters{LoadBalancerARN: s.LoadBalancerARN, Requests: uint64(s.Requests),
			Target2XX: uint64(s.Target2XX), Target3XX: uint64(s.Target3XX), Target4XX: uint64(s.Target4XX),
			Target5XX: uint64(s.Target5XX), ELB5XX: uint64(s.ELB5XX), Responses: uint64(s.ResponseCount),
			ResponseTimeSum: s.ResponseTimeSum, Healthy: s.HealthyHosts, Unhealthy: s.UnhealthyHosts}
	}
	return out, nil
}

// ProductionURL is the production listener (default action and the /api/* rule) in the data plane.
func (w *World) ProductionURL() string { return w.Plane.ListenerURL(w.Stack.Listener) }

// TestURL is the test listener in the data plane.
func (w *World) TestURL() string { return w.Plane.ListenerURL(w.Stack.TestListener) }

// WaitHealthy waits until tg has at least n healthy targets in the data plane.
func (w *World) WaitHealthy(ctx context.Context, tg string, n int) error {
	for {
		healthy := 0
		for _, t := range w.Plane.TargetHealth(tg) {
			if t.State == "healthy" {
				healthy++
			}
		}
		if healthy >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("world: %d healthy targets in %s, want %d: %w", healthy, tg, n, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// ConfigYAML renders the daemon configuration for this world: as demostack's, with ELBv2 reached
// through the health front (so target health is the data plane's) and the stack's alarms.
func (w *World) ConfigYAML(listen, dbPath string, poll time.Duration, tokens []demostack.Token, strategyYAML string) string {
	y := w.World.ConfigYAML(listen, dbPath, poll, tokens, strategyYAML)
	y = strings.Replace(y, "  endpoints: {", "  endpoints: {elbv2: "+w.Front.URL()+", ", 1)
	y = strings.Replace(y, "    blue_alarms: ["+w.Stack.BlueAlarm+"]", "    blue_alarms: ["+strings.Join(w.BlueAlarms, ", ")+"]", 1)
	return strings.Replace(y, "    green_alarms: ["+w.Stack.GreenAlarm+"]", "    green_alarms: ["+strings.Join(w.GreenAlarms, ", ")+"]", 1)
}

// Close stops everything the world started.
func (w *World) Close() {
	if w.sdCancel != nil {
		w.sdCancel()
	}
	if w.cancel != nil {
		w.cancel()
	}
	w.wg.Wait()
	if w.Prom != nil {
		w.Prom.Close()
	}
	if w.sdDir != "" {
		os.RemoveAll(w.sdDir)
	}
	if w.Front != nil {
		w.Front.Close()
	}
	if w.Plane != nil {
		w.Plane.Close()
	}
	if w.World != nil {
		w.World.Close()
	}
}
