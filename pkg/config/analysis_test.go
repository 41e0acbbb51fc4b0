package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

func TestExampleAnalysisLoadsWithDefaults(t *testing.T) {
	c, err := Load(filepath.Join("..", "..", "configs", "switchyard.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	a := c.DomainServices()["web"].Analysis
	if a == nil || len(a.Metrics) != 3 || a.ConsecutiveErrorLimit != deploy.DefaultErrorLimit || a.Interval.D() != time.Second {
		t.Fatalf("analysis %+v", a)
	}
	if !a.Metrics[2].IsPreTraffic() || a.Metrics[0].IsPreTraffic() {
		t.Fatalf("pre-traffic defaults: probe %v, prometheus %v", a.Metrics[2].IsPreTraffic(), a.Metrics[0].IsPreTraffic())
	}
}

func TestAnalysisMistakesNameTheirKey(t *testing.T) {
	const service = `
services:
  web:
    cluster: c
    blue_service: b
    green_service: g
    container: app
    image_repository: 123456789012.dkr.ecr.us-east-1.amazonaws.com/web
    listener_arn: arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/alb/1/2
    blue_target_group_arn: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/b/1
    green_target_group_arn: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/g/2
`
	prom := `{name: e, provider: prometheus, judge: errors, prometheus: {url: "http://p:9090", requests: r, errors: e}}`
	for _, c := range []struct{ yaml, want string }{
		{"    analysis: {metrics: []}\n", "services.web.analysis.metrics: at least one metric"},
		{"    analysis: {alpha: 0.7, metrics: [" + prom + "]}\n", "services.web.analysis.alpha"},
		{"    analysis: {on_inconclusive: maybe, metrics: [" + prom + "]}\n", "on_inconclusive"},
		{"    analysis: {metrics: [" + prom + ", " + prom + "]}\n", `"e" appears twice`},
		{"    analysis: {metrics: [{name: l, provider: cloudwatch, judge: latency, cloudwatch: {}}]}\n", "no per-request histogram"},
		{"    analysis: {metrics: [{name: p, provider: probe, judge: threshold, probe: {url: \"http://t/\"}, threshold: {value: error_rate, max: 0.1}}]}\n", "set test_listener_arn"},
		{"    analysis: {metrics: [{name: t, provider: prometheus, judge: threshold, prometheus: {url: \"http://p\", requests: r}, threshold: {value: p42, max: 1}}]}\n", "threshold.value"},
		{"    analysis: {metrics: [{name: e, provider: prometheus, judge: errors, margin: 2, prometheus: {url: \"http://p\", requests: r, errors: e}}]}\n", "margin"},
		{"    strategy: {type: steps, steps: [{percent: 10}, {kind: analysis, bake: 1m}, {percent: 100}]}\n", "an analysis step needs the service's analysis block"},
	} {
		_, err := Parse([]byte(service + c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to say %q", strings.TrimSpace(c.yaml), err, c.want)
		}
	}
	if _, err := Parse([]byte(service + "    analysis: {metrics: [" + prom + "]}\n")); err != nil {
		t.Fatalf("a valid analysis refused: %v", err)
	}
}
