package alarmeval

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
)

// OverridesFrom restores what kumo drops from the alarms the caller created: pass the same
// PutMetricAlarm inputs (demostack's, or ones built from terraform/modules/monitoring).
func OverridesFrom(inputs ...*cloudwatch.PutMetricAlarmInput) map[string]Override {
	out := make(map[string]Override, len(inputs))
	for _, in := range inputs {
		out[aws.ToString(in.AlarmName)] = Override{
			DatapointsToAlarm: int(aws.ToInt32(in.DatapointsToAlarm)),
			TreatMissingData:  aws.ToString(in.TreatMissingData),
			ExtendedStatistic: aws.ToString(in.ExtendedStatistic),
		}
	}
	return out
}
