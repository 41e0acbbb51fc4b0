package dataplane

import (
	"strconv"
	"strings"
	"time"
)

// TGStats are a target group's cumulative counters since Start, the raw material of the ALB's
// CloudWatch metrics (AWS/ApplicationELB, dimensions LoadBalancer and TargetGroup).
type TGStats struct {
	LoadBalancerARN string
	Requests        int64 // RequestCount: every request routed to the group
	Target2XX       int64 // HTTPCode_Target_2XX_Count: responses the targets sent
	Target3XX       int64
	Target4XX       int64
	Target5XX       int64
	// ELB5XX are 5xx the proxy generated for requests routed to the group: no target to send to
	// (503), connection refused or reset (502/503), target timeout (504): HTTPCode_ELB_5XX_Count.
	ELB5XX int64
	// ResponseTimeSum is the sum of the time from sending a request to a target until its response
	// headers arrived (TargetResponseTime), over ResponseCount requests answered by a target.
	ResponseTimeSum time.Duration
	ResponseCount   int64
	HealthyHosts    int // HealthyHostCount, as of the last sync
	UnhealthyHosts  int // UnHealthyHostCount
}

// LBStats are a load balancer's cumulative counters: RequestCount and HTTPCode_ELB_5XX_Count have
// the LoadBalancer dimension alone, and include requests that reached no target group.
type LBStats struct {
	Requests int64
	ELB5XX   int64
}

// LoadBalancerStats returns the followed load balancers' counters, keyed by load balancer ARN.
func (p *Plane) LoadBalancerStats() map[string]LBStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]LBStats{}
	for _, lb := range p.opts.LoadBalancerARNs {
		if s := p.lbStats[lb]; s != nil {
			out[lb] = *s
		} else {
			out[lb] = LBStats{}
		}
	}
	return out
}

// AvgResponseTime is TargetResponseTime's average, 0 without responses.
func (s TGStats) AvgResponseTime() time.Duration {
	if s.ResponseCount == 0 {
		return 0
	}
	return s.ResponseTimeSum / time.Duration(s.ResponseCount)
}

// onLog counts one request log line (see logFormat).
func (p *Plane) onLog(line string) {
	f := strings.Split(line, "|")
	if len(f) != 6 {
		return
	}
	status, _ := strconv.Atoi(f[3])
	tr, err := strconv.Atoi(f[4])
	if err != nil {
		tr = -1
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if lb, ok := p.lbOfFront[f[0]]; ok {
		l := p.lbStats[lb]
		if l == nil {
			l = &LBStats{}
			p.lbStats[lb] = l
		}
		l.Requests++
		if status >= 500 && (tr < 0 || f[2] == "<NOSRV>") {
			l.ELB5XX++
		}
	}
	arn, ok := p.byBackend[f[1]]
	if !ok {
		return
	}
	s := p.statsLocked(arn)
	s.Requests++
	switch {
	case tr >= 0 && f[2] != "<NOSRV>":
		s.ResponseCount++
		s.ResponseTimeSum += time.Duration(tr) * time.Millisecond
		switch status / 100 {
		case 2:
			s.Target2XX++
		case 3:
			s.Target3XX++
		case 4:
			s.Target4XX++
		case 5:
			s.Target5XX++
		}
	case status >= 500:
		s.ELB5XX++
	}
}

func (p *Plane) statsLocked(arn string) *TGStats {
	s, ok := p.stats[arn]
	if !ok {
		s = &TGStats{}
		p.stats[arn] = s
	}
	return s
}

// Stats returns every followed target group's counters, keyed by target group ARN.
func (p *Plane) Stats() (map[string]TGStats, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errGone
	}
	out := map[string]TGStats{}
	now := time.Now()
	for arn, ts := range p.groups {
		s := *p.statsLocked(arn)
		s.LoadBalancerARN = ts.lb
		for _, srv := range ts.servers {
			if srv.removed {
				continue
			}
			switch st, _, _ := srv.alb(ts, p.opts.HealthScale, now); st {
			case "healthy":
				s.HealthyHosts++
			case "unhealthy":
				s.UnhealthyHosts++
			}
		}
		out[arn] = s
	}
	return out, nil
}
