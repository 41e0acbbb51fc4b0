package provision

import (
	"fmt"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"
)

// OwnedAttributes lists, per resource type, the attributes the controller changes at run time (ALB
// listener/rule forward weights, ECS task definition and desired count, and the auto scaling floor,
// ceiling and suspension that the controller hands between colours after a release and the market-hours
// schedule moves every trading day). Changes to them outside
// Terraform are expected and not drift. Paths are dotted attribute paths without list indices; a change
// at or below a listed path is owned. (Only the forwarding part of a listener/rule action is owned: a
// listener whose action became a redirect or fixed response is real drift.)
var OwnedAttributes = map[string][]string{
	"aws_lb_listener":           {"default_action.forward", "default_action.target_group_arn"},
	"aws_alb_listener":          {"default_action.forward", "default_action.target_group_arn"},
	"aws_lb_listener_rule":      {"action.forward", "action.target_group_arn"},
	"aws_alb_listener_rule":     {"action.forward", "action.target_group_arn"},
	"aws_ecs_service":           {"task_definition", "desired_count"},
	"aws_appautoscaling_target": {"min_capacity", "max_capacity", "suspended_state"},
}

// DriftedResource is one resource changed outside Terraform.
type DriftedResource struct {
	Address    string   `json:"address"`
	Type       string   `json:"type"`
	Action     string   `json:"action"`     // update, delete (deleted outside Terraform), ...
	Attributes []string `json:"attributes"` // changed attribute paths, e.g. tags.Owner
}

// DriftReport is the result of a refresh-only plan, split into drift the operator must look at and
// changes to attributes the controller owns.
type DriftReport struct {
	Drifted []DriftedResource `json:"drifted"`
	Owned   []DriftedResource `json:"owned"` // only controller-owned attributes changed: expected
}

// HasDrift reports whether anything outside the controller's fields changed.
func (r DriftReport) HasDrift() bool { return len(r.Drifted) > 0 }

// Write prints the report for an operator.
func (r DriftReport) Write(w io.Writer) {
	if !r.HasDrift() {
		fmt.Fprintln(w, "No drift: nothing changed outside Terraform apart from the fields the controller owns.")
	} else {
		fmt.Fprintf(w, "Drift: %d resource(s) changed outside Terraform:\n", len(r.Drifted))
		for _, d := range r.Drifted {
			fmt.Fprintf(w, "  %s (%s): %s\n", d.Address, d.Action, strings.Join(d.Attributes, ", "))
		}
	}
	if len(r.Owned) > 0 {
		fmt.Fprintf(w, "Controller-owned changes (expected, ignored): %d resource(s)\n", len(r.Owned))
		for _, d := range r.Owned {
			fmt.Fprintf(w, "  %s: %s\n", d.Address, strings.Join(d.Attributes, ", "))
		}
	}
}

// AnalyzeDrift classifies the resource drift of a refresh-only plan.
func AnalyzeDrift(p *tfjson.Plan) DriftReport {
	var r DriftReport
	if p == nil {
		return r
	}
	for _, rc := range p.ResourceDrift {
		if rc == nil || rc.Change == nil || rc.Change.Actions.NoOp() {
			continue
		}
		action := "update"
		switch {
		case rc.Change.Actions.Delete() && rc.Change.After == nil:
			action = "delete"
		case rc.Change.Actions.Create():
			action = "create"
		}
		var paths []string
		if action == "update" {
			diffPaths("", rc.Change.Before, rc.Change.After, &paths)
		} else {
			paths = []string{"(whole resource)"}
		}
		sort.Strings(paths)
		var drifted, owned []string
		for _, path := range paths {
			if action == "update" && isOwned(rc.Type, path) {
				owned = append(owned, path)
			} else {
				drifted = append(drifted, path)
			}
		}
		if len(drifted) > 0 {
			r.Drifted = append(r.Drifted, DriftedResource{Address: rc.Address, Type: rc.Type, Action: action, Attributes: drifted})
		}
		if len(owned) > 0 {
			r.Owned = append(r.Owned, DriftedResource{Address: rc.Address, Type: rc.Type, Action: action, Attributes: owned})
		}
	}
	return r
}

var indexRE = regexp.MustCompile(`\[[^\]]*\]`)

func isOwned(resourceType, path string) bool {
	norm := indexRE.ReplaceAllString(path, "")
	for _, p := range OwnedAttributes[resourceType] {
		if norm == p || strings.HasPrefix(norm, p+".") {
			return true
		}
	}
	return false
}

// diffPaths appends the paths at which a and b (decoded JSON) differ, descending into objects and
// equal-length lists; a list whose length changed is reported as a whole.
func diffPaths(prefix string, a, b any, out *[]string) {
	join := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			break
		}
		keys := map[string]bool{}
		for k := range av {
			keys[k] = true
		}
		for k := range bv {
			keys[k] = true
		}
		for k := range keys {
			diffPaths(join(k), av[k], bv[k], out)
		}
		return
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			break
		}
		for i := range av {
			diffPaths(fmt.Sprintf("%s[%d]", prefix, i), av[i], bv[i], out)
		}
		return
	}
	if !reflect.DeepEqual(a, b) && !(isEmpty(a) && isEmpty(b)) {
		if prefix == "" {
			prefix = "(whole resource)"
		}
		*out = append(*out, prefix)
	}
}

// isEmpty treats null, [] and {} alike: providers are not consistent about them.
func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}
