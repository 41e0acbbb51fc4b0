package alarmeval

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/switchyard/switchyard/test/albmetrics"
	"github.com/switchyard/switchyard/test/emulator"
)

func TestMain(m *testing.M) {
	code := m.Run()
	emulator.StopShared()
	os.Exit(code)
}

// traffic is a fake data plane: 100 requests/s to the green group, all 5xx while bad.
type traffic struct {
	mu   sync.Mutex
	last time.Time
	c    albmetrics.Counters
	bad  bool
}

func (f *traffic) setBad(b bool) { f.mu.Lock(); f.advance(); f.bad = b; f.mu.Unlock() }

func (f *traffic) advance() {
	now := time.Now()
	if !f.last.IsZero() {
		n := uint64(now.Sub(f.last).Seconds() * 100)
		if n == 0 {
			return
		}
		f.c.Requests += n
		if f.bad {
			f.c.Target5XX += n
		} else {
			f.c.Target2XX += n
		}
		f.c.ResponseTimeSum += time.Duration(n) * 10 * time.Millisecond
	}
	f.last = now
}

func (f *traffic) source() (map[string]albmetrics.Counters, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.advance()
	c := f.c
	c.Healthy = 2
	return map[string]albmetrics.Counters{tgARN: c}, nil
}

const (
	lbARN = "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/alarmeval/50dc6c495c0c9188"
	tgARN = "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/green/73e2d6bc24d8a067"
)

// TestKumoAlarmFollowsPublishedMetrics publishes a data plane's counters into kumo and evaluates
// the stack's 5xx alarms (60 s periods, 1 of 1, notBreaching) at scale 60: one alarm minute per
// wall second. The alarms go OK, to ALARM within two alarm minutes of the errors starting, and
// back to OK once the last breaching minute leaves the 3-minute evaluation range.
func TestKumoAlarmFollowsPublishedMetrics(t *testing.T) {
	k := emulator.Shared(t)
	ctx := emulator.Context(t, 60*time.Second)
	cfg := emulator.Config(k.URL)
	cw := cloudwatch.NewFromConfig(cfg)
	lb, tg := albmetrics.LoadBalancerDimension(lbARN), albmetrics.TargetGroupDimension(tgARN)
	alarms := map[string][]cwtypes.Dimension{
		"alarm-green-5xx-test":      {{Name: aws.String("LoadBalancer"), Value: aws.String(lb)}, {Name: aws.String("TargetGroup"), Value: aws.String(tg)}},
		"alarm-alb-target-5xx-test": {{Name: aws.String("LoadBalancer"), Value: aws.String(lb)}},
	}
	var names []string
	var inputs []*cloudwatch.PutMetricAlarmInput
	for name, d := range alarms {
		in := &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String(name), Namespace: aws.String(albmetrics.Namespace),
			MetricName: aws.String("HTTPCode_Target_5XX_Count"), Dimensions: d, Statistic: cwtypes.StatisticSum, Period: aws.Int32(60),
			EvaluationPeriods: aws.Int32(1), DatapointsToAlarm: aws.Int32(1), Threshold: aws.Float64(5),
			ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, TreatMissingData: aws.String(NotBreaching)}
		if _, err := cw.PutMetricAlarm(ctx, in); err != nil {
			t.Fatal(err)
		}
		names, inputs = append(names, name), append(inputs, in)
	}
	overrides := OverridesFrom(inputs...) // kumo drops DatapointsToAlarm and TreatMissingData
	const scale = 60
	src := &traffic{}
	pub, err := albmetrics.New(albmetrics.Config{LoadBalancerARN: lbARN, Source: src.source, Sink: albmetrics.KumoSink(k.URL, nil),
		Period: WallPeriod(time.Minute, scale), OnError: func(err error) { t.Errorf("publish: %v", err) }})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []Transition
	ev, err := New(Config{API: cw, Alarms: names, Overrides: overrides, Scale: scale,
		OnTransition: func(tr Transition) { mu.Lock(); seen = append(seen, tr); mu.Unlock() },
		OnError:      func(err error) { t.Errorf("evaluate: %v", err) }})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = pub.Run(runCtx) }()
	go func() { defer wg.Done(); _ = ev.Run(runCtx) }()
	defer func() { stop(); wg.Wait() }()

	// state waits until both alarms are in want (read back from kumo), returning when that happened.
	state := func(want string, within time.Duration) time.Time {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: names})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, a := range out.MetricAlarms {
				if string(a.StateValue) == want {
					n++
				}
			}
			if n == len(names) {
				return time.Now()
			}
			if time.Now().After(deadline) {
				mu.Lock()
				defer mu.Unlock()
				t.Fatalf("alarms not %s within %v; transitions %+v", want, within, seen)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	state(StateOK, 3*time.Second) // no 5xx datapoints: missing, notBreaching

	src.setBad(true)
	bad := time.Now()
	detected := state(StateAlarm, 4*time.Second)
	// The first errored period completes within 1 s, and the round runs 250 ms after it.
	if d := detected.Sub(bad); d < 200*time.Millisecond || d > 2500*time.Millisecond {
		t.Errorf("ALARM %v after the errors started, want within one to two scaled minutes", d)
	}
	t.Logf("ALARM %v after the errors started", detected.Sub(bad))
	src.setBad(false)
	good := time.Now()
	cleared := state(StateOK, 8*time.Second)
	// The last breaching period stays in the 3-period range for three more rounds.
	if d := cleared.Sub(good); d < 2500*time.Millisecond || d > 5500*time.Millisecond {
		t.Errorf("OK %v after the errors stopped, want 3-5 scaled minutes (the breaching minute leaves the range)", d)
	}
	t.Logf("OK %v after the errors stopped", cleared.Sub(good))
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 3*len(names) {
		t.Errorf("want OK, ALARM, OK per alarm, got %+v", seen)
	}
	out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: names})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range out.MetricAlarms {
		if r := aws.ToString(a.StateReason); !strings.HasPrefix(r, "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching]") {
			t.Errorf("%s reason %q", aws.ToString(a.AlarmName), r)
		}
	}
	for _, tr := range seen {
		if tr.To == StateAlarm && !strings.Contains(tr.Reason, "was greater than the threshold (5.0)") {
			t.Errorf("ALARM reason %q", tr.Reason)
		}
	}
}
