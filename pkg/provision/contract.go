package provision

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// ControllerOutputName is the root output of the stack that switchyard reads (terraform/outputs.tf).
const ControllerOutputName = "controller"

// SchemaVersion is the controller output's schema_version this build understands.
const SchemaVersion = 1

// ControllerOutput is the stack's machine-readable contract with switchyard.
type ControllerOutput struct {
	SchemaVersion     int                      `json:"schema_version"`
	Region            string                   `json:"region"`
	Environment       string                   `json:"environment"`
	EnvironmentSuffix string                   `json:"environment_suffix"`
	RepositoryURL     string                   `json:"repository_url"`
	Services          map[string]ServiceOutput `json:"services"`
	// Warnings lists keys present in the output that this build does not know (a newer stack).
	Warnings []string `json:"-"`
}

// ServiceOutput is one service in the controller output.
type ServiceOutput struct {
	Cluster                    string   `json:"cluster"`
	BlueService                string   `json:"blue_service"`
	GreenService               string   `json:"green_service"`
	Container                  string   `json:"container"`
	ImageRepository            string   `json:"image_repository"`
	ListenerARN                string   `json:"listener_arn"`
	RuleARNs                   []string `json:"rule_arns"`
	TestListenerARN            string   `json:"test_listener_arn"`
	BlueTargetGroupARN         string   `json:"blue_target_group_arn"`
	GreenTargetGroupARN        string   `json:"green_target_group_arn"`
	DeregistrationDelaySeconds int      `json:"deregistration_delay_seconds"`
	AlarmNames                 []string `json:"alarm_names"`
	BlueAlarmNames             []string `json:"blue_alarm_names"`
	GreenAlarmNames            []string `json:"green_alarm_names"`
}

// TopLevelKeys are the keys of the controller output object.
var TopLevelKeys = []string{"schema_version", "region", "environment", "environment_suffix", "repository_url", "services"}

// ServiceKeys maps every key of a service in the controller output to the daemon configuration key
// (pkg/config Service) it is written to. The contract test checks terraform/outputs.tf against exactly
// this set.
var ServiceKeys = map[string]string{
	"cluster":                      "cluster",
	"blue_service":                 "blue_service",
	"green_service":                "green_service",
	"container":                    "container",
	"image_repository":             "image_repository",
	"listener_arn":                 "listener_arn",
	"rule_arns":                    "rule_arns",
	"test_listener_arn":            "test_listener_arn",
	"blue_target_group_arn":        "blue_target_group_arn",
	"green_target_group_arn":       "green_target_group_arn",
	"deregistration_delay_seconds": "deregistration_delay",
	"alarm_names":                  "alarms",
	"blue_alarm_names":             "blue_alarms",
	"green_alarm_names":            "green_alarms",
}

var (
	arnRE = regexp.MustCompile(`^arn:aws[a-z-]*:([a-z0-9-]+):([a-z0-9-]*):(\d{12}):(.+)$`)
)

// DecodeController parses and validates the value of the controller output.
func DecodeController(value []byte) (*ControllerOutput, error) {
	const op = "provision.DecodeController"
	invalid := func(format string, args ...any) error {
		return &Error{Op: op, Kind: KindInvalidOutput, Message: fmt.Sprintf(format, args...)}
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(value, &top); err != nil {
		return nil, invalid("output %q is not an object: %v", ControllerOutputName, err)
	}
	var sv int
	if raw, ok := top["schema_version"]; !ok {
		return nil, invalid("output %q has no schema_version", ControllerOutputName)
	} else if err := json.Unmarshal(raw, &sv); err != nil || sv != SchemaVersion {
		return nil, invalid("output %q has schema_version %s; this switchyard understands %d (upgrade switchyard or pin the stack)", ControllerOutputName, raw, SchemaVersion)
	}
	var problems, warnings []string
	missing, unknown := keyDiff(top, TopLevelKeys)
	for _, k := range missing {
		problems = append(problems, "missing key "+k)
	}
	for _, k := range unknown {
		warnings = append(warnings, "unknown key "+k+" (ignored)")
	}
	var rawServices map[string]map[string]json.RawMessage
	if err := json.Unmarshal(top["services"], &rawServices); err != nil && top["services"] != nil {
		problems = append(problems, "services: not an object of objects: "+err.Error())
	}
	serviceKeys := make([]string, 0, len(ServiceKeys))
	for k := range ServiceKeys {
		serviceKeys = append(serviceKeys, k)
	}
	for name, svc := range rawServices {
		missing, unknown := keyDiff(svc, serviceKeys)
		for _, k := range missing {
			problems = append(problems, fmt.Sprintf("services.%s: missing key %s", name, k))
		}
		for _, k := range unknown {
			warnings = append(warnings, fmt.Sprintf("services.%s: unknown key %s (ignored)", name, k))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, invalid("output %q breaks the contract:\n  - %s", ControllerOutputName, strings.Join(problems, "\n  - "))
	}
	var out ControllerOutput
	dec := json.NewDecoder(bytes.NewReader(value))
	if err := dec.Decode(&out); err != nil {
		return nil, invalid("output %q: %v", ControllerOutputName, err)
	}
	sort.Strings(warnings)
	out.Warnings = warnings
	if err := out.Validate(); err != nil {
		return nil, err
	}
	return &out, nil
}

// Validate checks values: ARNs that look like ARNs of the right resource type and region, names that
// are set, distinct blue and green resources.
func (c *ControllerOutput) Validate() error {
	var p []string
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	if c.SchemaVersion != SchemaVersion {
		add("schema_version: %d, want %d", c.SchemaVersion, SchemaVersion)
	}
	if c.Region == "" {
		add("region: empty")
	}
	if len(c.Services) == 0 {
		add("services: empty (the stack must describe at least one service)")
	}
	names := make([]string, 0, len(c.Services))
	for n := range c.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := c.Services[n]
		pre := "services." + n
		if !deploy.ServiceNameRE.MatchString(n) {
			add("%s: service name must match %s", pre, deploy.ServiceNameRE)
		}
		for k, v := range map[string]string{"cluster": s.Cluster, "blue_service": s.BlueService, "green_service": s.GreenService,
			"container": s.Container, "image_repository": s.ImageRepository} {
			if strings.TrimSpace(v) == "" {
				add("%s.%s: empty", pre, k)
			}
		}
		if s.BlueService != "" && s.BlueService == s.GreenService {
			add("%s: blue_service and green_service are the same (%s)", pre, s.BlueService)
		}
		if s.BlueTargetGroupARN != "" && s.BlueTargetGroupARN == s.GreenTargetGroupARN {
			add("%s: blue and green target groups are the same", pre)
		}
		checkARN := func(key, v, resource string) {
			if msg := arnProblem(v, "elasticloadbalancing", resource, c.Region); msg != "" {
				add("%s.%s: %q %s", pre, key, v, msg)
			}
		}
		checkARN("listener_arn", s.ListenerARN, "listener/")
		checkARN("test_listener_arn", s.TestListenerARN, "listener/")
		checkARN("blue_target_group_arn", s.BlueTargetGroupARN, "targetgroup/")
		checkARN("green_target_group_arn", s.GreenTargetGroupARN, "targetgroup/")
		for i, r := range s.RuleARNs {
			checkARN(fmt.Sprintf("rule_arns[%d]", i), r, "listener-rule/")
		}
		if s.DeregistrationDelaySeconds < 0 || s.DeregistrationDelaySeconds > 3600 {
			add("%s.deregistration_delay_seconds: %d must be 0-3600", pre, s.DeregistrationDelaySeconds)
		}
		for key, list := range map[string][]string{"alarm_names": s.AlarmNames, "blue_alarm_names": s.BlueAlarmNames, "green_alarm_names": s.GreenAlarmNames} {
			for i, a := range list {
				if strings.TrimSpace(a) == "" {
					add("%s.%s[%d]: empty alarm name", pre, key, i)
				}
			}
		}
	}
	if len(p) > 0 {
		sort.Strings(p)
		return &Error{Op: "provision.ControllerOutput.Validate", Kind: KindInvalidOutput,
			Message: fmt.Sprintf("output %q is invalid:\n  - %s", ControllerOutputName, strings.Join(p, "\n  - "))}
	}
	return nil
}

// arnProblem returns why v is not an ARN of service/resource in region, or "".
func arnProblem(v, service, resourcePrefix, region string) string {
	m := arnRE.FindStringSubmatch(v)
	switch {
	case m == nil:
		return "is not an ARN"
	case m[1] != service:
		return "is not an " + service + " ARN"
	case !strings.HasPrefix(m[4], resourcePrefix):
		return "is not a " + strings.TrimSuffix(resourcePrefix, "/") + " ARN"
	case region != "" && m[2] != region:
		return "is in region " + m[2] + ", not " + region
	}
	return ""
}

func keyDiff(got map[string]json.RawMessage, want []string) (missing, unknown []string) {
	w := map[string]bool{}
	for _, k := range want {
		w[k] = true
		if _, ok := got[k]; !ok {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if !w[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(unknown)
	return missing, unknown
}
