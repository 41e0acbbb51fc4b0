package alarmeval

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// fakeAPI is an in-memory CloudWatch with kumo's read semantics: raw values, inclusive range.
type fakeAPI struct {
	mu      sync.Mutex
	alarms  map[string]*cwtypes.MetricAlarm
	points  map[string][]Point
	sets    int
	failSet error
}

func newFakeAPI() *fakeAPI {
	return &fakeAPI{alarms: map[string]*cwtypes.MetricAlarm{}, points: map[string][]Point{}}
}

func metricKey(ns, name string, dims []cwtypes.Dimension) string {
	var d []string
	for _, x := range dims {
		d = append(d, aws.ToString(x.Name)+"="+aws.ToString(x.Value))
	}
	sort.Strings(d)
	return ns + "|" + name + "|" + strings.Join(d, ",")
}

func (f *fakeAPI) put(a cwtypes.MetricAlarm) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if a.StateValue == "" {
		a.StateValue = cwtypes.StateValueInsufficientData
	}
	f.alarms[aws.ToString(a.AlarmName)] = &a
}

func (f *fakeAPI) add(ns, name string, dims []cwtypes.Dimension, at time.Time, v float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := metricKey(ns, name, dims)
	f.points[k] = append(f.points[k], Point{Time: at, Value: v})
}

func (f *fakeAPI) state(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return string(f.alarms[name].StateValue)
}

func (f *fakeAPI) DescribeAlarms(_ context.Context, in *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &cloudwatch.DescribeAlarmsOutput{}
	for _, n := range in.AlarmNames {
		if a, ok := f.alarms[n]; ok {
			out.MetricAlarms = append(out.MetricAlarms, *a)
		}
	}
	return out, nil
}

func (f *fakeAPI) GetMetricData(_ context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &cloudwatch.GetMetricDataOutput{}
	for _, q := range in.MetricDataQueries {
		m := q.MetricStat.Metric
		r := cwtypes.MetricDataResult{Id: q.Id}
		for _, p := range f.points[metricKey(aws.ToString(m.Namespace), aws.ToString(m.MetricName), m.Dimensions)] {
			if !p.Time.Before(*in.StartTime) && !p.Time.After(*in.EndTime) {
				r.Timestamps = append(r.Timestamps, p.Time)
				r.Values = append(r.Values, p.Value)
			}
		}
		out.MetricDataResults = append(out.MetricDataResults, r)
	}
	return out, nil
}

func (f *fakeAPI) SetAlarmState(_ context.Context, in *cloudwatch.SetAlarmStateInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.SetAlarmStateOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failSet != nil {
		return nil, f.failSet
	}
	a, ok := f.alarms[aws.ToString(in.AlarmName)]
	if !ok {
		return nil, fmt.Errorf("no alarm %s", aws.ToString(in.AlarmName))
	}
	f.sets++
	a.StateValue, a.StateReason = in.StateValue, in.StateReason
	return &cloudwatch.SetAlarmStateOutput{}, nil
}
