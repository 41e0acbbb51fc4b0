package dataplane

import (
	"math"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/switchyard/switchyard/test/demostack"
	"github.com/switchyard/switchyard/test/emulator"
)

// demo builds the demo stack (listener with weighted default action and /api/* rule, test listener,
// blue/green groups with the stack's health checks) with one healthy target per colour.
func demo(t *testing.T) (*world, *demostack.Stack, *Plane, *app, *app) {
	w := newWorld(t)
	st, err := demostack.Create(w.ctx, emulator.Config(emulator.Shared(t).URL), "dp"+uniq())
	if err != nil {
		t.Fatal(err)
	}
	blue, green := newApp(t, "blue"), newApp(t, "green")
	w.register(st.BlueTG, blue)
	w.register(st.GreenTG, green)
	// The stack's groups check every 30 s with a healthy threshold of 5: scaled to 300 ms.
	p := w.start(0.01, st.LoadBalancer)
	waitState(t, p, st.BlueTG, blue, "healthy", 10*time.Second)
	waitState(t, p, st.GreenTG, green, "healthy", 10*time.Second)
	return w, st, p, blue, green
}

// within4Sigma fails unless got is within 4 binomial standard deviations of n*p.
func within4Sigma(t *testing.T, what string, got, n int, p float64) {
	t.Helper()
	mean, sd := float64(n)*p, math.Sqrt(float64(n)*p*(1-p))
	t.Logf("%s: %d of %d (expected %.1f ± %.1f)", what, got, n, mean, 4*sd)
	if math.Abs(float64(got)-mean) > 4*sd {
		t.Errorf("%s: %d of %d, outside %.1f ± 4σ (%.1f)", what, got, n, mean, 4*sd)
	}
}

func TestWeightedForwardSplitsPerRequest(t *testing.T) {
	w, st, p, _, _ := demo(t)
	url := p.ListenerURL(st.Listener)
	for _, c := range []struct{ blue, green int32 }{{900, 100}, {994, 5}} {
		w.setListener(st.Listener, forward([]string{st.BlueTG, st.GreenTG}, c.blue, c.green))
		if err := p.WaitSync(w.ctx, 2); err != nil {
			t.Fatal(err)
		}
		const n = 4000
		got := counts(t, url+"/", n)
		if got["blue"]+got["green"] != n {
			t.Fatalf("weights %d/%d: not all requests served by a colour: %v", c.blue, c.green, got)
		}
		within4Sigma(t, "green share", got["green"], n, float64(c.green)/float64(c.blue+c.green))
	}
}

func TestPathRuleDefaultActionAndTestListener(t *testing.T) {
	w, st, p, _, _ := demo(t)
	// The rule (/api/*) sends everything to green, the default action everything to blue.
	if _, err := w.lb.ModifyRule(w.ctx, &elb.ModifyRuleInput{RuleArn: aws.String(st.Rule),
		Actions: forward([]string{st.BlueTG, st.GreenTG}, 0, 999)}); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitSync(w.ctx, 2); err != nil {
		t.Fatal(err)
	}
	url := p.ListenerURL(st.Listener)
	for path, want := range map[string]string{"/api/orders": "green", "/api/": "green", "/api": "blue", "/": "blue",
		"/API/orders": "blue", "/x/api/y": "blue", "/api/x?y=/z": "green"} {
		if code, colour := get(t, url+path); code != 200 || colour != want {
			t.Errorf("%s: %d from %q, want %s", path, code, colour, want)
		}
	}
	test := p.ListenerURL(st.TestListener)
	if test == "" || test == url {
		t.Fatalf("test listener URL %q (production %q)", test, url)
	}
	if _, colour := get(t, test+"/"); colour != "green" {
		t.Fatalf("test listener served by %q, want green", colour)
	}
	w.setListener(st.TestListener, forward([]string{st.BlueTG}, 1))
	if err := p.WaitSync(w.ctx, 2); err != nil {
		t.Fatal(err)
	}
	if _, colour := get(t, test+"/"); colour != "blue" {
		t.Fatalf("test listener after ModifyListener served by %q, want blue", colour)
	}
	if p.Reloads() != 0 {
		t.Fatalf("weight and target-group changes reloaded HAProxy %d times", p.Reloads())
	}
}
