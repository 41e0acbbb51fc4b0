package provision

import (
	"encoding/json"
	"strings"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"
)

// A refresh-only plan as `show -json` prints it, trimmed to resource_drift.
const driftPlanJSON = `{
  "format_version": "1.2",
  "resource_drift": [
    {"address": "module.alb.aws_lb_listener.https", "module_address": "module.alb", "mode": "managed", "type": "aws_lb_listener", "name": "https",
     "change": {"actions": ["update"],
       "before": {"port": 443, "default_action": [{"type": "forward", "target_group_arn": "tg-blue", "forward": []}]},
       "after":  {"port": 443, "default_action": [{"type": "forward", "target_group_arn": null, "forward": [{"target_group": [{"arn": "tg-blue", "weight": 900}, {"arn": "tg-green", "weight": 99}]}]}]}}},
    {"address": "module.alb.aws_lb_listener_rule.prod", "module_address": "module.alb", "mode": "managed", "type": "aws_lb_listener_rule", "name": "prod",
     "change": {"actions": ["update"],
       "before": {"priority": 10, "action": [{"type": "forward", "forward": [{"target_group": [{"arn": "b", "weight": 1}, {"arn": "g", "weight": 0}]}]}], "tags": {"Owner": "a"}},
       "after":  {"priority": 10, "action": [{"type": "forward", "forward": [{"target_group": [{"arn": "b", "weight": 0}, {"arn": "g", "weight": 1}]}]}], "tags": {"Owner": "b"}}}},
    {"address": "module.ecs.aws_ecs_service.this[\"green\"]", "module_address": "module.ecs", "mode": "managed", "type": "aws_ecs_service", "name": "this",
     "change": {"actions": ["update"],
       "before": {"desired_count": 0, "task_definition": "td:1", "tags": null},
       "after":  {"desired_count": 2, "task_definition": "td:7", "tags": {}}}},
    {"address": "module.ecs.aws_appautoscaling_target.this[\"blue\"]", "module_address": "module.ecs", "mode": "managed", "type": "aws_appautoscaling_target", "name": "this",
     "change": {"actions": ["update"],
       "before": {"min_capacity": 2, "max_capacity": 10, "suspended_state": [{"dynamic_scaling_in_suspended": false}]},
       "after":  {"min_capacity": 0, "max_capacity": 10, "suspended_state": [{"dynamic_scaling_in_suspended": true}]}}},
    {"address": "module.network.aws_security_group.alb", "module_address": "module.network", "mode": "managed", "type": "aws_security_group", "name": "alb",
     "change": {"actions": ["update"],
       "before": {"ingress": [{"from_port": 443}]},
       "after":  {"ingress": [{"from_port": 443}, {"from_port": 22}]}}},
    {"address": "module.monitoring.aws_cloudwatch_metric_alarm.x", "module_address": "module.monitoring", "mode": "managed", "type": "aws_cloudwatch_metric_alarm", "name": "x",
     "change": {"actions": ["delete"], "before": {"alarm_name": "x"}, "after": null}},
    {"address": "aws_lb_listener.http", "mode": "managed", "type": "aws_lb_listener", "name": "http",
     "change": {"actions": ["update"],
       "before": {"default_action": [{"type": "redirect"}]},
       "after":  {"default_action": [{"type": "fixed-response"}]}}}
  ]
}`

func TestAnalyzeDrift(t *testing.T) {
	var p tfjson.Plan
	if err := json.Unmarshal([]byte(driftPlanJSON), &p); err != nil {
		t.Fatal(err)
	}
	r := AnalyzeDrift(&p)
	got := map[string]string{}
	for _, d := range r.Drifted {
		got[d.Address] = d.Action + ":" + strings.Join(d.Attributes, ",")
	}
	want := map[string]string{
		"module.alb.aws_lb_listener_rule.prod":            "update:tags.Owner",
		"module.network.aws_security_group.alb":           "update:ingress",
		"module.monitoring.aws_cloudwatch_metric_alarm.x": "delete:(whole resource)",
		"aws_lb_listener.http":                            "update:default_action[0].type",
	}
	if len(got) != len(want) {
		t.Fatalf("drifted = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	owned := map[string]bool{}
	for _, d := range r.Owned {
		owned[d.Address] = true
	}
	for _, a := range []string{"module.alb.aws_lb_listener.https", "module.alb.aws_lb_listener_rule.prod", `module.ecs.aws_ecs_service.this["green"]`, `module.ecs.aws_appautoscaling_target.this["blue"]`} {
		if !owned[a] {
			t.Errorf("%s not reported as controller-owned: %+v", a, r.Owned)
		}
	}
	if !r.HasDrift() {
		t.Error("HasDrift = false")
	}
	var out strings.Builder
	r.Write(&out)
	if !strings.Contains(out.String(), "Drift: 4 resource(s)") {
		t.Errorf("report:\n%s", out.String())
	}

	// Only owned changes: no drift.
	p.ResourceDrift = p.ResourceDrift[:1]
	if r := AnalyzeDrift(&p); r.HasDrift() || len(r.Owned) != 1 {
		t.Errorf("owned-only report %+v", r)
	}
}
