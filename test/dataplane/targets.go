package dataplane

import (
	"encoding/csv"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// server is one registered target: a checked primary server p_* (the ALB's routing to healthy
// targets) and an unchecked backup b_* that HAProxy uses only when no primary is up (`option
// allbackups`): the ALB's fail-open, decided per request inside HAProxy.
type server struct {
	key        targetKey
	addedAt    time.Time
	seenUp     bool      // passed the healthy threshold at least once: no longer `initial`
	drainUntil time.Time // non-zero: deregistered, draining until then
	removed    bool      // drain over; deleted from HAProxy as soon as its connections are gone
	status     string    // HAProxy's: "UP", "DOWN 1/3", "DRAIN", ...
	check      string    // last check status: L7OK, L7STS, L4CON, L4TOUT, ...
	code       int       // last check's HTTP status
}

// syncTargets adds new registrations (as `initial`: forced down until `rise` checks pass), drains
// deregistered targets and cancels the drain of re-registered ones.
func (p *Plane) syncTargets(arn string, g *group) error {
	p.mu.Lock()
	ts := p.groups[arn]
	var add, drain, undrain []*server
	for addr, k := range g.targets {
		s, ok := ts.servers[addr]
		switch {
		case !ok:
			s = &server{key: k, addedAt: time.Now()}
			ts.servers[addr] = s
			add = append(add, s)
		case s.removed:
			// Still being deleted from HAProxy; added again once it is gone.
		case !s.drainUntil.IsZero():
			s.drainUntil = time.Time{}
			undrain = append(undrain, s)
		}
	}
	for addr, s := range ts.servers {
		if _, ok := g.targets[addr]; !ok && s.drainUntil.IsZero() && !s.removed {
			drain = append(drain, s) // reported draining once HAProxy drains it
		}
	}
	p.mu.Unlock()
	var errs []string
	be := g.backend
	for _, s := range add {
		pn, bn := serverName("p", s.key), serverName("b", s.key)
		// Added at weight 0 and forced down before it can take a request, then given its weight: it
		// needs `rise` (the healthy threshold) passing checks to get traffic, as an `initial` target.
		cmd := fmt.Sprintf("add server %s/%s %s weight 0; enable server %[1]s/%[2]s; set server %[1]s/%[2]s health down; set server %[1]s/%[2]s weight 1; add server %[1]s/%[4]s %[5]s backup; enable server %[1]s/%[4]s",
			be, pn, serverArgs(g, s.key, p.opts.HealthScale), bn, s.key.addr())
		if g.hcEnabled {
			cmd = strings.Replace(cmd, "; enable server", fmt.Sprintf("; enable health %s/%s; enable server", be, pn), 1)
		}
		if err := p.proc.run(cmd); err != nil {
			errs = append(errs, err.Error())
			// Undo a half-done add so that the next sync can try again from scratch.
			for _, n := range []string{pn, bn} {
				_, _ = p.proc.cmd1(fmt.Sprintf("set server %s/%s state maint; del server %[1]s/%[2]s", be, n))
			}
			p.mu.Lock()
			delete(ts.servers, s.key.addr())
			p.mu.Unlock()
		}
	}
	for _, s := range drain {
		if err := p.proc.run(fmt.Sprintf("set server %s/%s state drain; set server %[1]s/%[3]s state drain", be, serverName("p", s.key), serverName("b", s.key))); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		p.mu.Lock()
		s.drainUntil = time.Now().Add(time.Duration(g.deregDelay) * time.Second)
		p.mu.Unlock()
	}
	for _, s := range undrain {
		if err := p.proc.run(fmt.Sprintf("set server %s/%s state ready; set server %[1]s/%[3]s state ready", be, serverName("p", s.key), serverName("b", s.key))); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("dataplane: %s", strings.Join(errs, "; "))
	}
	return nil
}

// expireDrains removes targets whose deregistration delay is over: their remaining connections are
// closed (the ALB does the same) and the servers deleted.
func (p *Plane) expireDrains() error {
	type victim struct {
		arn, be string
		s       *server
	}
	var vs []victim
	now := time.Now()
	p.mu.Lock()
	for arn, ts := range p.groups {
		for _, s := range ts.servers {
			if s.removed || (!s.drainUntil.IsZero() && !now.Before(s.drainUntil)) {
				s.removed = true
				vs = append(vs, victim{arn, ts.g.backend, s})
			}
		}
	}
	p.mu.Unlock()
	for _, v := range vs {
		pn, bn := serverName("p", v.s.key), serverName("b", v.s.key)
		for _, n := range []string{pn, bn} {
			_ = p.proc.run(fmt.Sprintf("set server %s/%s state maint; shutdown sessions server %[1]s/%[2]s", v.be, n))
		}
		// del server refuses while connections remain; the next sync tries again.
		errP := p.proc.run(fmt.Sprintf("del server %s/%s", v.be, pn))
		if errP != nil && !strings.Contains(errP.Error(), "No such server") {
			continue
		}
		errB := p.proc.run(fmt.Sprintf("del server %s/%s", v.be, bn))
		if errB != nil && !strings.Contains(errB.Error(), "No such server") {
			continue
		}
		p.mu.Lock()
		if ts := p.groups[v.arn]; ts.servers[v.s.key.addr()] == v.s {
			delete(ts.servers, v.s.key.addr())
		}
		p.mu.Unlock()
	}
	return nil
}

// refreshHealth reads every primary server's status and last check from HAProxy.
func (p *Plane) refreshHealth() error {
	out, err := p.proc.cmd1("show stat -1 4 -1")
	if err != nil {
		return err
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "# "))).ReadAll()
	if err != nil || len(rows) == 0 {
		return fmt.Errorf("dataplane: show stat: %v", err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range rows[1:] {
		if len(r) < len(rows[0]) {
			continue
		}
		ts, ok := p.groups[p.byBackend[r[col["pxname"]]]]
		if !ok {
			continue
		}
		for _, s := range ts.servers {
			if serverName("p", s.key) != r[col["svname"]] {
				continue
			}
			// "* " marks a check in progress; the rest is the last result.
			s.status, s.check = r[col["status"]], strings.TrimPrefix(r[col["check_status"]], "* ")
			s.code, _ = strconv.Atoi(r[col["check_code"]])
			if strings.HasPrefix(s.status, "UP") || (s.status == "DRAIN" && s.seenUp) {
				s.seenUp = true
			}
		}
	}
	return nil
}

// serverLines are the servers of g written into a config on reload; the state file restores their
// health and drain state.
func (p *Plane) serverLines(g *group) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	ts := p.groups[g.arn]
	var out []string
	for _, s := range ts.servers {
		if s.removed {
			continue
		}
		out = append(out, fmt.Sprintf("server %s %s", serverName("p", s.key), serverArgs(g, s.key, p.opts.HealthScale)),
			fmt.Sprintf("server %s %s backup", serverName("b", s.key), s.key.addr()))
	}
	sort.Strings(out)
	return out
}

// Target is one registered target as DescribeTargetHealth reports it.
type Target struct {
	ID              string
	Port            int32
	HealthCheckPort string
	State           string // initial, healthy, unhealthy, draining, unused, unavailable
	Reason          string // e.g. Elb.InitialHealthChecking, Target.FailedHealthChecks; empty when healthy
	Description     string
}

// TargetHealth reports the group's registered and draining targets with the data plane's real
// health (as of the last sync), sorted by address; nil if the plane does not know the group.
func (p *Plane) TargetHealth(tgARN string) []Target {
	ts, _ := p.Health(tgARN)
	return ts
}

// Health is TargetHealth with whether the plane knows the group: healthfront.Options.Health.
func (p *Plane) Health(tgARN string) ([]Target, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ts, ok := p.groups[tgARN]
	if !ok {
		return nil, false
	}
	out := []Target{}
	for _, s := range ts.servers {
		if s.removed {
			continue
		}
		t := Target{ID: s.key.id, Port: int32(s.key.port), HealthCheckPort: strconv.Itoa(s.key.port)}
		if n, err := strconv.Atoi(ts.g.hcPort); err == nil && n > 0 {
			t.HealthCheckPort = ts.g.hcPort
		}
		t.State, t.Reason, t.Description = s.alb(ts, p.opts.HealthScale, time.Now())
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].ID+":"+strconv.Itoa(int(out[i].Port)) < out[j].ID+":"+strconv.Itoa(int(out[j].Port))
	})
	return out, true
}

// alb maps HAProxy's view of a server to the ALB's target state, reason code and description.
func (s *server) alb(ts *tgState, scale float64, now time.Time) (state, reason, desc string) {
	g := ts.g
	switch {
	case !s.drainUntil.IsZero():
		return "draining", "Target.DeregistrationInProgress", "Target deregistration is in progress"
	case !ts.used:
		return "unused", "Target.NotInUse", "Target group is not configured to receive traffic from the load balancer"
	case !g.hcEnabled:
		return "unavailable", "Target.HealthCheckDisabled", "Health checks are disabled"
	case strings.HasPrefix(s.status, "UP"):
		return "healthy", "", ""
	case s.status == "":
		return "initial", "Elb.RegistrationInProgress", "Target registration is in progress"
	}
	failing := s.check != "L7OK" && s.check != "INI" && s.check != ""
	// A target that never passed stays `initial` until it has failed for about the unhealthy
	// threshold's worth of intervals, as the ALB's initial health checks do.
	window := time.Duration(g.unhealthy) * scaled(g.interval, scale)
	if !s.seenUp && (!failing || now.Sub(s.addedAt) < window) {
		return "initial", "Elb.InitialHealthChecking", "Initial health checks in progress"
	}
	switch s.check {
	case "L7STS":
		return "unhealthy", "Target.ResponseCodeMismatch", fmt.Sprintf("Health checks failed with these codes: [%d]", s.code)
	case "L4TOUT", "L7TOUT":
		return "unhealthy", "Target.Timeout", "Request timed out"
	}
	return "unhealthy", "Target.FailedHealthChecks", "Health checks failed"
}
