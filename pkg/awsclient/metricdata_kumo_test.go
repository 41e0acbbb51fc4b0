package awsclient

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/switchyard/switchyard/pkg/analysis"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/test/albmetrics"
	"github.com/switchyard/switchyard/test/emulator"
)

// TestKumoMetricDataPerTargetGroup writes ALB metrics to kumo and reads them back per target group.
//
// kumo (v0.33.1) differs from CloudWatch in ways this reader is built to absorb, modelled for the
// AWS side by awsMetricData in metricdata_test.go:
//   - GetMetricData returns the raw datapoints in the range without applying Period or Stat. The
//     reader sums every value in a query's range, which is the Sum statistic whether the values are
//     per-period sums (AWS) or raw datapoints (kumo).
//   - kumo neither limits a call to 500 queries nor pages (no NextToken); batching and pagination
//     are unit tested against the model.
//   - kumo includes EndTime and formats the range to whole seconds; the reader filters each
//     datapoint by its own origin and now.
//   - PutMetricData from the SDK cannot carry a Timestamp to kumo, so the test writes through
//     albmetrics.KumoSink (the SDK's request with an RFC 3339 timestamp).
func TestKumoMetricDataPerTargetGroup(t *testing.T) {
	k := emulator.Shared(t)
	api := cloudwatch.NewFromConfig(emulator.Config(k.URL))
	sink := albmetrics.KumoSink(k.URL, nil)
	ctx := emulator.Context(t, 30*time.Second)
	now := time.Now().UTC()
	since := now.Add(-90 * time.Second)
	origin := time.Unix(since.Unix()-since.Unix()%60, 0) // the period holding since
	lb := "app/" + name("web") + "/50dc6c495c0c9188"
	blue := analysis.Target{Slot: deploy.SlotBlue, LoadBalancer: lb, TargetGroup: "targetgroup/" + name("blue") + "/1"}
	green := analysis.Target{Slot: deploy.SlotGreen, LoadBalancer: lb, TargetGroup: "targetgroup/" + name("green") + "/2"}
	put := func(tg, metric string, at time.Time, v float64) {
		t.Helper()
		d := albmetrics.Datum{MetricName: metric, Timestamp: at, Value: v, Unit: "Count", StorageResolution: 60,
			Dimensions: []albmetrics.Dimension{{Name: "LoadBalancer", Value: lb}, {Name: "TargetGroup", Value: tg}}}
		if err := sink.Put(ctx, albmetrics.Namespace, []albmetrics.Datum{d}); err != nil {
			t.Fatal(err)
		}
	}
	put(blue.TargetGroup, "RequestCount", origin.Add(-time.Minute), 1000) // before the analysis' period
	put(blue.TargetGroup, "RequestCount", origin, 300)
	put(blue.TargetGroup, "RequestCount", origin.Add(time.Minute), 200)
	put(blue.TargetGroup, "HTTPCode_Target_5XX_Count", origin.Add(time.Minute), 1)
	put(green.TargetGroup, "RequestCount", origin.Add(time.Minute), 40)
	put(green.TargetGroup, "HTTPCode_Target_5XX_Count", origin.Add(time.Minute), 9)
	put(green.TargetGroup, "HTTPCode_Target_4XX_Count", origin.Add(time.Minute), 5) // not an error metric
	put(green.TargetGroup, "RequestCount", now.Add(time.Hour), 7777)                // the future

	// A second deployment on the same load balancer, high-resolution custom metrics, in the same call.
	other := analysis.Target{Slot: deploy.SlotGreen, LoadBalancer: lb, TargetGroup: "targetgroup/" + name("other") + "/3"}
	hs := now.Add(-5 * time.Second)
	put(other.TargetGroup, "RequestCount", hs.Add(-10*time.Second), 50) // before its 1 s origin
	put(other.TargetGroup, "RequestCount", hs.Add(time.Second), 5)
	put(other.TargetGroup, "RequestCount", hs.Add(2*time.Second), 6)

	reqs := []analysis.Request{
		{Key: "d1", Since: since, Base: blue, Canary: green,
			Metric: deploy.AnalysisMetric{Name: "alb", Provider: deploy.ProviderCloudWatch, CloudWatch: &deploy.CloudWatchQueries{}}},
		{Key: "d2", Since: hs, Canary: other,
			Metric: deploy.AnalysisMetric{Name: "hires", Provider: deploy.ProviderCloudWatch, CloudWatch: &deploy.CloudWatchQueries{Period: 1}}},
	}
	out, errs := NewMetricData(api).Measure(context.Background(), now, reqs)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("%s: %v", reqs[i].Metric.Name, err)
		}
	}
	if r := out[0]; r.Base.Requests != 500 || r.Base.Errors != 1 || r.Canary.Requests != 40 || r.Canary.Errors != 9 {
		t.Errorf("per target group: %+v", r)
	}
	if r := out[1]; r.Canary.Requests != 11 || r.Canary.Errors != 0 || r.Base.Requests != 0 {
		t.Errorf("high resolution: %+v", r)
	}
}
