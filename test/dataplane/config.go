package dataplane

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The request log line: frontend|backend|server|status|Tr (ms to the target's response headers, -1
// when none)|termination state. The plane's stats come from these lines, so they survive reloads
// (HAProxy's own counters start again at 0 in each new worker).
const logFormat = `%f|%b|%s|%ST|%Tr|%ts`

const noTarget = "elb_503" // the backend of requests no target group can take: the ALB's own 503

// layout is what needs a config (and a reload) to change: listeners, their rule conditions and the
// target groups' health-check settings. Weights, which groups an action forwards to, and targets
// change at run time through the map and the runtime API.
type layout struct {
	dir        string
	statsPort  int
	ports      map[string]int // listener ARN -> loopback port
	listeners  []listener
	groups     []*group // sorted by backend name
	scale      float64
	withServer func(g *group) []string // server lines written on a reload (nil: none)
}

func (l *layout) mapPath() string { return l.dir + "/actions.map" }

func (l *layout) render() string {
	var b strings.Builder
	fmt.Fprintf(&b, `global
  nbthread 1
  stats socket %[1]s/admin.sock level admin
  server-state-file %[1]s/servers.state
  hard-stop-after 30s
defaults
  mode http
  log stdout format raw local0 info
  log-format "%[2]s"
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-request 60s
  load-server-state-from-file global
frontend stats
  bind 127.0.0.1:%[3]d
  no log
  http-request use-service prometheus-exporter if { path /metrics }
  stats enable
  stats uri /stats
backend %[4]s
  http-request return status 503 content-type text/plain string "503 Service Temporarily Unavailable"
`, l.dir, logFormat, l.statsPort, noTarget)
	for _, li := range l.listeners {
		l.renderFrontend(&b, li)
	}
	for _, g := range l.groups {
		l.renderBackend(&b, g)
	}
	return b.String()
}

// renderFrontend: the first rule (in priority order) whose conditions match names the action; the
// action's map entry holds its cumulative weights and backends; one rand() per request picks the group.
func (l *layout) renderFrontend(b *strings.Builder, li listener) {
	fmt.Fprintf(b, "frontend %s\n  bind 127.0.0.1:%d\n", li.backend, l.ports[li.arn])
	for i, r := range li.rules {
		var conds []string
		if len(r.paths) > 0 {
			for _, p := range r.paths {
				fmt.Fprintf(b, "  acl p%d path -m reg %s\n", i, patternRegex(p))
			}
			conds = append(conds, fmt.Sprintf("p%d", i))
		}
		if len(r.hosts) > 0 {
			for _, h := range r.hosts {
				fmt.Fprintf(b, "  acl h%d hdr(host),field(1,:) -m reg -i %s\n", i, patternRegex(h))
			}
			conds = append(conds, fmt.Sprintf("h%d", i))
		}
		fmt.Fprintf(b, "  http-request set-var(txn.a) str(%s) if !{ var(txn.a) -m found } %s\n", r.key, strings.Join(conds, " "))
	}
	fmt.Fprintf(b, "  http-request set-var(txn.spec) var(txn.a),map(%s)\n", l.mapPath())
	b.WriteString("  http-request set-var(txn.tot) var(txn.spec),field(1,:)\n")
	b.WriteString("  http-request set-var(txn.pick) rand(1000000),mul(txn.tot),div(1000000)\n")
	for i := 0; i < maxForward; i++ {
		fmt.Fprintf(b, "  http-request set-var(txn.c) var(txn.spec),field(%d,:)\n", 2+i)
		fmt.Fprintf(b, "  http-request set-var(txn.be) var(txn.spec),field(%d,:) if !{ var(txn.be) -m found } { var(txn.pick),sub(txn.c) lt 0 }\n", 2+maxForward+i)
	}
	fmt.Fprintf(b, "  use_backend %%[var(txn.be)] if { var(txn.be) -m found }\n  default_backend %s\n", noTarget)
}

func (l *layout) renderBackend(b *strings.Builder, g *group) {
	fmt.Fprintf(b, "backend %s\n  balance roundrobin\n  option allbackups\n", g.backend)
	if g.hcEnabled {
		fmt.Fprintf(b, "  option httpchk\n  http-check send meth GET uri %s ver HTTP/1.1 hdr Host elb-healthcheck hdr User-Agent ELB-HealthChecker/2.0\n", g.hcPath)
		fmt.Fprintf(b, "  http-check expect status %s\n  timeout check %dms\n", g.hcMatcher, checkTimeout(g.timeout, l.scale).Milliseconds())
	}
	if l.withServer != nil {
		for _, s := range l.withServer(g) {
			b.WriteString("  " + s + "\n")
		}
	}
}

// serverArgs are the options of a target's checked server: the ALB's thresholds and interval.
func serverArgs(g *group, k targetKey, scale float64) string {
	args := fmt.Sprintf("%s", k.addr())
	if g.hcEnabled {
		args += fmt.Sprintf(" check inter %d rise %d fall %d", scaled(g.interval, scale).Milliseconds(), g.healthy, g.unhealthy)
		if p, err := strconv.Atoi(g.hcPort); err == nil && p > 0 {
			args += " port " + g.hcPort
		}
	}
	return args
}

// minCheckTimeout keeps a scaled health-check timeout from failing checks on a loaded test machine
// that would pass on AWS: HealthScale speeds up state changes (interval x thresholds), not targets.
const minCheckTimeout = 500 * time.Millisecond

func checkTimeout(seconds int, scale float64) time.Duration {
	d := scaled(seconds, scale)
	if configured := time.Duration(seconds) * time.Second; d < minCheckTimeout {
		d = min(minCheckTimeout, configured)
	}
	return d
}

func scaled(seconds int, scale float64) time.Duration {
	d := time.Duration(float64(seconds) * scale * float64(time.Second))
	if d < 10*time.Millisecond {
		d = 10 * time.Millisecond
	}
	return d
}

// patternRegex turns an ALB condition value (wildcards * and ?, case-sensitive for paths) into an
// anchored regular expression without spaces (HAProxy splits ACL arguments on them).
func patternRegex(p string) string {
	var b strings.Builder
	b.WriteString("^")
	for _, r := range p {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case ' ':
			b.WriteString(`\x20`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return b.String()
}

// mapValue encodes an action for the weight map: total weight, the cumulative weights of the
// maxForward slots, then their backends; one `set map` changes it atomically.
func mapValue(forward []weighted, backendOf func(tg string) string) string {
	cum := make([]string, maxForward)
	bes := make([]string, maxForward)
	total := 0
	for i := 0; i < maxForward; i++ {
		bes[i] = noTarget
		if i < len(forward) {
			total += forward[i].weight
			if be := backendOf(forward[i].tg); be != "" {
				bes[i] = be
			}
		}
		cum[i] = strconv.Itoa(total)
	}
	return strconv.Itoa(total) + ":" + strings.Join(cum, ":") + ":" + strings.Join(bes, ":")
}

func renderMap(entries map[string]string) string {
	keys := make([]string, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %s\n", k, entries[k])
	}
	return b.String()
}
