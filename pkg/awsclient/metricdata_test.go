package awsclient

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/pkg/analysis"
	"github.com/switchyard/switchyard/pkg/deploy"
)

// awsMetricData models the GetMetricData behaviour the reader relies on, as AWS documents it and
// kumo does not implement (see metricdata_kumo_test.go):
//   - more than 500 MetricDataQueries in one call is a ValidationError;
//   - each query's datapoints are aggregated per Period with its Stat (Sum here), one value per
//     period that has data, stamped with the period's start, periods aligned to the epoch;
//     StartTime is inclusive, EndTime exclusive;
//   - at most pageSize datapoints per page, the rest behind NextToken, a query's results possibly
//     split over pages (same Id on several pages, StatusCode PartialData until its last);
//   - a query of a metric without data gets a result with no values.
type awsMetricData struct {
	mu       sync.Mutex
	points   map[string][]point // key: namespace|name|dims
	pageSize int
	calls    []int // queries per call (first pages only)
	pages    int
	fail     error
	status   map[string]cwtypes.StatusCode // by metric name
}

type point struct {
	at time.Time
	v  float64
}

func mdKey(ns, name string, dims []cwtypes.Dimension) string {
	var d []string
	for _, x := range dims {
		d = append(d, aws.ToString(x.Name)+"="+aws.ToString(x.Value))
	}
	sort.Strings(d)
	return ns + "|" + name + "|" + strings.Join(d, ",")
}

func (f *awsMetricData) put(ns, name, lb, tg string, at time.Time, v float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.points == nil {
		f.points = map[string][]point{}
	}
	k := mdKey(ns, name, []cwtypes.Dimension{{Name: aws.String("LoadBalancer"), Value: aws.String(lb)}, {Name: aws.String("TargetGroup"), Value: aws.String(tg)}})
	f.points[k] = append(f.points[k], point{at, v})
}

type mdEntry struct {
	id string
	ts time.Time
	v  float64
}

func (f *awsMetricData) GetMetricData(_ context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	if len(in.MetricDataQueries) > MaxMetricDataQueries {
		return nil, &smithy.GenericAPIError{Code: "ValidationError", Message: "The collection MetricDataQueries must not have a size greater than 500."}
	}
	offset := 0
	if in.NextToken != nil {
		fmt.Sscanf(*in.NextToken, "%d", &offset)
	} else {
		f.calls = append(f.calls, len(in.MetricDataQueries))
	}
	f.pages++
	var all []mdEntry
	var empty []string
	for _, q := range in.MetricDataQueries {
		s := q.MetricStat
		period := int64(aws.ToInt32(s.Period))
		sums := map[int64]float64{}
		for _, p := range f.points[mdKey(aws.ToString(s.Metric.Namespace), aws.ToString(s.Metric.MetricName), s.Metric.Dimensions)] {
			if p.at.Before(*in.StartTime) || !p.at.Before(*in.EndTime) {
				continue
			}
			sums[p.at.Unix()-p.at.Unix()%period] += p.v
		}
		if len(sums) == 0 {
			empty = append(empty, aws.ToString(q.Id))
		}
		var keys []int64
		for k := range sums {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
		for _, k := range keys {
			all = append(all, mdEntry{aws.ToString(q.Id), time.Unix(k, 0).UTC(), sums[k]})
		}
	}
	out := &cloudwatch.GetMetricDataOutput{}
	end := min(offset+f.pageSize, len(all))
	byID := map[string]int{}
	for _, e := range all[offset:end] {
		i, ok := byID[e.id]
		if !ok {
			i = len(out.MetricDataResults)
			byID[e.id] = i
			out.MetricDataResults = append(out.MetricDataResults, cwtypes.MetricDataResult{Id: aws.String(e.id), StatusCode: cwtypes.StatusCodeComplete})
		}
		r := &out.MetricDataResults[i]
		r.Timestamps = append(r.Timestamps, e.ts)
		r.Values = append(r.Values, e.v)
	}
	if end < len(all) && end > 0 { // the query cut at the page's end continues on the next
		out.MetricDataResults[byID[all[end-1].id]].StatusCode = cwtypes.StatusCodePartialData
	}
	if end < len(all) {
		out.NextToken = aws.String(fmt.Sprint(end))
	} else {
		for _, id := range empty {
			out.MetricDataResults = append(out.MetricDataResults, cwtypes.MetricDataResult{Id: aws.String(id), StatusCode: cwtypes.StatusCodeComplete})
		}
	}
	for i, r := range out.MetricDataResults {
		for _, q := range in.MetricDataQueries {
			if aws.ToString(q.Id) == aws.ToString(r.Id) {
				if st, ok := f.status[aws.ToString(q.MetricStat.Metric.MetricName)]; ok {
					out.MetricDataResults[i].StatusCode = st
				}
			}
		}
	}
	return out, nil
}

var mdNow = time.Date(2026, 3, 1, 12, 10, 30, 0, time.UTC)

func tgTarget(slot deploy.Slot, n int) analysis.Target {
	return analysis.Target{Slot: slot, LoadBalancer: "app/web/1", TargetGroup: fmt.Sprintf("targetgroup/%s-%d/abc", slot, n)}
}

func cwRequest(n int, name string, q deploy.CloudWatchQueries, since time.Time) analysis.Request {
	return analysis.Request{Key: fmt.Sprint("d", n), Since: since,
		Metric: deploy.AnalysisMetric{Name: name, Provider: deploy.ProviderCloudWatch, CloudWatch: &q},
		Base:   tgTarget(deploy.SlotBlue, n), Canary: tgTarget(deploy.SlotGreen, n)}
}

func TestMetricDataSumsSincePeriodStart(t *testing.T) {
	f := &awsMetricData{pageSize: 1000}
	since := time.Date(2026, 3, 1, 12, 5, 20, 0, time.UTC) // its period starts 12:05:00
	blue, green := tgTarget(deploy.SlotBlue, 0), tgTarget(deploy.SlotGreen, 0)
	for _, p := range []struct {
		tg   string
		name string
		at   time.Time
		v    float64
	}{
		{blue.TargetGroup, "RequestCount", since.Add(-30 * time.Second), 1000}, // 12:04:50: before the origin
		{blue.TargetGroup, "RequestCount", since.Add(-10 * time.Second), 100},  // 12:05:10: origin's period
		{blue.TargetGroup, "RequestCount", since.Add(2 * time.Minute), 50},
		{blue.TargetGroup, "HTTPCode_Target_5XX_Count", since.Add(time.Minute), 2},
		{green.TargetGroup, "RequestCount", since.Add(time.Minute), 10},
		{green.TargetGroup, "HTTPCode_Target_5XX_Count", since.Add(3 * time.Minute), 4},
		{green.TargetGroup, "RequestCount", mdNow.Add(time.Second), 999}, // the future
		{green.TargetGroup, "HTTPCode_Target_4XX_Count", since.Add(time.Minute), 7},
	} {
		f.put("AWS/ApplicationELB", p.name, "app/web/1", p.tg, p.at, p.v)
	}
	out, errs := NewMetricData(f).Measure(context.Background(), mdNow, []analysis.Request{cwRequest(0, "alb", deploy.CloudWatchQueries{}, since)})
	if errs[0] != nil {
		t.Fatal(errs[0])
	}
	r := out[0]
	if r.Base.Requests != 150 || r.Base.Errors != 2 || r.Canary.Requests != 10 || r.Canary.Errors != 4 {
		t.Fatalf("reading %+v", r)
	}
}

func TestMetricDataCustomMetricAndNoLiveColour(t *testing.T) {
	f := &awsMetricData{pageSize: 1000}
	since := mdNow.Add(-5 * time.Second)
	green := tgTarget(deploy.SlotGreen, 0)
	f.put("App", "Req", "app/web/1", green.TargetGroup, mdNow.Add(-7*time.Second), 50) // before since's 1 s period
	f.put("App", "Req", "app/web/1", green.TargetGroup, mdNow.Add(-3*time.Second), 5)
	f.put("App", "Err", "app/web/1", green.TargetGroup, mdNow.Add(-2*time.Second), 1)
	req := cwRequest(0, "custom", deploy.CloudWatchQueries{Namespace: "App", Requests: "Req", Errors: "Err", Period: 1}, since)
	req.Base = analysis.Target{}
	out, errs := NewMetricData(f).Measure(context.Background(), mdNow, []analysis.Request{req})
	if errs[0] != nil || out[0].Canary.Requests != 5 || out[0].Canary.Errors != 1 || out[0].Base.Requests != 0 {
		t.Fatalf("reading %+v, %v", out[0], errs[0])
	}
	if f.calls[0] != 2 {
		t.Fatalf("%d queries, want the new colour's two", f.calls[0])
	}
}

func TestMetricDataBatching(t *testing.T) {
	since := mdNow.Add(-3 * time.Minute)
	for _, c := range []struct {
		deployments, metrics int
		calls                []int
	}{
		{30, 2, []int{240}},       // 30 deployments x 2 metrics x 2 colours x (requests, errors)
		{150, 1, []int{500, 100}}, // 600 queries
		{125, 1, []int{500}},
	} {
		f := &awsMetricData{pageSize: 100800}
		var reqs []analysis.Request
		for d := range c.deployments {
			f.put("AWS/ApplicationELB", "RequestCount", "app/web/1", tgTarget(deploy.SlotGreen, d).TargetGroup, since, float64(d*10))
			for m := range c.metrics {
				reqs = append(reqs, cwRequest(d, fmt.Sprint("m", m), deploy.CloudWatchQueries{}, since))
			}
		}
		out, errs := NewMetricData(f).Measure(context.Background(), mdNow, reqs)
		if fmt.Sprint(f.calls) != fmt.Sprint(c.calls) {
			t.Errorf("%d deployments x %d metrics: calls %v, want %v", c.deployments, c.metrics, f.calls, c.calls)
		}
		for i, r := range reqs {
			d := i / c.metrics
			if errs[i] != nil || out[i].Canary.Requests != float64(d*10) {
				t.Fatalf("request %s: %+v, %v", r.Key, out[i], errs[i])
			}
		}
	}
}

func TestMetricDataPagination(t *testing.T) {
	f := &awsMetricData{pageSize: 3}
	since := mdNow.Add(-10 * time.Second)
	var reqs []analysis.Request
	for d := range 4 {
		for s := range 10 {
			at := since.Add(time.Duration(s) * time.Second)
			f.put("App", "Req", "app/web/1", tgTarget(deploy.SlotBlue, d).TargetGroup, at, 1)
			f.put("App", "Req", "app/web/1", tgTarget(deploy.SlotGreen, d).TargetGroup, at, float64(d))
		}
		reqs = append(reqs, cwRequest(d, "m", deploy.CloudWatchQueries{Namespace: "App", Requests: "Req", Period: 1}, since))
	}
	out, errs := NewMetricData(f).Measure(context.Background(), mdNow, reqs)
	if len(f.calls) != 1 || f.pages != 27 { // 80 datapoints, 3 a page
		t.Fatalf("calls %v, pages %d", f.calls, f.pages)
	}
	for d := range 4 {
		if errs[d] != nil || out[d].Base.Requests != 10 || out[d].Canary.Requests != float64(10*d) {
			t.Fatalf("deployment %d: %+v, %v", d, out[d], errs[d])
		}
	}
}

func TestMetricDataErrors(t *testing.T) {
	since := mdNow.Add(-time.Minute)
	f := &awsMetricData{pageSize: 10, fail: &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}}
	_, errs := NewMetricData(f).Measure(context.Background(), mdNow, []analysis.Request{cwRequest(0, "m", deploy.CloudWatchQueries{}, since)})
	if deploy.KindOf(errs[0]) != deploy.KindThrottled || !strings.HasPrefix(errs[0].Error(), "cloudwatch.GetMetricData: ") {
		t.Fatalf("throttled call: %v", errs[0])
	}
	f = &awsMetricData{pageSize: 10, status: map[string]cwtypes.StatusCode{"Secret": cwtypes.StatusCodeForbidden}}
	reqs := []analysis.Request{
		cwRequest(0, "ok", deploy.CloudWatchQueries{}, since),
		cwRequest(1, "forbidden", deploy.CloudWatchQueries{Requests: "Secret"}, since),
		cwRequest(2, "period", deploy.CloudWatchQueries{Period: 7}, since),
		cwRequest(3, "no-since", deploy.CloudWatchQueries{}, time.Time{}),
		{Key: "d4", Since: since, Metric: deploy.AnalysisMetric{Name: "none"}},
	}
	reqs[0].Canary.TargetGroup = "" // the new colour has no dimension
	_, errs = NewMetricData(f).Measure(context.Background(), mdNow, reqs)
	want := []deploy.Kind{deploy.KindInvalid, deploy.KindForbidden, deploy.KindInvalid, deploy.KindInvalid, deploy.KindInvalid}
	for i, k := range want {
		if deploy.KindOf(errs[i]) != k {
			t.Errorf("%s: %v, want %s", reqs[i].Metric.Name, errs[i], k)
		}
	}
}
