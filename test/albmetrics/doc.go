// Package albmetrics publishes a data plane's per-target-group counters to CloudWatch as an
// Application Load Balancer would: namespace AWS/ApplicationELB, one datapoint per metric per
// period, stamped with the period's start, and only when requests flowed.
//
// What is published each period (default 60 s, the ALB's interval; shorter periods are stored as
// high-resolution metrics), from the difference between two samples of the cumulative counters:
//
//   - per target group, dimensions {LoadBalancer, TargetGroup}: RequestCount,
//     HTTPCode_Target_2XX/4XX/5XX_Count, TargetResponseTime, HealthyHostCount, UnHealthyHostCount;
//   - per load balancer, dimension {LoadBalancer}: RequestCount, HTTPCode_Target_2XX/4XX/5XX_Count,
//     HTTPCode_ELB_5XX_Count (the ALB reports ELB-generated 5xx per load balancer, not per target
//     group), TargetResponseTime.
//
// Reporting criteria follow the ALB documentation: nothing is reported while no request flows
// through the load balancer; count metrics are reported only when non-zero; TargetResponseTime only
// when targets answered; host counts for every group with registered targets while requests flow
// through the load balancer (zero included). TargetResponseTime is a statistic set (SampleCount =
// responses, Sum = seconds), so its Average is the mean response time of the period.
//
// # kumo gaps (v0.33.1) and workarounds
//
//   - The SDK gzips PutMetricData bodies (CloudWatch request compression); kumo cannot read them
//     ("Failed to parse request body"). Any SDK client that writes metrics to kumo needs
//     cloudwatch.Options.DisableRequestCompression = true.
//   - kumo rejects a PutMetricData datum carrying a Timestamp from the SDK (it decodes the CBOR
//     time tag into a string field) and stamps datapoints without one with its own clock at
//     one-second precision. KumoSink therefore writes the rpc-v2-cbor request itself, with the
//     timestamp as an RFC 3339 string, which kumo stores as given.
//   - kumo keeps one raw value per datum: a statistic set is stored as Sum/SampleCount, Values and
//     Counts as one value per entry (Counts ignored). GetMetricData returns the raw values in the
//     time range without applying Period or Stat, and GetMetricStatistics folds the whole range
//     into one datapoint. Readers (package alarmeval) aggregate per period themselves.
//   - kumo formats GetMetricData's StartTime and EndTime to whole seconds and includes EndTime;
//     readers widen the range and filter.
//   - Percentiles: the data plane reports sums and averages, not each request's latency, so a
//     p99 read from these metrics is the period's mean. Noted where alarms use p99.
package albmetrics
