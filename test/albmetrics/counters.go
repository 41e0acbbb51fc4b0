package albmetrics

import (
	"strings"
	"time"
)

// Counters is what the data plane reports for one target group. The counts are cumulative since
// the data plane started (a decrease is taken as a restart from zero); the host counts are the
// current health.
type Counters struct {
	// LoadBalancerARN is the ALB the group serves; empty means Config.LoadBalancerARN.
	LoadBalancerARN string
	// Requests the data plane sent, or tried to send, to one of the group's targets.
	Requests uint64
	// Responses from the group's targets, by status class.
	Target2XX, Target3XX, Target4XX, Target5XX uint64
	// ELB5XX counts 5xx the data plane generated itself for this group (no target, connection
	// refused, timeout).
	ELB5XX uint64
	// Responses is how many target answers ResponseTimeSum covers; 0 means the sum of the
	// status classes above.
	Responses uint64
	// ResponseTimeSum is the total time targets took to answer those responses.
	ResponseTimeSum time.Duration
	// ResponseTimeAvg is used instead when the source keeps no sum (HAProxy keeps a running
	// average): the period's TargetResponseTime is then this average.
	ResponseTimeAvg time.Duration
	// Healthy and Unhealthy are the group's registered targets by current health.
	Healthy, Unhealthy int
}

// Source returns the counters of every target group the data plane serves, keyed by target
// group ARN. The data plane's Stats method fits it after a field-by-field copy.
type Source func() (map[string]Counters, error)

// delta is what happened in one period.
type delta struct {
	requests, t2, t3, t4, t5, elb5 uint64
	answered                       uint64  // 0: the sum of the status classes
	rtSeconds                      float64 // total target response time of the period
}

func sub(now, prev uint64) uint64 {
	if now < prev { // restarted from zero
		return now
	}
	return now - prev
}

func diff(now, prev Counters) delta {
	d := delta{
		requests: sub(now.Requests, prev.Requests),
		t2:       sub(now.Target2XX, prev.Target2XX),
		t3:       sub(now.Target3XX, prev.Target3XX),
		t4:       sub(now.Target4XX, prev.Target4XX),
		t5:       sub(now.Target5XX, prev.Target5XX),
		elb5:     sub(now.ELB5XX, prev.ELB5XX),
		answered: sub(now.Responses, prev.Responses),
	}
	switch {
	case now.ResponseTimeSum >= prev.ResponseTimeSum && now.ResponseTimeSum > 0:
		d.rtSeconds = (now.ResponseTimeSum - prev.ResponseTimeSum).Seconds()
	case now.ResponseTimeSum > 0: // restarted
		d.rtSeconds = now.ResponseTimeSum.Seconds()
	default:
		d.rtSeconds = now.ResponseTimeAvg.Seconds() * float64(d.responses())
	}
	return d
}

// responses is how many target answers the period's response time covers.
func (d delta) responses() uint64 {
	if d.answered > 0 {
		return d.answered
	}
	return d.t2 + d.t3 + d.t4 + d.t5
}

func (d *delta) add(o delta) {
	d.requests += o.requests
	d.t2 += o.t2
	d.t3 += o.t3
	d.t4 += o.t4
	d.t5 += o.t5
	d.elb5 += o.elb5
	d.answered += o.responses()
	d.rtSeconds += o.rtSeconds
}

// LoadBalancerDimension is the LoadBalancer dimension of an ALB ARN: "app/<name>/<id>".
func LoadBalancerDimension(arn string) string {
	if i := strings.Index(arn, ":loadbalancer/"); i >= 0 {
		return arn[i+len(":loadbalancer/"):]
	}
	return arn
}

// TargetGroupDimension is the TargetGroup dimension of a target group ARN:
// "targetgroup/<name>/<id>".
func TargetGroupDimension(arn string) string {
	if i := strings.Index(arn, ":targetgroup/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}
