package provision

import (
	"encoding/json"
	"strings"
	"testing"
)

func validOutput() map[string]any {
	elb := "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
	return map[string]any{
		"schema_version": 1, "region": "us-east-1", "environment": "prod", "environment_suffix": "td01",
		"repository_url": "123456789012.dkr.ecr.us-east-1.amazonaws.com/ecr-app-prod-td01",
		"services": map[string]any{"web": map[string]any{
			"cluster": "ecs-prod-td01", "blue_service": "svc-blue-prod-td01", "green_service": "svc-green-prod-td01",
			"container": "app", "image_repository": "123456789012.dkr.ecr.us-east-1.amazonaws.com/ecr-app-prod-td01",
			"listener_arn":                 elb + "listener/app/alb-prod-td01/1/2",
			"rule_arns":                    []string{elb + "listener-rule/app/alb-prod-td01/1/2/3"},
			"test_listener_arn":            elb + "listener/app/alb-prod-td01/1/4",
			"blue_target_group_arn":        elb + "targetgroup/tg-blue-prod-td01/5",
			"green_target_group_arn":       elb + "targetgroup/tg-green-prod-td01/6",
			"deregistration_delay_seconds": 45,
			"alarm_names":                  []string{"alarm-5xx-prod-td01"},
			"blue_alarm_names":             []string{"alarm-blue-5xx-prod-td01"},
			"green_alarm_names":            []string{"alarm-green-5xx-prod-td01"},
		}},
	}
}

func encode(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func webOf(m map[string]any) map[string]any {
	return m["services"].(map[string]any)["web"].(map[string]any)
}

func TestDecodeController(t *testing.T) {
	out, err := DecodeController(encode(t, validOutput()))
	if err != nil {
		t.Fatal(err)
	}
	web := out.Services["web"]
	if web.DeregistrationDelaySeconds != 45 || len(web.RuleARNs) != 1 || web.GreenService != "svc-green-prod-td01" || len(out.Warnings) != 0 {
		t.Fatalf("decoded %+v", out)
	}

	bad := []struct {
		name   string
		mutate func(m map[string]any)
		want   string
	}{
		{"schema version", func(m map[string]any) { m["schema_version"] = 2 }, "schema_version 2"},
		{"missing top key", func(m map[string]any) { delete(m, "region") }, "missing key region"},
		{"missing service key", func(m map[string]any) { delete(webOf(m), "blue_target_group_arn") }, "services.web: missing key blue_target_group_arn"},
		{"not an arn", func(m map[string]any) { webOf(m)["listener_arn"] = "listener-1" }, "listener_arn: \"listener-1\" is not an ARN"},
		{"wrong arn type", func(m map[string]any) {
			webOf(m)["blue_target_group_arn"] = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/x/1/2"
		}, "is not a targetgroup ARN"},
		{"wrong region", func(m map[string]any) {
			webOf(m)["green_target_group_arn"] = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/g/1"
		}, "is in region eu-west-1"},
		{"same services", func(m map[string]any) { webOf(m)["green_service"] = "svc-blue-prod-td01" }, "are the same"},
		{"empty cluster", func(m map[string]any) { webOf(m)["cluster"] = "" }, "services.web.cluster: empty"},
		{"rule arn", func(m map[string]any) { webOf(m)["rule_arns"] = []string{"arn:aws:s3:::bucket"} }, "rule_arns[0]"},
		{"no services", func(m map[string]any) { m["services"] = map[string]any{} }, "services: empty"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			m := validOutput()
			c.mutate(m)
			_, err := DecodeController(encode(t, m))
			if KindOf(err) != KindInvalidOutput || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %s containing %q", err, KindInvalidOutput, c.want)
			}
		})
	}

	m := validOutput()
	webOf(m)["canary_listener_arn"] = "x"
	out, err = DecodeController(encode(t, m))
	if err != nil || len(out.Warnings) != 1 || !strings.Contains(out.Warnings[0], "canary_listener_arn") {
		t.Fatalf("unknown key: %v, warnings %v", err, out.Warnings)
	}
}
