package config

import (
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

const (
	arnPrefix = "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
	// minimalService is one valid service; tests append to or edit it.
	minimalService = `
services:
  web:
    cluster: c
    blue_service: web-b
    green_service: web-g
    container: app
    image_repository: 123456789012.dkr.ecr.us-east-1.amazonaws.com/web
    listener_arn: ` + arnPrefix + `listener/app/alb/1/2
    rule_arns: [` + arnPrefix + `listener-rule/app/alb/1/2/9]
    blue_target_group_arn: ` + arnPrefix + `targetgroup/web-b/1
    green_target_group_arn: ` + arnPrefix + `targetgroup/web-g/2
    alarms: [web-5xx]
`
)

// api returns a second service; edit replaces its lines.
func second(edits ...string) string {
	s := `  api:
    cluster: c
    blue_service: api-b
    green_service: api-g
    container: app
    image_repository: 123456789012.dkr.ecr.us-east-1.amazonaws.com/api
    listener_arn: ` + arnPrefix + `listener/app/alb/1/3
    blue_target_group_arn: ` + arnPrefix + `targetgroup/api-b/3
    green_target_group_arn: ` + arnPrefix + `targetgroup/api-g/4
`
	for i := 0; i+1 < len(edits); i += 2 {
		s = strings.Replace(s, edits[i], edits[i+1], 1)
	}
	return s
}

func mustRefuse(t *testing.T, yaml string, want ...string) {
	t.Helper()
	_, err := Parse([]byte(yaml))
	if err == nil {
		t.Fatalf("accepted:\n%s", yaml)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
}

func TestSharedResourcesAreRefusedNamingBothServices(t *testing.T) {
	if _, err := Parse([]byte(minimalService + second())); err != nil {
		t.Fatalf("two separate services refused: %v", err)
	}
	// A rule of one service on another's listener is fine: they change different actions.
	if _, err := Parse([]byte(minimalService + second("listener_arn: "+arnPrefix+"listener/app/alb/1/3",
		"rule_arns: ["+arnPrefix+"listener-rule/app/alb/1/2/10]"))); err != nil {
		t.Fatalf("rules on a shared listener refused: %v", err)
	}
	cases := []struct {
		name  string
		edits []string
		want  []string
	}{
		{"listener default action", []string{"listener/app/alb/1/3", "listener/app/alb/1/2"},
			[]string{"services.web.listener_arn", "services.api.listener_arn", `listener default action "` + arnPrefix + `listener/app/alb/1/2"`, "services api and web"}},
		{"listener rule", []string{"listener_arn: " + arnPrefix + "listener/app/alb/1/3", "rule_arns: [" + arnPrefix + "listener-rule/app/alb/1/2/9]"},
			[]string{"services.api.rule_arns[0]", "services.web.rule_arns[0]", "listener rule", "services api and web"}},
		{"target group", []string{"targetgroup/api-g/4", "targetgroup/web-b/1"},
			[]string{"services.api.green_target_group_arn", "services.web.blue_target_group_arn", "target group", "services api and web"}},
		{"ECS service", []string{"green_service: api-g", "green_service: web-g"},
			[]string{"services.api.green_service", "services.web.green_service", `ECS service "c/web-g"`, "services api and web"}},
		{"ECS service by cluster ARN", []string{"cluster: c", "cluster: arn:aws:ecs:us-east-1:123456789012:cluster/c", "blue_service: api-b", "blue_service: web-g"},
			[]string{"services.api.blue_service", "services.web.green_service", `ECS service "c/web-g"`}},
		{"test listener is another's production listener", []string{"    blue_target_group_arn", "    test_listener_arn: " + arnPrefix + "listener/app/alb/1/2\n    blue_target_group_arn"},
			[]string{"services.api.test_listener_arn", "is a production listener of service web (services.web.listener_arn)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { mustRefuse(t, minimalService+second(c.edits...), c.want...) })
	}
	// A test listener that is the listener of a third service's rule.
	other := strings.NewReplacer("api", "oth", "listener_arn: "+arnPrefix+"listener/app/alb/1/3", "rule_arns: ["+arnPrefix+"listener-rule/app/alb/1/7/1]",
		"/3\n", "/5\n", "/4\n", "/6\n").Replace(second())
	mustRefuse(t, minimalService+second("    blue_target_group_arn", "    test_listener_arn: "+arnPrefix+"listener/app/alb/1/7\n    blue_target_group_arn")+other,
		"services.api.test_listener_arn", "is a production listener of service oth (services.oth.rule_arns[0])")
	// Two services sharing one test listener.
	test := "    test_listener_arn: " + arnPrefix + "listener/app/alb/1/8\n"
	mustRefuse(t, strings.Replace(minimalService, "    alarms:", test+"    alarms:", 1)+second("    blue_target_group_arn", test+"    blue_target_group_arn"),
		"services.api.test_listener_arn", "services.web.test_listener_arn", "test listener")
}

func TestARNKindsAndRegionAreChecked(t *testing.T) {
	cases := []struct{ from, to, want string }{
		{"listener_arn: " + arnPrefix + "listener/app/alb/1/2", "listener_arn: " + arnPrefix + "targetgroup/web-b/9",
			`services.web.listener_arn: "` + arnPrefix + `targetgroup/web-b/9" is not a listener ARN`},
		{"listener-rule/app/alb/1/2/9", "listener/app/alb/1/9", "services.web.rule_arns[0]: \"" + arnPrefix + "listener/app/alb/1/9\" is not a listener-rule ARN"},
		{"targetgroup/web-g/2", "listener/app/alb/1/5", "services.web.green_target_group_arn: \"" + arnPrefix + "listener/app/alb/1/5\" is not a targetgroup ARN"},
		{"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-b/1", "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-b/1",
			`services.web.blue_target_group_arn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-b/1" is in region "eu-west-1", not aws.region "us-east-1"`},
		{"targetgroup/web-b/1", "targetgroup/web-b/1\n    test_listener_arn: arn:aws:ecs:us-east-1:123456789012:listener/app/alb/1/8", "services.web.test_listener_arn: \"arn:aws:ecs:us-east-1:123456789012:listener/app/alb/1/8\" is not a listener ARN"},
		{"blue_target_group_arn: " + arnPrefix, "blue_target_group_arn: arn:aws:elasticloadbalancing:us-east-1:1234:", "is not an ARN"},
		{"cluster: c", "cluster: arn:aws:ecs:us-west-2:123456789012:cluster/c", `services.web.cluster: "arn:aws:ecs:us-west-2:123456789012:cluster/c" is in region "us-west-2"`},
		{"alarms: [web-5xx]", "alarms: [arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-5xx]", "services.web.alarms[0]: \"arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-5xx\" is an ARN; alarms are given by name"},
		{"alarms: [web-5xx]", "alarms: [web-5xx]\n    green_alarms: ['']", "services.web.green_alarms[0]: empty alarm name"},
		{"dkr.ecr.us-east-1.", "dkr.ecr.eu-central-1.", `services.web.image_repository: "123456789012.dkr.ecr.eu-central-1.amazonaws.com/web" is an ECR repository in region "eu-central-1"`},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			y := strings.Replace(minimalService, c.from, c.to, 1)
			if y == minimalService {
				t.Fatalf("edit %q did not apply", c.from)
			}
			mustRefuse(t, y, c.want)
		})
	}
	// The same file is right in the Region its ARNs name.
	eu := strings.ReplaceAll(minimalService, "us-east-1", "eu-west-1")
	if _, err := Parse([]byte("aws: {region: eu-west-1}\n" + eu)); err != nil {
		t.Fatalf("eu-west-1 config refused: %v", err)
	}
	mustRefuse(t, "aws: {region: Mars}\n"+minimalService, `aws.region: "Mars" is not a Region name`)
}

func TestEmptyServiceListIsRefused(t *testing.T) {
	for _, y := range []string{"", "services: {}\n", "listen: 127.0.0.1:1\n"} {
		mustRefuse(t, y, "services: at least one service is required")
	}
}

func TestBadDurationsNameKeyAndLine(t *testing.T) {
	y := "poll_interval: soon\n" + // line 1
		"defaults:\n  step_timeout: 30\n" + // line 3
		"guards: {guard_stale_after: -1s}\n" + // line 4
		strings.Replace(minimalService, "    alarms: [web-5xx]\n", // minimalService starts with a blank line: web is at line 7
			"    alarms: [web-5xx]\n    ready_timeout: 5 minutes\n    guard_stale_after: x\n    strategy: {type: steps, steps: [{percent: 10, bake: 1m}, {percent: 100, bake: 2 hours}]}\n", 1)
	mustRefuse(t, y,
		`poll_interval (line 1): invalid duration "soon"`,
		`defaults.step_timeout (line 3): invalid duration "30"`,
		`guards.guard_stale_after (line 4): duration "-1s" must not be negative`,
		`services.web.ready_timeout (line 18): invalid duration "5 minutes"`,
		`services.web.guard_stale_after (line 19): invalid duration "x"`,
		`services.web.strategy.steps[1].bake (line 20): invalid duration "2 hours"`)
}

func TestStrategyBoundsInConfig(t *testing.T) {
	for _, c := range []struct{ strategy, want string }{
		{"{type: steps, steps: [{percent: 0.01, bake: 1m}, {percent: 100}]}", "services.web.strategy.steps[0].percent: 0.01% rounds to ALB weight 0"},
		{"{type: canary, canary_percent: 5, bake: 25h}", "services.web.strategy.bake: 25h0m0s is longer than the maximum bake of 24h"},
		{"{type: canary, canary_percent: .nan}", "services.web.strategy.canary_percent: must be within (0, 100]"},
		{"{type: steps, steps: [{percent: 10}, {percent: .inf}]}", "services.web.strategy.steps[1].percent: must be within (0, 100]"},
	} {
		mustRefuse(t, strings.Replace(minimalService, "    alarms:", "    strategy: "+c.strategy+"\n    alarms:", 1), c.want)
	}
	mustRefuse(t, "defaults: {strategy: {type: canary, canary_percent: 99.99}}\n"+minimalService, "defaults.strategy.canary_percent: 99.99% rounds to the full weight")
}

func TestGuardSettings(t *testing.T) {
	y := "poll_interval: 2s\nguards: {guard_stale_after: 1m, guard_stale_policy: pause}\n" +
		strings.Replace(minimalService, "    alarms:", "    insufficient_data: ok\n    alarms:", 1) +
		second("    blue_target_group_arn", "    guard_stale_after: 10s\n    guard_stale_policy: rollback\n    insufficient_data: alarm\n    blue_target_group_arn")
	c, err := Parse([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	s := c.DomainServices()
	if w := s["web"]; w.GuardStaleAfter.D() != time.Minute || w.GuardStalePolicy != deploy.StalePause || w.InsufficientData != deploy.InsufficientOK {
		t.Errorf("web: %s %s %s", w.GuardStaleAfter, w.GuardStalePolicy, w.InsufficientData)
	}
	if a := s["api"]; a.GuardStaleAfter.D() != 10*time.Second || a.GuardStalePolicy != deploy.StaleRollback || a.InsufficientData != deploy.InsufficientAlarm {
		t.Errorf("api: %s %s %s", a.GuardStaleAfter, a.GuardStalePolicy, a.InsufficientData)
	}
	mustRefuse(t, "poll_interval: 2s\nguards: {guard_stale_after: 3s, guard_stale_policy: ignore, insufficient_data: maybe}\n"+minimalService,
		"guards.guard_stale_after: 3s must be at least twice poll_interval (2s)",
		`guards.guard_stale_policy: "ignore" must be rollback or pause`,
		`guards.insufficient_data: "maybe" must be stale, ok or alarm`)
	mustRefuse(t, strings.Replace(minimalService, "    alarms:", "    guard_stale_after: 1s\n    alarms:", 1),
		"services.web.guard_stale_after: 1s must be at least twice poll_interval (1s)")
}

func TestRateLimits(t *testing.T) {
	c, err := Parse([]byte("aws: {rate_limits: {elbv2: {rate: 10, burst: 40}, cloudwatch: {rate: 0.5, burst: 1}}}\n" + minimalService))
	if err != nil {
		t.Fatal(err)
	}
	if l := c.AWS.RateLimits["elbv2"]; l.Rate != 10 || l.Burst != 40 {
		t.Fatalf("%+v", c.AWS.RateLimits)
	}
	mustRefuse(t, "aws: {rate_limits: {s3: {rate: 1, burst: 1}, ecs: {rate: 0, burst: 0}, ecr: {rate: -1, burst: 5}, elbv2: {rate: .inf, burst: 2}}}\n"+minimalService,
		"aws.rate_limits.s3: unknown API family",
		"aws.rate_limits.ecs.rate: 0 must be", "aws.rate_limits.ecs.burst: 0 must be at least 1",
		"aws.rate_limits.ecr.rate: -1 must be", "aws.rate_limits.elbv2.rate: +Inf must be")
	mustRefuse(t, "aws: {rate_limits: {ecs: {rate: 1, brust: 2}}}\n"+minimalService, "brust")
}

func TestCountsAndDelaysBounded(t *testing.T) {
	mustRefuse(t, "defaults: {unhealthy_max: -1}\n"+strings.Replace(minimalService, "    alarms:", "    deregistration_delay: 2h\n    unhealthy_max: -2\n    alarms:", 1),
		"defaults.unhealthy_max: must be >= 0", "services.web.unhealthy_max: must be >= 0",
		"services.web.deregistration_delay: 2h0m0s is above the ALB maximum of 1h0m0s")
}
