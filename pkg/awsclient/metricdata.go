package awsclient

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/switchyard/switchyard/pkg/analysis"
	"github.com/switchyard/switchyard/pkg/deploy"
)

// MetricDataAPI is the part of the CloudWatch API the analysis reader uses (*cloudwatch.Client has
// it). It is apart from CloudWatchAPI so the alarms adapter's fakes need not grow.
type MetricDataAPI interface {
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

// MaxMetricDataQueries is the most MetricDataQueries one GetMetricData call accepts.
const MaxMetricDataQueries = 500

// Defaults of CloudWatchQueries' zero fields: the ALB's per-target-group metrics.
const (
	DefaultMetricNamespace = "AWS/ApplicationELB"
	DefaultRequestsMetric  = "RequestCount"
	DefaultErrorsMetric    = "HTTPCode_Target_5XX_Count"
	DefaultMetricPeriod    = 60
)

// MetricData implements analysis.Provider for CloudWatchQueries: each colour's requests and errors
// are the Sum of the metric, dimensions {LoadBalancer, TargetGroup}, from the start of the period
// holding Request.Since to now. Every request's queries go into as few GetMetricData calls as the
// 500-query limit allows.
type MetricData struct {
	api MetricDataAPI
}

// NewMetricData returns the reader (api is a *cloudwatch.Client in production).
func NewMetricData(api MetricDataAPI) *MetricData { return &MetricData{api: api} }

// mdQuery is one metric of one colour of one request.
type mdQuery struct {
	req    int  // index into the requests
	canary bool // else base
	errors bool // else requests
	stat   cwtypes.MetricStat
	start  time.Time // the request's own origin: periods starting before it are not summed
	period int64
}

// Measure answers every request; a request whose call failed has that call's error.
func (m *MetricData) Measure(ctx context.Context, now time.Time, reqs []analysis.Request) ([]analysis.Reading, []error) {
	out := make([]analysis.Reading, len(reqs))
	errs := make([]error, len(reqs))
	var batch []mdQuery
	flush := func() {
		if len(batch) > 0 {
			m.call(ctx, now, batch, out, errs)
			batch = batch[:0]
		}
	}
	for i, r := range reqs {
		qs, err := metricQueries(i, r)
		if err != nil {
			errs[i] = err
			continue
		}
		// A request's queries stay in one call, so that one failed call fails whole requests.
		if len(batch)+len(qs) > MaxMetricDataQueries {
			flush()
		}
		batch = append(batch, qs...)
	}
	flush()
	return out, errs
}

// metricQueries builds the (up to four) queries of request i.
func metricQueries(i int, r analysis.Request) ([]mdQuery, error) {
	const op = "cloudwatch.GetMetricData"
	c := r.Metric.CloudWatch
	if c == nil {
		return nil, deploy.Errorf(op, deploy.KindInvalid, "metric %q has no cloudwatch queries", r.Metric.Name)
	}
	ns, reqName, errName, period := c.Namespace, c.Requests, c.Errors, int64(c.Period)
	if ns == "" {
		ns = DefaultMetricNamespace
	}
	if reqName == "" {
		reqName = DefaultRequestsMetric
	}
	if errName == "" {
		errName = DefaultErrorsMetric
	}
	if period == 0 {
		period = DefaultMetricPeriod
	}
	if !validPeriod(period) {
		return nil, deploy.Errorf(op, deploy.KindInvalid, "metric %q: period %d s: CloudWatch takes 1, 5, 10, 20, 30 or a multiple of 60", r.Metric.Name, period)
	}
	if r.Since.IsZero() {
		return nil, deploy.Errorf(op, deploy.KindInvalid, "metric %q: no analysis start", r.Metric.Name)
	}
	// Periods are aligned to the epoch (as CloudWatch aligns them), so the origin never moves.
	start := time.Unix(r.Since.Unix()-r.Since.Unix()%period, 0).UTC()
	var qs []mdQuery
	for _, colour := range []struct {
		t      analysis.Target
		canary bool
	}{{r.Base, false}, {r.Canary, true}} {
		if colour.t.Slot == "" && !colour.canary {
			continue // no live colour (a first release): the base arm stays empty
		}
		if colour.t.LoadBalancer == "" || colour.t.TargetGroup == "" {
			return nil, deploy.Errorf(op, deploy.KindInvalid, "metric %q: the %s colour has no load balancer or target group dimension", r.Metric.Name, colour.t.Slot)
		}
		dims := []cwtypes.Dimension{
			{Name: aws.String("LoadBalancer"), Value: aws.String(colour.t.LoadBalancer)},
			{Name: aws.String("TargetGroup"), Value: aws.String(colour.t.TargetGroup)},
		}
		for j, name := range []string{reqName, errName} {
			qs = append(qs, mdQuery{req: i, canary: colour.canary, errors: j == 1, start: start, period: period,
				stat: cwtypes.MetricStat{Metric: &cwtypes.Metric{Namespace: aws.String(ns), MetricName: aws.String(name), Dimensions: dims},
					Period: aws.Int32(int32(period)), Stat: aws.String("Sum")}})
		}
	}
	return qs, nil
}

func validPeriod(p int64) bool {
	switch p {
	case 1, 5, 10, 20, 30:
		return true
	}
	return p > 0 && p%60 == 0 && p <= 86400*7
}

// call reads one batch, every page of it, and adds each query's sum to its reading.
func (m *MetricData) call(ctx context.Context, now time.Time, batch []mdQuery, out []analysis.Reading, errs []error) {
	const op = "cloudwatch.GetMetricData"
	queries := make([]cwtypes.MetricDataQuery, len(batch))
	start, align := batch[0].start, int64(1)
	for i, q := range batch {
		queries[i] = cwtypes.MetricDataQuery{Id: aws.String("q" + strconv.Itoa(i)), MetricStat: &q.stat, ReturnData: aws.Bool(true)}
		if q.start.Before(start) {
			start = q.start
		}
		align = lcm(align, q.period)
	}
	// One StartTime serves every query: aligned to all their periods, so each query's periods fall
	// on its own boundaries and the sum from its own start does not depend on its batch-mates.
	start = time.Unix(start.Unix()-start.Unix()%align, 0).UTC()
	in := &cloudwatch.GetMetricDataInput{MetricDataQueries: queries, StartTime: aws.Time(start), EndTime: aws.Time(now),
		ScanBy: cwtypes.ScanByTimestampAscending}
	sums := make([]float64, len(batch))
	failed := make([]error, len(batch))
	for {
		page, err := m.api.GetMetricData(ctx, in)
		if err != nil {
			err = mapErr(op, err, fmt.Sprintf("read %d metric queries", len(batch)))
			for _, q := range batch {
				errs[q.req] = err
			}
			return
		}
		for _, r := range page.MetricDataResults {
			i, err := strconv.Atoi(aws.ToString(r.Id)[1:])
			if err != nil || i < 0 || i >= len(batch) {
				continue
			}
			if e := statusErr(r); e != nil {
				failed[i] = e
			}
			for j, ts := range r.Timestamps {
				// Raw datapoints (the emulator) or periods started before the query's own origin
				// are not part of its sum; neither is anything stamped after now.
				if j < len(r.Values) && !ts.Before(batch[i].start) && !ts.After(now) {
					sums[i] += r.Values[j]
				}
			}
		}
		if aws.ToString(page.NextToken) == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	for i, q := range batch {
		if failed[i] != nil {
			errs[q.req] = failed[i]
			continue
		}
		arm := &out[q.req].Base
		if q.canary {
			arm = &out[q.req].Canary
		}
		if q.errors {
			arm.Errors += sums[i]
		} else {
			arm.Requests += sums[i]
		}
	}
}

// statusErr reports a result CloudWatch could not complete (PartialData only means more pages).
func statusErr(r cwtypes.MetricDataResult) error {
	const op = "cloudwatch.GetMetricData"
	switch r.StatusCode {
	case cwtypes.StatusCodeInternalError:
		return deploy.Errorf(op, deploy.KindUnavailable, "query %s: CloudWatch internal error", aws.ToString(r.Id))
	case cwtypes.StatusCodeForbidden:
		return deploy.Errorf(op, deploy.KindForbidden, "query %s: not allowed to read %s", aws.ToString(r.Id), aws.ToString(r.Label))
	}
	return nil
}

func lcm(a, b int64) int64 {
	x, y := a, b
	for y != 0 {
		x, y = y, x%y
	}
	l := a / x * b
	if l > 86400 {
		return 86400 // periods beyond a day are multiples of 60 and rare; a day keeps StartTime near
	}
	return l
}
