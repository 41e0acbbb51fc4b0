package dataplane

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// ELBv2 is the part of the SDK client the data plane reads; *elasticloadbalancingv2.Client has it.
type ELBv2 interface {
	DescribeListeners(ctx context.Context, in *elb.DescribeListenersInput, optFns ...func(*elb.Options)) (*elb.DescribeListenersOutput, error)
	DescribeRules(ctx context.Context, in *elb.DescribeRulesInput, optFns ...func(*elb.Options)) (*elb.DescribeRulesOutput, error)
	DescribeTargetGroups(ctx context.Context, in *elb.DescribeTargetGroupsInput, optFns ...func(*elb.Options)) (*elb.DescribeTargetGroupsOutput, error)
	DescribeTargetGroupAttributes(ctx context.Context, in *elb.DescribeTargetGroupAttributesInput, optFns ...func(*elb.Options)) (*elb.DescribeTargetGroupAttributesOutput, error)
	DescribeTargetHealth(ctx context.Context, in *elb.DescribeTargetHealthInput, optFns ...func(*elb.Options)) (*elb.DescribeTargetHealthOutput, error)
}

// maxForward is the ALB's limit of target groups in one forward action; every action gets this many
// slots in the weight map so that changing which groups it forwards to needs no reload.
const maxForward = 5

// state is what kumo says one tick: the listeners (with their rules in priority order), the target
// groups they reference and each group's registered targets.
type state struct {
	listeners []listener
	groups    map[string]*group // by ARN
}

type listener struct {
	arn     string
	lb      string
	rules   []rule // ascending priority; the default action last, with no condition
	backend string // frontend name
}

type rule struct {
	key     string   // map key: frontend/r<priority> or frontend/default
	paths   []string // path-pattern values (OR); empty = always
	hosts   []string // host-header values (OR)
	forward []weighted
}

type weighted struct {
	tg     string
	weight int
}

type group struct {
	arn, name, backend        string
	port                      int
	hcPath, hcPort, hcMatcher string
	hcProtocol                string
	interval, timeout         int // seconds as configured
	healthy, unhealthy        int
	hcEnabled                 bool
	deregDelay                int // seconds
	targets                   map[string]targetKey
	used                      bool // referenced by an action of a followed listener
}

type targetKey struct {
	id   string
	port int
}

func (t targetKey) addr() string { return t.id + ":" + strconv.Itoa(t.port) }

// read fetches the followed load balancers' configuration and registrations from kumo.
func read(ctx context.Context, c ELBv2, lbs []string) (*state, error) {
	st := &state{groups: map[string]*group{}}
	for _, lb := range lbs {
		ls, err := c.DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: aws.String(lb)})
		if err != nil {
			return nil, fmt.Errorf("describe listeners of %s: %w", lb, err)
		}
		for _, l := range ls.Listeners {
			rs, err := c.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: l.ListenerArn})
			if err != nil {
				return nil, fmt.Errorf("describe rules of %s: %w", aws.ToString(l.ListenerArn), err)
			}
			st.listeners = append(st.listeners, buildListener(lb, l, rs.Rules))
		}
	}
	// kumo lists listeners in no fixed order; the layout (and so the reload decision) must not depend on it.
	sort.Slice(st.listeners, func(i, j int) bool { return st.listeners[i].arn < st.listeners[j].arn })
	var arns []string
	for _, l := range st.listeners {
		for _, r := range l.rules {
			for _, w := range r.forward {
				if _, ok := st.groups[w.tg]; !ok {
					st.groups[w.tg] = nil
					arns = append(arns, w.tg)
				}
			}
		}
	}
	sort.Strings(arns)
	if len(arns) == 0 {
		return st, nil
	}
	tgs, err := c.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{TargetGroupArns: arns})
	if err != nil {
		return nil, fmt.Errorf("describe target groups: %w", err)
	}
	for _, tg := range tgs.TargetGroups {
		g, err := readGroup(ctx, c, tg)
		if err != nil {
			return nil, err
		}
		st.groups[g.arn] = g
	}
	for arn, g := range st.groups {
		if g == nil {
			return nil, fmt.Errorf("target group %s not described", arn)
		}
	}
	return st, nil
}

func readGroup(ctx context.Context, c ELBv2, tg elbtypes.TargetGroup) (*group, error) {
	g := &group{arn: aws.ToString(tg.TargetGroupArn), name: aws.ToString(tg.TargetGroupName),
		port: int(aws.ToInt32(tg.Port)), hcPath: aws.ToString(tg.HealthCheckPath), hcPort: aws.ToString(tg.HealthCheckPort),
		hcProtocol: string(tg.HealthCheckProtocol), interval: int(aws.ToInt32(tg.HealthCheckIntervalSeconds)),
		timeout: int(aws.ToInt32(tg.HealthCheckTimeoutSeconds)), healthy: int(aws.ToInt32(tg.HealthyThresholdCount)),
		unhealthy: int(aws.ToInt32(tg.UnhealthyThresholdCount)), hcEnabled: aws.ToBool(tg.HealthCheckEnabled) || tg.HealthCheckEnabled == nil,
		deregDelay: 300, targets: map[string]targetKey{}, used: true}
	g.backend = backendName(g.arn)
	if tg.Matcher != nil {
		g.hcMatcher = aws.ToString(tg.Matcher.HttpCode)
	}
	applyHealthDefaults(g)
	at, err := c.DescribeTargetGroupAttributes(ctx, &elb.DescribeTargetGroupAttributesInput{TargetGroupArn: tg.TargetGroupArn})
	if err != nil {
		return nil, fmt.Errorf("describe attributes of %s: %w", g.arn, err)
	}
	for _, a := range at.Attributes {
		if aws.ToString(a.Key) == "deregistration_delay.timeout_seconds" {
			if n, err := strconv.Atoi(aws.ToString(a.Value)); err == nil && n >= 0 {
				g.deregDelay = n
			}
		}
	}
	th, err := c.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn})
	if err != nil {
		return nil, fmt.Errorf("describe target health of %s: %w", g.arn, err)
	}
	for _, d := range th.TargetHealthDescriptions {
		if d.Target == nil {
			continue
		}
		k := targetKey{id: aws.ToString(d.Target.Id), port: int(aws.ToInt32(d.Target.Port))}
		if k.port == 0 {
			k.port = g.port
		}
		g.targets[k.addr()] = k
	}
	return g, nil
}

// applyHealthDefaults fills what the API leaves out with the ALB's defaults for HTTP target groups.
func applyHealthDefaults(g *group) {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&g.interval, 30)
	def(&g.timeout, 5)
	def(&g.healthy, 5)
	def(&g.unhealthy, 2)
	if g.hcPath == "" {
		g.hcPath = "/"
	}
	if g.hcMatcher == "" {
		g.hcMatcher = "200"
	}
}

func buildListener(lb string, l elbtypes.Listener, rules []elbtypes.Rule) listener {
	out := listener{arn: aws.ToString(l.ListenerArn), lb: lb}
	out.backend = "l_" + lastSegment(out.arn)
	sort.SliceStable(rules, func(i, j int) bool { return priority(rules[i]) < priority(rules[j]) })
	for _, r := range rules {
		if aws.ToBool(r.IsDefault) || aws.ToString(r.Priority) == "default" {
			continue // the listener's default actions, taken from the listener below
		}
		rr := rule{key: out.backend + "/r" + aws.ToString(r.Priority), forward: forwardOf(r.Actions)}
		for _, c := range r.Conditions {
			switch aws.ToString(c.Field) {
			case "path-pattern":
				rr.paths = append(rr.paths, c.Values...)
				if c.PathPatternConfig != nil {
					rr.paths = append(rr.paths, c.PathPatternConfig.Values...)
				}
			case "host-header":
				rr.hosts = append(rr.hosts, c.Values...)
				if c.HostHeaderConfig != nil {
					rr.hosts = append(rr.hosts, c.HostHeaderConfig.Values...)
				}
			}
		}
		out.rules = append(out.rules, rr)
	}
	out.rules = append(out.rules, rule{key: out.backend + "/default", forward: forwardOf(l.DefaultActions)})
	return out
}

func priority(r elbtypes.Rule) int {
	n, err := strconv.Atoi(aws.ToString(r.Priority))
	if err != nil {
		return 1 << 30
	}
	return n
}

// forwardOf returns the weighted target groups of the first forward action (a bare TargetGroupArn
// is weight 1, as the ALB treats it). Other action types forward nowhere: the proxy answers 503.
func forwardOf(actions []elbtypes.Action) []weighted {
	for _, a := range actions {
		if a.Type != elbtypes.ActionTypeEnumForward {
			continue
		}
		if a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) > 0 {
			var out []weighted
			for _, t := range a.ForwardConfig.TargetGroups {
				w := 1
				if t.Weight != nil {
					w = int(*t.Weight)
				}
				out = append(out, weighted{tg: aws.ToString(t.TargetGroupArn), weight: w})
			}
			if len(out) > maxForward {
				out = out[:maxForward]
			}
			return out
		}
		if a.TargetGroupArn != nil {
			return []weighted{{tg: aws.ToString(a.TargetGroupArn), weight: 1}}
		}
	}
	return nil
}

func lastSegment(arn string) string {
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// backendName is a HAProxy-safe, stable name for a target group: tg_<name>_<id>.
func backendName(arn string) string {
	parts := strings.Split(arn, "/")
	if len(parts) >= 3 {
		return unsafeName.ReplaceAllString("tg_"+parts[len(parts)-2]+"_"+parts[len(parts)-1], "_")
	}
	return unsafeName.ReplaceAllString("tg_"+arn, "_")
}

// serverName is a HAProxy-safe name for a target; prefix p (checked) or b (fail-open backup).
func serverName(prefix string, k targetKey) string {
	return prefix + "_" + unsafeName.ReplaceAllString(k.id, "_") + "_" + strconv.Itoa(k.port)
}
