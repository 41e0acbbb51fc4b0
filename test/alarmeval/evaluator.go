package alarmeval

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/switchyard/switchyard/pkg/clock"
)

// API is the part of the CloudWatch client the evaluator uses (*cloudwatch.Client has it).
type API interface {
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
	SetAlarmState(ctx context.Context, in *cloudwatch.SetAlarmStateInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.SetAlarmStateOutput, error)
}

// Override supplies alarm settings kumo's DescribeAlarms does not return; zero fields keep what
// DescribeAlarms said (or CloudWatch's default).
type Override struct {
	DatapointsToAlarm int
	TreatMissingData  string
	ExtendedStatistic string // e.g. "p99"
}

// Config sets up an Evaluator.
type Config struct {
	API API
	// Alarms are the names of the alarms to evaluate (at most 100).
	Alarms    []string
	Overrides map[string]Override
	// Scale makes alarm time run Scale times faster than the wall (default 1: as configured).
	Scale float64
	// Lag is how long after a period boundary a round runs, so the datapoint of the period just
	// ended has been published (wall time; default a quarter of the round interval, at most 5 s).
	Lag time.Duration
	// ExtraPeriods widen the evaluation range beyond EvaluationPeriods (default 2, as in
	// CloudWatch's documented example).
	ExtraPeriods int
	Clock        clock.Clock
	// OnTransition hears every state change the evaluator makes; OnError every failed round or
	// alarm it cannot evaluate.
	OnTransition func(Transition)
	OnError      func(error)
}

// Transition is one state change.
type Transition struct {
	Alarm    string
	From, To string
	Reason   string
	At       time.Time // clock time of the round
}

// Evaluator runs evaluation rounds.
type Evaluator struct {
	cfg     Config
	mu      sync.Mutex
	history []Transition
}

// WallPeriod is how long an alarm period of the given length lasts in wall time at scale.
func WallPeriod(period time.Duration, scale float64) time.Duration {
	if scale <= 0 {
		scale = 1
	}
	return time.Duration(float64(period) / scale)
}

// New checks cfg and returns an evaluator.
func New(cfg Config) (*Evaluator, error) {
	if cfg.API == nil || len(cfg.Alarms) == 0 || len(cfg.Alarms) > 100 {
		return nil, errors.New("alarmeval: API and 1-100 alarm names are required")
	}
	if cfg.Scale == 0 {
		cfg.Scale = 1
	}
	if cfg.Scale < 0 {
		return nil, errors.New("alarmeval: negative scale")
	}
	if cfg.ExtraPeriods == 0 {
		cfg.ExtraPeriods = 2
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	return &Evaluator{cfg: cfg}, nil
}

// History returns the transitions made so far.
func (e *Evaluator) History() []Transition {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Transition(nil), e.history...)
}

// alarm is one described alarm with its decision inputs.
type alarm struct {
	name, state string
	namespace   string
	metric      string
	dims        []cwtypes.Dimension
	stat        string
	period      time.Duration // wall
	rule        Rule
}

// Interval is the wall time between rounds for these alarms: min(Period, 60 s), scaled.
func (e *Evaluator) interval(alarms []alarm) time.Duration {
	iv := time.Duration(0)
	for _, a := range alarms {
		d := min(a.period, WallPeriod(time.Minute, e.cfg.Scale))
		if iv == 0 || d < iv {
			iv = d
		}
	}
	return iv
}

// Run evaluates in rounds until ctx ends.
func (e *Evaluator) Run(ctx context.Context) error {
	alarms, err := e.describe(ctx)
	if err != nil {
		return err
	}
	iv := e.interval(alarms)
	if iv <= 0 {
		return errors.New("alarmeval: no alarm to evaluate")
	}
	lag := e.cfg.Lag
	if lag == 0 {
		lag = min(iv/4, 5*time.Second)
	}
	for {
		now := e.cfg.Clock.Now()
		next := now.Add(-lag).Truncate(iv).Add(iv + lag)
		c, stop := e.cfg.Clock.After(next.Sub(now))
		select {
		case <-ctx.Done():
			stop()
			return ctx.Err()
		case <-c:
		}
		if err := e.Round(ctx, next.Add(-lag)); err != nil && ctx.Err() == nil {
			e.report(err)
		}
	}
}

func (e *Evaluator) report(err error) {
	if e.cfg.OnError != nil {
		e.cfg.OnError(err)
	}
}

// Round evaluates every alarm over the periods complete at end (wall time) and sets the states
// that change.
func (e *Evaluator) Round(ctx context.Context, end time.Time) error {
	alarms, err := e.describe(ctx)
	if err != nil {
		return err
	}
	points, err := e.fetch(ctx, alarms, end)
	if err != nil {
		return err
	}
	var errs []error
	for i, a := range alarms {
		n := a.rule.EvaluationPeriods + e.cfg.ExtraPeriods
		slots, err := Fold(points[i], a.stat, end.Truncate(a.period), a.period, n)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", a.name, err))
			continue
		}
		state, reason := a.rule.Decide(slots, a.state)
		if state == a.state {
			continue
		}
		if _, err := e.cfg.API.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(a.name),
			StateValue: cwtypes.StateValue(state), StateReason: aws.String(reason)}); err != nil {
			errs = append(errs, fmt.Errorf("alarmeval: set %s %s: %w", a.name, state, err))
			continue
		}
		t := Transition{Alarm: a.name, From: a.state, To: state, Reason: reason, At: e.cfg.Clock.Now()}
		e.mu.Lock()
		e.history = append(e.history, t)
		e.mu.Unlock()
		if e.cfg.OnTransition != nil {
			e.cfg.OnTransition(t)
		}
	}
	return errors.Join(errs...)
}

// describe reads the alarms, applies the overrides and keeps those it can evaluate.
func (e *Evaluator) describe(ctx context.Context) ([]alarm, error) {
	out, err := e.cfg.API.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: e.cfg.Alarms,
		AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm}, MaxRecords: aws.Int32(100)})
	if err != nil {
		return nil, fmt.Errorf("alarmeval: describe alarms: %w", err)
	}
	var alarms []alarm
	for _, m := range out.MetricAlarms {
		a, err := e.alarmOf(m)
		if err != nil {
			e.report(err)
			continue
		}
		alarms = append(alarms, a)
	}
	sort.Slice(alarms, func(i, j int) bool { return alarms[i].name < alarms[j].name })
	return alarms, nil
}

func (e *Evaluator) alarmOf(m cwtypes.MetricAlarm) (alarm, error) {
	name := aws.ToString(m.AlarmName)
	o := e.cfg.Overrides[name]
	a := alarm{name: name, state: string(m.StateValue), namespace: aws.ToString(m.Namespace), metric: aws.ToString(m.MetricName),
		dims: m.Dimensions, stat: string(m.Statistic), period: WallPeriod(time.Duration(aws.ToInt32(m.Period))*time.Second, e.cfg.Scale),
		rule: Rule{EvaluationPeriods: int(aws.ToInt32(m.EvaluationPeriods)), DatapointsToAlarm: int(aws.ToInt32(m.DatapointsToAlarm)),
			Threshold: aws.ToFloat64(m.Threshold), ComparisonOperator: string(m.ComparisonOperator), TreatMissingData: aws.ToString(m.TreatMissingData)}}
	if x := aws.ToString(m.ExtendedStatistic); x != "" {
		a.stat = x
	}
	if o.ExtendedStatistic != "" {
		a.stat = o.ExtendedStatistic
	}
	if o.DatapointsToAlarm != 0 {
		a.rule.DatapointsToAlarm = o.DatapointsToAlarm
	}
	if o.TreatMissingData != "" {
		a.rule.TreatMissingData = o.TreatMissingData
	}
	if a.rule.DatapointsToAlarm == 0 { // CloudWatch's defaults
		a.rule.DatapointsToAlarm = a.rule.EvaluationPeriods
	}
	if a.rule.TreatMissingData == "" {
		a.rule.TreatMissingData = Missing
	}
	switch {
	case len(m.Metrics) > 0 || a.metric == "":
		return a, fmt.Errorf("alarmeval: %s: metric math alarms are not evaluated", name)
	case a.period < time.Second:
		return a, fmt.Errorf("alarmeval: %s: period %v at scale %g is below 1 s of wall time", name, a.period, e.cfg.Scale)
	case a.stat == "":
		return a, fmt.Errorf("alarmeval: %s: no statistic (kumo drops ExtendedStatistic: give it as an override)", name)
	}
	if _, err := statistic(a.stat, []float64{0}); err != nil {
		return a, fmt.Errorf("%s: %w", name, err)
	}
	if err := a.rule.Validate(); err != nil {
		return a, fmt.Errorf("%s: %w", name, err)
	}
	return a, nil
}

// fetch reads the raw datapoints of every alarm's evaluation range in one GetMetricData call.
func (e *Evaluator) fetch(ctx context.Context, alarms []alarm, end time.Time) ([][]Point, error) {
	points := make([][]Point, len(alarms))
	if len(alarms) == 0 {
		return points, nil
	}
	start := end
	queries := make([]cwtypes.MetricDataQuery, len(alarms))
	for i, a := range alarms {
		s := end.Truncate(a.period).Add(-time.Duration(a.rule.EvaluationPeriods+e.cfg.ExtraPeriods) * a.period)
		if s.Before(start) {
			start = s
		}
		queries[i] = cwtypes.MetricDataQuery{Id: aws.String(fmt.Sprintf("m%d", i)), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String(a.namespace), MetricName: aws.String(a.metric), Dimensions: a.dims},
			Period: aws.Int32(max(int32(a.period/time.Second), 1)), Stat: aws.String(a.stat)}}
	}
	// kumo formats the range to whole seconds: widen it, Fold filters.
	in := &cloudwatch.GetMetricDataInput{StartTime: aws.Time(start.Add(-time.Second)), EndTime: aws.Time(end.Add(time.Second)), MetricDataQueries: queries}
	for {
		out, err := e.cfg.API.GetMetricData(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("alarmeval: get metric data: %w", err)
		}
		for _, r := range out.MetricDataResults {
			var i int
			if _, err := fmt.Sscanf(aws.ToString(r.Id), "m%d", &i); err != nil || i >= len(alarms) {
				continue
			}
			for j := range r.Timestamps {
				if j < len(r.Values) {
					points[i] = append(points[i], Point{Time: r.Timestamps[j], Value: r.Values[j]})
				}
			}
		}
		if aws.ToString(out.NextToken) == "" {
			return points, nil
		}
		in.NextToken = out.NextToken
	}
}
