package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/test/faultproxy"
)

// proxies are the fault proxies a proxied daemon reaches AWS through; the test's own reads (e.w.AWS,
// e.w.ECS) go straight to the emulators and are not counted.
type proxies struct {
	AWS *faultproxy.Proxy // in front of kumo (aws.endpoint_url): ELBv2, CloudWatch, ECR
	ECS *faultproxy.Proxy // in front of the ECS stand-in (aws.endpoints.ecs/autoscaling): ECS, Application Auto Scaling

	t      testing.TB
	byURL  map[string]*faultproxy.Proxy
	ecsURL string
}

// Counts merges both proxies' counts since their last Reset.
func (p *proxies) Counts() faultproxy.Counts { return faultproxy.Merge(p.AWS.Counts(), p.ECS.Counts()) }

// CountsBetween merges both proxies' counts of calls that arrived in [from, to).
func (p *proxies) CountsBetween(from, to time.Time) faultproxy.Counts {
	return faultproxy.Merge(p.AWS.CountsBetween(from, to), p.ECS.CountsBetween(from, to))
}

// Reset forgets both proxies' counts.
func (p *proxies) Reset() { p.AWS.Reset(); p.ECS.Reset() }

// ClearFaults removes every rule and bucket on both proxies.
func (p *proxies) ClearFaults() { p.AWS.ClearFaults(); p.ECS.ClearFaults() }

var (
	endpointURLLine = regexp.MustCompile(`(?m)^  endpoint_url: (\S+)$`)
	endpointsLine   = regexp.MustCompile(`(?m)^  endpoints: \{(.*)\}$`)
)

// newProxies returns an empty set; its edit starts the proxies when the config is rendered.
func newProxies(t testing.TB) *proxies {
	return &proxies{t: t, byURL: map[string]*faultproxy.Proxy{}}
}

// proxyFor starts (once per upstream) a proxy in front of url.
func (p *proxies) proxyFor(url string) *faultproxy.Proxy {
	if px, ok := p.byURL[url]; ok {
		return px
	}
	px, err := faultproxy.Start(faultproxy.Options{Upstream: url})
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(px.Close)
	p.byURL[url] = px
	return px
}

// edit is a config edit (for newEnv) that puts a proxy in front of aws.endpoint_url and one in front of
// each distinct aws.endpoints URL, and points the daemon at them.
func (p *proxies) edit(yaml string) string {
	m := endpointURLLine.FindStringSubmatch(yaml)
	if m == nil {
		p.t.Fatal("proxied env: config has no aws.endpoint_url")
	}
	p.AWS = p.proxyFor(m[1])
	yaml = strings.Replace(yaml, m[0], "  endpoint_url: "+p.AWS.URL(), 1)
	e := endpointsLine.FindStringSubmatch(yaml)
	if e == nil {
		p.t.Fatal("proxied env: config has no aws.endpoints")
	}
	var entries []string
	for _, kv := range strings.Split(e[1], ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), ": ")
		if !ok {
			p.t.Fatalf("proxied env: cannot read aws.endpoints entry %q", kv)
		}
		px := p.proxyFor(v)
		if k == "ecs" {
			p.ECS = px
		}
		entries = append(entries, k+": "+px.URL())
	}
	if p.ECS == nil {
		p.t.Fatal("proxied env: aws.endpoints has no ecs")
	}
	return strings.Replace(yaml, e[0], "  endpoints: {"+strings.Join(entries, ", ")+"}", 1)
}

// newProxiedEnv is newEnv whose daemon talks to AWS only through fault proxies (edits run after the
// proxy edit, so an edit that adds an endpoint pointing at an emulator bypasses the proxies).
func newProxiedEnv(t testing.TB, name string, poll time.Duration, strategyYAML string, edits ...func(string) string) (*env, *proxies) {
	t.Helper()
	p := newProxies(t)
	e := newEnv(t, name, poll, strategyYAML, append([]func(string) string{p.edit}, edits...)...)
	return e, p
}

func TestDeploymentThroughFaultProxies(t *testing.T) {
	e, px := newProxiedEnv(t, "proxied", poll, "")
	d := e.deploy("v2", &deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 10, Bake: deploy.Duration(2 * time.Second)})
	e.waitFor(d.ID, "canary verified", 20*time.Second, func(d *deploy.Deployment) bool {
		return d.State == deploy.StateShifting && d.StepStartedAt != nil
	})
	// Two throttles during the bake reach the daemon (its SDK retries absorb them: 3 attempts by default).
	px.ECS.FailN(faultproxy.Op("DescribeServices"), faultproxy.Throttling, 2)
	e.waitState(d.ID, deploy.StateSucceeded, 30*time.Second)
	e.assertWeights(deploy.AllOn(deploy.SlotGreen))
	c := px.Counts()
	for _, op := range []string{"cloudwatch:DescribeAlarms", "elbv2:ModifyListener", "elbv2:ModifyRule", "ecs:DescribeServices",
		"ecs:UpdateService", "ecs:RegisterTaskDefinition", "ecr:BatchGetImage"} {
		if c.Calls(op) == 0 {
			t.Errorf("the proxies saw no %s; counts:\n%s", op, table(c, 0))
		}
	}
	if got := c["ecs:DescribeServices"].Injected; got != 2 {
		t.Errorf("%d injected DescribeServices throttles seen, want 2", got)
	}
	for k := range c {
		if strings.HasPrefix(k, "unknown:") {
			t.Errorf("unidentified call %s", k)
		}
	}
	// The daemon's ECS traffic went through the ECS proxy, its ELB and CloudWatch traffic through the other.
	if px.ECS.Counts().Calls("elbv2:ModifyListener") != 0 || px.AWS.Counts().Calls("ecs:UpdateService") != 0 {
		t.Errorf("calls went through the wrong proxy")
	}
}

// table renders counts for a log line.
func table(c faultproxy.Counts, window time.Duration) string {
	var b strings.Builder
	c.WriteTable(&b, window)
	return b.String()
}
