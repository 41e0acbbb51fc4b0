package awsclient

import (
	"context"

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
// sent 100 per call; every page is read. Alarms that do not exist are absent from the result.
func (a *Alarms) AlarmStates(ctx context.Context, names []string) (map[string]deploy.AlarmState, error) {
	const op = "cloudwatch.DescribeAlarms"
	out := make(map[string]deploy.AlarmState, len(names))
	uniq := make([]string, 0, len(names))
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if n != "" && !seen[n] {
			seen[n] = true
			uniq = append(uniq, n)
		}
	}
	for start := 0; start < len(uniq); start += MaxAlarmNamesPerCall {
		batch := uniq[start:min(start+MaxAlarmNamesPerCall, len(uniq))]
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
				if seen[name] {
					out[name] = deploy.AlarmState{Name: name, State: string(m.StateValue), Reason: aws.ToString(m.StateReason), UpdatedAt: aws.ToTime(m.StateUpdatedTimestamp)}
				}
			}
			for _, c := range page.CompositeAlarms {
				name := aws.ToString(c.AlarmName)
				if seen[name] {
					out[name] = deploy.AlarmState{Name: name, State: string(c.StateValue), Reason: aws.ToString(c.StateReason), UpdatedAt: aws.ToTime(c.StateUpdatedTimestamp)}
				}
			}
			next := aws.ToString(page.NextToken)
			if next == "" || next == aws.ToString(in.NextToken) {
				break
			}
			cp := *in
			cp.NextToken = aws.String(next)
			in = &cp
		}
	}
	return out, nil
}
