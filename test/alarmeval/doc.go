// Package alarmeval evaluates CloudWatch metric alarms from the datapoints stored in the kumo
// emulator and sets their state with SetAlarmState, because kumo stores alarms but never evaluates
// them.
//
// Each round reads the alarms (DescribeAlarms), reads their metrics back (GetMetricData), folds the
// raw datapoints into the alarm's periods with the alarm's statistic, and decides the state as
// CloudWatch documents it ("How alarm state is evaluated when data is missing", CloudWatch User
// Guide): the evaluation range is EvaluationPeriods plus two periods (the guide's example: 5
// datapoints for 3 evaluation periods); with at least EvaluationPeriods real datapoints in the range
// the most recent ones decide; with fewer, missing datapoints are filled per TreatMissingData, as
// few as possible; ALARM when at least DatapointsToAlarm of the EvaluationPeriods evaluated
// datapoints breach, else OK. Decide is tested against both tables of the guide.
//
// For "missing" and "ignore" with fewer real datapoints than evaluation periods the guide gives
// only examples; this package reads them as: ALARM when the real datapoints alone reach
// DatapointsToAlarm; OK when some real datapoint is not breaching; otherwise (every real datapoint
// breaches but too few) "ignore" keeps the state, and "missing" goes to ALARM when the oldest real
// datapoint lies before the last EvaluationPeriods periods (the guide: "the oldest evaluated data
// point is breaching and there aren't any non-breaching data points") and to INSUFFICIENT_DATA
// otherwise.
//
// Rounds run every min(Period, 60 s) of the smallest alarm period, as CloudWatch evaluates, a lag
// after each boundary so that the publisher's datapoint for the period just ended is in. Scale
// runs alarm time faster than the wall: with Scale 60 a 60 s alarm period lasts 1 s of wall time
// (publish with albmetrics.Config.Period = WallPeriod(60 s, 60)). Datapoint timestamps are wall
// time; a period starts at time.Truncate(wall period), as in package albmetrics.
//
// kumo (v0.33.1) drops DatapointsToAlarm, TreatMissingData and ExtendedStatistic from
// PutMetricAlarm, so DescribeAlarms returns none of them: pass them as Overrides (the values of
// the alarm definitions in terraform/modules/monitoring). Without an override the CloudWatch
// defaults apply (DatapointsToAlarm = EvaluationPeriods, TreatMissingData = "missing"). Metric
// math alarms (Metrics) are not evaluated. kumo folds a statistic set into its mean, so
// SampleCount counts datapoints, and percentiles are taken over the stored values (for the data
// plane's TargetResponseTime, the period's mean).
package alarmeval
