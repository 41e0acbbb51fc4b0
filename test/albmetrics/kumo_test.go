package albmetrics

import (
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/switchyard/switchyard/test/emulator"
)

func TestMain(m *testing.M) {
	code := m.Run()
	emulator.StopShared()
	os.Exit(code)
}

// TestKumoStoresPublishedDatapoints runs the publisher into kumo and reads the datapoints back
// with the SDK, as an alarm evaluator or the daemon would.
func TestKumoStoresPublishedDatapoints(t *testing.T) {
	k := emulator.Shared(t)
	ctx := emulator.Context(t, 30*time.Second)
	src := &fakeSource{}
	p := newPub(t, src, KumoSink(k.URL, nil), time.Second)
	start := time.Now().Truncate(time.Second).Add(-time.Minute) // any aligned past second
	src.set(map[string]Counters{blueARN: {Requests: 10, Target2XX: 10, Healthy: 2}})
	if err := p.Tick(ctx, start); err != nil {
		t.Fatal(err)
	}
	src.set(map[string]Counters{blueARN: {Requests: 30, Target2XX: 22, Target5XX: 8, ResponseTimeSum: 5 * time.Second, Healthy: 2}})
	if err := p.Tick(ctx, start.Add(time.Second)); err != nil {
		t.Fatal(err)
	}

	cw := cloudwatch.NewFromConfig(emulator.Config(k.URL))
	// The TargetGroup dimension first: kumo matches dimensions as a set, like CloudWatch.
	dims := []cwtypes.Dimension{{Name: aws.String("TargetGroup"), Value: aws.String(TargetGroupDimension(blueARN))},
		{Name: aws.String("LoadBalancer"), Value: aws.String(LoadBalancerDimension(lbARN))}}
	q := func(id, metric string) cwtypes.MetricDataQuery {
		return cwtypes.MetricDataQuery{Id: aws.String(id), MetricStat: &cwtypes.MetricStat{Period: aws.Int32(1), Stat: aws.String("Sum"),
			Metric: &cwtypes.Metric{Namespace: aws.String(Namespace), MetricName: aws.String(metric), Dimensions: dims}}}
	}
	out, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(start.Add(-time.Minute)), EndTime: aws.Time(start.Add(time.Minute)),
		MetricDataQueries: []cwtypes.MetricDataQuery{q("req", "RequestCount"), q("e5", "HTTPCode_Target_5XX_Count"), q("rt", "TargetResponseTime"), q("elb", "HTTPCode_ELB_5XX_Count")}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"req": 20, "e5": 8, "rt": 0.25}
	for _, r := range out.MetricDataResults {
		id := aws.ToString(r.Id)
		w, ok := want[id]
		if !ok {
			if len(r.Values) != 0 {
				t.Errorf("%s: no datapoint expected (ELB 5xx has no TargetGroup dimension), got %v", id, r.Values)
			}
			continue
		}
		if len(r.Values) != 1 || r.Values[0] != w || !r.Timestamps[0].Equal(start) {
			t.Errorf("%s: got %v at %v, want [%g] at %s", id, r.Values, r.Timestamps, w, start)
		}
	}
}
