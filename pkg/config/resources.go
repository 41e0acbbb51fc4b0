package config

import (
	"fmt"
	"regexp"
	"strings"
)

// arnPartsRE splits an ARN: partition, service, region, account, resource.
var arnPartsRE = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov|aws-iso[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):(\d{12}):(.+)$`)

// ecrURIRE matches an ECR repository URI and captures its Region.
var ecrURIRE = regexp.MustCompile(`^\d{12}\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/`)

// arnProblem returns why v is not an ARN of service with a resource starting with resourcePrefix in
// region, or "".
func arnProblem(v, service, resourcePrefix, region string) string {
	m := arnPartsRE.FindStringSubmatch(v)
	kind := strings.TrimSuffix(resourcePrefix, "/")
	switch {
	case m == nil:
		return fmt.Sprintf("%q is not an ARN", v)
	case m[2] != service || !strings.HasPrefix(m[5], resourcePrefix):
		return fmt.Sprintf("%q is not a %s ARN (want arn:aws:%s:%s:ACCOUNT:%s...)", v, kind, service, region, resourcePrefix)
	case m[3] != region:
		return fmt.Sprintf("%q is in region %q, not aws.region %q", v, m[3], region)
	}
	return ""
}

// checkResources checks one service's ARNs (kind and Region) and alarm names.
func (c *Config) checkResources(p string, s *Service, add func(string, ...any)) {
	region := c.AWS.Region
	check := func(key, v, prefix string) {
		if v == "" {
			return
		}
		if msg := arnProblem(v, "elasticloadbalancing", prefix, region); msg != "" {
			add("%s.%s: %s", p, key, msg)
		}
	}
	check("listener_arn", s.ListenerARN, "listener/")
	check("test_listener_arn", s.TestListenerARN, "listener/")
	check("blue_target_group_arn", s.BlueTargetGroupARN, "targetgroup/")
	check("green_target_group_arn", s.GreenTargetGroupARN, "targetgroup/")
	for i, r := range s.RuleARNs {
		check(fmt.Sprintf("rule_arns[%d]", i), r, "listener-rule/")
	}
	if m := ecrURIRE.FindStringSubmatch(s.ImageRepository); m != nil && m[1] != region {
		add("%s.image_repository: %q is an ECR repository in region %q, not aws.region %q", p, s.ImageRepository, m[1], region)
	}
	if strings.HasPrefix(s.Cluster, "arn:") {
		if msg := arnProblem(s.Cluster, "ecs", "cluster/", region); msg != "" {
			add("%s.cluster: %s", p, msg)
		}
	}
	for key, list := range map[string][]string{"alarms": s.Alarms, "blue_alarms": s.BlueAlarms, "green_alarms": s.GreenAlarms} {
		for i, a := range list {
			switch {
			case strings.TrimSpace(a) == "":
				add("%s.%s[%d]: empty alarm name", p, key, i)
			case strings.HasPrefix(a, "arn:"):
				add("%s.%s[%d]: %q is an ARN; alarms are given by name (DescribeAlarms matches names)", p, key, i, a)
			case len(a) > 255:
				add("%s.%s[%d]: alarm names are at most 255 characters", p, key, i)
			}
		}
	}
}

// owner is the service key that uses a resource.
type owner struct{ service, key string }

func (o owner) String() string { return "services." + o.service + "." + o.key }

// checkShared refuses two services sharing what one deployment changes: a listener's default action, a
// listener rule, a target group, an ECS service; and a test listener that is any service's production
// listener (it would bypass every weight step) or another service's test listener. names is sorted.
func (c *Config) checkShared(names []string, add func(string, ...any)) {
	type resource struct{ kind, id string }
	used := map[resource]owner{}
	claim := func(kind, id string, o owner) {
		if id == "" {
			return
		}
		r := resource{kind, id}
		if prev, ok := used[r]; ok && prev.service != o.service {
			add("%s: %s %q is also used by %s (services %s and %s must not share it)", o, kind, id, prev, prev.service, o.service)
			return
		}
		if _, ok := used[r]; !ok {
			used[r] = o
		}
	}
	prod := map[string]owner{} // production listeners (default actions and the listeners of rules)
	for _, n := range names {
		s := c.Services[n]
		if s == nil {
			continue
		}
		claim("listener default action", s.ListenerARN, owner{n, "listener_arn"})
		if s.ListenerARN != "" {
			prod[s.ListenerARN] = owner{n, "listener_arn"}
		}
		for i, r := range s.RuleARNs {
			o := owner{n, fmt.Sprintf("rule_arns[%d]", i)}
			claim("listener rule", r, o)
			if l := ListenerOfRule(r); l != "" {
				if _, ok := prod[l]; !ok {
					prod[l] = o
				}
			}
		}
		claim("target group", s.BlueTargetGroupARN, owner{n, "blue_target_group_arn"})
		claim("target group", s.GreenTargetGroupARN, owner{n, "green_target_group_arn"})
		cluster := clusterName(s.Cluster)
		if s.BlueService != "" {
			claim("ECS service", cluster+"/"+s.BlueService, owner{n, "blue_service"})
		}
		if s.GreenService != "" {
			claim("ECS service", cluster+"/"+s.GreenService, owner{n, "green_service"})
		}
		claim("test listener", s.TestListenerARN, owner{n, "test_listener_arn"})
	}
	for _, n := range names {
		if s := c.Services[n]; s != nil && s.TestListenerARN != "" {
			if o, ok := prod[s.TestListenerARN]; ok {
				add("services.%s.test_listener_arn: %q is a production listener of service %s (%s)", n, s.TestListenerARN, o.service, o)
			}
		}
	}
}

// clusterName reduces a cluster ARN to its name, so that the name and the ARN of one cluster match.
func clusterName(c string) string {
	if i := strings.Index(c, ":cluster/"); i >= 0 && strings.HasPrefix(c, "arn:") {
		return c[i+len(":cluster/"):]
	}
	return c
}
