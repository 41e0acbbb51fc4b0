package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

func TestExampleConfigLoads(t *testing.T) {
	c, err := Load(filepath.Join("..", "..", "configs", "switchyard.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	svcs := c.DomainServices()
	web, ok := svcs["web"]
	if !ok {
		t.Fatal("web missing")
	}
	if len(web.Routes) != 2 || web.Routes[0].RuleARN != "" || web.Routes[1].RuleARN == "" {
		t.Fatalf("routes %+v", web.Routes)
	}
	if web.Strategy.Type != deploy.StrategySteps || len(web.Strategy.Steps) != 4 {
		t.Fatalf("service strategy override lost: %+v", web.Strategy)
	}
	if got := web.AlarmsFor(deploy.SlotGreen); len(got) != 3 || got[0] != "alarm-alb-5xx-prod-td01" {
		t.Fatalf("alarms for green %v", got)
	}
	if web.ReadyTimeout.D() != 10*time.Minute || web.DeregDelay.D() != 30*time.Second {
		t.Fatalf("defaults not applied: %+v", web)
	}
	if c.PollInterval.D() != time.Second || c.Recovery != "resume" {
		t.Fatalf("poll %s recovery %s", c.PollInterval, c.Recovery)
	}
}

func TestDefaultsOnMinimalConfig(t *testing.T) {
	c, err := Parse([]byte(minimalService))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != DefaultListen || c.Store.Driver != "sqlite" || c.Store.Path != DefaultStorePath || c.AWS.Region != "us-east-1" ||
		c.Defaults.Strategy.Type != deploy.StrategyCanary || c.Log.Format != "json" {
		t.Fatalf("%+v", c)
	}
	web := c.DomainServices()["web"]
	if web.GuardStaleAfter.D() != deploy.DefaultGuardStaleAfter || web.GuardStalePolicy != deploy.StaleRollback ||
		web.InsufficientData != deploy.InsufficientStale {
		t.Fatalf("guard defaults not applied: %+v", web)
	}
}

func TestValidationReportsEveryProblemWithItsKey(t *testing.T) {
	bad := `
listen: nope
poll_interval: 10ms
store: {driver: mysql}
aws: {endpoint_url: "http://127.0.0.1:1"}
auth:
  tokens:
    - {name: a, value: x, value_env: Y}
    - {name: a, value: z}
services:
  Web:
    cluster: c
  api:
    cluster: c
    blue_service: same
    green_service: same
    container: app
    image_repository: repo
    blue_target_group_arn: not-an-arn
    green_target_group_arn: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/g/1
    strategy: {type: steps, steps: [{percent: 50}, {percent: 20}]}
`
	_, err := Parse([]byte(bad))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		`listen: "nope" is not host:port`,
		"poll_interval: 10ms must be between 50ms and 1m",
		`store.driver: "mysql" must be sqlite or dynamodb`,
		"aws.static_credentials: must be true",
		"auth.tokens[0] (a): set exactly one of value or value_env",
		`auth.tokens[1].name: "a" is duplicated`,
		"services.Web: service name must match",
		"services.Web.blue_service: required",
		"services.api: blue_service and green_service must differ",
		`services.api.blue_target_group_arn: "not-an-arn" is not an ARN`,
		"services.api: set listener_arn and/or rule_arns",
		"services.api.strategy.steps[1].percent: percent must increase",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestUnknownKeysAreErrors(t *testing.T) {
	if _, err := Parse([]byte("listen: 127.0.0.1:1\npoll_intervall: 1s\n")); err == nil || !strings.Contains(err.Error(), "poll_intervall") {
		t.Fatalf("typo not reported: %v", err)
	}
}

func TestTokenSecretFromEnv(t *testing.T) {
	t.Setenv("SY_TEST_TOKEN", "s3cret")
	if v, err := (Token{Name: "a", ValueEnv: "SY_TEST_TOKEN"}).TokenSecret(); err != nil || v != "s3cret" {
		t.Fatalf("%q %v", v, err)
	}
	os.Unsetenv("SY_TEST_TOKEN")
	if _, err := (Token{Name: "a", ValueEnv: "SY_TEST_TOKEN"}).TokenSecret(); err == nil {
		t.Fatal("empty env accepted")
	}
}

func TestTestListenerMustNotBeAProductionListener(t *testing.T) {
	const base = `
services:
  web:
    cluster: c
    blue_service: b
    green_service: g
    container: app
    image_repository: 123456789012.dkr.ecr.us-east-1.amazonaws.com/web
    listener_arn: arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/alb/1/2
    rule_arns: [arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/alb/1/3/9]
    blue_target_group_arn: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/b/1
    green_target_group_arn: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/g/2
    test_listener_arn: %s
`
	for _, bad := range []string{
		"arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/alb/1/2", // the production listener
		"arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/alb/1/3", // the listener of a production rule
	} {
		_, err := Parse([]byte(fmt.Sprintf(base, bad)))
		if err == nil || !strings.Contains(err.Error(), "is a production listener of service web") {
			t.Errorf("%s accepted as test listener: %v", bad, err)
		}
	}
	if _, err := Parse([]byte(fmt.Sprintf(base, "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/alb/1/8443"))); err != nil {
		t.Fatalf("a separate test listener must be accepted: %v", err)
	}
	if got := ListenerOfRule("arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/alb/1/3/9"); got != "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/alb/1/3" {
		t.Fatalf("ListenerOfRule = %q", got)
	}
}
