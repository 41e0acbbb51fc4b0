package awsclient

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// CloudWatchAPI is the part of the CloudWatch API the alarms adapter uses.
type CloudWatchAPI interface {
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
}

// MaxAlarmNamesPerCall is the most alarm names one DescribeAlarms call accepts (and its MaxRecords cap).
const MaxAlarmNamesPerCall = 100

// Alarms implements deploy.Alarms on CloudWatch.
type Alarms struct {
	api CloudWatchAPI
}

// NewAlarms returns an adapter using api (a *cloudwatch.Client in production).
func NewAlarms(api CloudWatchAPI) *Alarms { return &Alarms{api: api} }

// AlarmStates returns the state of each named alarm, metric or composite. Names are de-duplicated and
// sent 100 per call, the batches in parallel (at most batchParallelism at once); every page is read.
// Alarms that do not exist are absent from the result; any failed batch fails the whole read.
func (a *Alarms) AlarmStates(ctx context.Context, names []string) (map[string]deploy.AlarmState, error) {
	uniq := uniqueNonEmpty(names)
	seen := make(map[string]bool, len(uniq))
	for _, n := range uniq {
		seen[n] = true
	}
	var mu sync.Mutex
	out := make(map[string]deploy.AlarmState, len(uniq))
	err := inBatches(ctx, "cloudwatch.DescribeAlarms", len(uniq), MaxAlarmNamesPerCall, func(ctx context.Context, lo, hi int) error {
		got, err := a.batch(ctx, uniq[lo:hi], seen)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for n, s := range got {
			out[n] = s
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// batch reads one batch of at most 100 names, every page of it.
func (a *Alarms) batch(ctx context.Context, batch []string, want map[string]bool) (map[string]deploy.AlarmState, error) {
	const op = "cloudwatch.DescribeAlarms"
	out := make(map[string]deploy.AlarmState, len(batch))
	in := &cloudwatch.DescribeAlarmsInput{
		AlarmNames: batch,
		AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm},
		// The API defaults to 50 records per page; ask for the batch size so one call usually suffices.
		MaxRecords: aws.Int32(MaxAlarmNamesPerCall),
	}
	for {
		page, err := a.api.DescribeAlarms(ctx, in)
		if err != nil {
			return nil, mapErr(op, err, "read alarm states")
		}
		for _, m := range page.MetricAlarms {
			name := aws.ToString(m.AlarmName)
			if want[name] {
				out[name] = deploy.AlarmState{Name: name, State: string(m.StateValue), Reason: aws.ToString(m.StateReason), UpdatedAt: aws.ToTime(m.StateUpdatedTimestamp)}
			}
		}
		for _, c := range page.CompositeAlarms {
			name := aws.ToString(c.AlarmName)
			if want[name] {
				out[name] = deploy.AlarmState{Name: name, State: string(c.StateValue), Reason: aws.ToString(c.StateReason), UpdatedAt: aws.ToTime(c.StateUpdatedTimestamp)}
			}
		}
		next := aws.ToString(page.NextToken)
		if next == "" || next == aws.ToString(in.NextToken) {
			return out, nil
		}
		cp := *in
		cp.NextToken = aws.String(next)
		in = &cp
	}
}
