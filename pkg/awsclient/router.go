package awsclient

import (
	"context"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// ELBv2API is the part of the ELBv2 API the router uses.
type ELBv2API interface {
	DescribeListeners(ctx context.Context, in *elbv2.DescribeListenersInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error)
	DescribeRules(ctx context.Context, in *elbv2.DescribeRulesInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeRulesOutput, error)
	ModifyListener(ctx context.Context, in *elbv2.ModifyListenerInput, optFns ...func(*elbv2.Options)) (*elbv2.ModifyListenerOutput, error)
	ModifyRule(ctx context.Context, in *elbv2.ModifyRuleInput, optFns ...func(*elbv2.Options)) (*elbv2.ModifyRuleOutput, error)
	DescribeTargetHealth(ctx context.Context, in *elbv2.DescribeTargetHealthInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error)
	DescribeTargetGroupAttributes(ctx context.Context, in *elbv2.DescribeTargetGroupAttributesInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupAttributesOutput, error)
	DescribeTargetGroups(ctx context.Context, in *elbv2.DescribeTargetGroupsInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupsOutput, error)
}

// Router implements deploy.TrafficRouter on an ALB: the weights live in the forward action of a
// listener's default actions or of a listener rule.
type Router struct {
	api   ELBv2API
	cache actionCache
}

// NewRouter returns a router using api (an *elasticloadbalancingv2.Client in production).
func NewRouter(api ELBv2API) *Router { return &Router{api: api} }

// DefaultDeregistrationDelay is AWS's default, used when a target group does not report the attribute.
const DefaultDeregistrationDelay = 300 * time.Second

// GetWeights returns the weight of every target group in the route's forward action. The legacy form
// (a forward action with only TargetGroupArn) reads as weight 1 on that single group, which is how
// AWS itself describes it: all traffic on that group.
func (r *Router) GetWeights(ctx context.Context, route deploy.Route) (map[string]int, error) {
	actions, op, err := r.actions(ctx, route)
	if err != nil {
		return nil, err
	}
	i, err := forwardIndex(op, route, actions)
	if err != nil {
		return nil, err
	}
	r.remember(route, actions)
	return weightsOf(actions[i]), nil
}

func weightsOf(a elbtypes.Action) map[string]int {
	out := map[string]int{}
	if a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) > 0 {
		for _, tg := range a.ForwardConfig.TargetGroups {
			if tg.TargetGroupArn == nil {
				continue
			}
			w := 1 // an omitted weight is AWS's default of 1
			if tg.Weight != nil {
				w = int(*tg.Weight)
			}
			out[*tg.TargetGroupArn] = w
		}
		return out
	}
	if a.TargetGroupArn != nil {
		out[*a.TargetGroupArn] = 1
	}
	return out
}

// SetWeights replaces the weights of the named target groups in the route's forward action and writes
// the actions back in one ModifyListener or ModifyRule call. Everything else is kept: other target groups
// and their weights, stickiness, other actions (authenticate-oidc before the forward, ...), their order
// and, for rules, the conditions (ModifyRule is sent without Conditions, which leaves them unchanged).
// Named target groups missing from the action are added. Weights are validated here because not every
// ALB implementation (the emulator) rejects out-of-range values.
func (r *Router) SetWeights(ctx context.Context, route deploy.Route, weights map[string]int) error {
	const op = "elbv2.SetWeights"
	if len(weights) == 0 {
		return deploy.Errorf(op, deploy.KindInvalid, "no target group weights given for %s", route)
	}
	for arn, w := range weights {
		if arn == "" {
			return deploy.Errorf(op, deploy.KindInvalid, "empty target group ARN in weights for %s", route)
		}
		if w < 0 || w > deploy.MaxWeight {
			return deploy.Errorf(op, deploy.KindInvalid, "weight %d for target group %s out of range 0-%d", w, arn, deploy.MaxWeight)
		}
	}
	what := "set weights on " + route.String()
	return r.rewrite(ctx, route, what, func(actions []elbtypes.Action, i int) ([]elbtypes.Action, error) {
		next, err := withWeights(actions, i, weights)
		return next, deploy.Wrap(op, "", err, what)
	})
}

// ForwardTo makes the route's forward action send everything to one target group, in the plain form
// (TargetGroupArn only) that the Terraform stack declares for the test listener; other actions, their
// order and a rule's conditions are kept.
func (r *Router) ForwardTo(ctx context.Context, route deploy.Route, targetGroupARN string) error {
	const op = "elbv2.ForwardTo"
	if targetGroupARN == "" {
		return deploy.Errorf(op, deploy.KindInvalid, "empty target group ARN for %s", route)
	}
	return r.rewrite(ctx, route, "forward "+route.String()+" to "+targetGroupARN, func(actions []elbtypes.Action, i int) ([]elbtypes.Action, error) {
		next := make([]elbtypes.Action, len(actions))
		for j, a := range actions {
			next[j] = writable(a)
		}
		next[i] = elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, Order: actions[i].Order, TargetGroupArn: aws.String(targetGroupARN)}
		return next, nil
	})
}

// modify writes a route's actions back in one ModifyListener or ModifyRule call (ModifyRule without
// Conditions leaves them unchanged).
func (r *Router) modify(ctx context.Context, route deploy.Route, next []elbtypes.Action, what string) error {
	if route.RuleARN != "" {
		_, err := r.api.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: aws.String(route.RuleARN), Actions: next})
		return mapErr("elbv2.ModifyRule", err, what)
	}
	_, err := r.api.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(route.ListenerARN), DefaultActions: next})
	return mapErr("elbv2.ModifyListener", err, what)
}

// withWeights returns a copy of actions in which the forward action at index i carries the new weights.
func withWeights(actions []elbtypes.Action, i int, weights map[string]int) ([]elbtypes.Action, error) {
	out := make([]elbtypes.Action, len(actions))
	for j, a := range actions {
		out[j] = writable(a)
	}
	fwd := &out[i]
	cfg := &elbtypes.ForwardActionConfig{}
	if fwd.ForwardConfig != nil {
		cfg.TargetGroupStickinessConfig = fwd.ForwardConfig.TargetGroupStickinessConfig
		cfg.TargetGroups = append([]elbtypes.TargetGroupTuple(nil), fwd.ForwardConfig.TargetGroups...)
	}
	if len(cfg.TargetGroups) == 0 && fwd.TargetGroupArn != nil {
		// Legacy single-target-group form: make it an explicit tuple so that it keeps its traffic share.
		cfg.TargetGroups = []elbtypes.TargetGroupTuple{{TargetGroupArn: fwd.TargetGroupArn, Weight: aws.Int32(1)}}
	}
	seen := map[string]bool{}
	for k, tg := range cfg.TargetGroups {
		if tg.TargetGroupArn == nil {
			continue
		}
		seen[*tg.TargetGroupArn] = true
		if w, ok := weights[*tg.TargetGroupArn]; ok {
			cfg.TargetGroups[k].Weight = aws.Int32(int32(w))
		}
	}
	missing := make([]string, 0, len(weights))
	for arn := range weights {
		if !seen[arn] {
			missing = append(missing, arn)
		}
	}
	sort.Strings(missing)
	for _, arn := range missing {
		cfg.TargetGroups = append(cfg.TargetGroups, elbtypes.TargetGroupTuple{TargetGroupArn: aws.String(arn), Weight: aws.Int32(int32(weights[arn]))})
	}
	total := 0
	for _, tg := range cfg.TargetGroups {
		if tg.Weight == nil {
			total++
		} else {
			total += int(*tg.Weight)
		}
	}
	if total == 0 {
		return nil, deploy.Errorf("", deploy.KindInvalid, "all target group weights would be 0: the route would send no traffic")
	}
	fwd.ForwardConfig = cfg
	// AWS rejects a forward action carrying both TargetGroupArn and ForwardConfig with different groups.
	fwd.TargetGroupArn = nil
	return out, nil
}

// writable copies an action as read from Describe* into the form Modify* accepts. The OIDC client secret
// is never returned by Describe*, so the action must say to keep the existing one.
func writable(a elbtypes.Action) elbtypes.Action {
	if a.AuthenticateOidcConfig != nil && a.AuthenticateOidcConfig.ClientSecret == nil {
		c := *a.AuthenticateOidcConfig
		c.UseExistingClientSecret = aws.Bool(true)
		a.AuthenticateOidcConfig = &c
	}
	return a
}

// actions reads the route's current actions and names the Describe call, for errors.
func (r *Router) actions(ctx context.Context, route deploy.Route) ([]elbtypes.Action, string, error) {
	if route.RuleARN != "" {
		const op = "elbv2.DescribeRules"
		out, err := r.api.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{route.RuleARN}})
		if err != nil {
			return nil, op, mapErr(op, err, "read "+route.String())
		}
		for _, rule := range out.Rules {
			if aws.ToString(rule.RuleArn) == route.RuleARN {
				return rule.Actions, op, nil
			}
		}
		return nil, op, deploy.Errorf(op, deploy.KindNotFound, "%s not found", route)
	}
	const op = "elbv2.DescribeListeners"
	if route.ListenerARN == "" {
		return nil, op, deploy.Errorf(op, deploy.KindInvalid, "route has neither a listener nor a rule ARN")
	}
	out, err := r.api.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{route.ListenerARN}})
	if err != nil {
		return nil, op, mapErr(op, err, "read "+route.String())
	}
	for _, l := range out.Listeners {
		if aws.ToString(l.ListenerArn) == route.ListenerARN {
			return l.DefaultActions, op, nil
		}
	}
	return nil, op, deploy.Errorf(op, deploy.KindNotFound, "%s not found", route)
}

// forwardIndex finds the route's forward action. An ALB allows one per rule; a route without one
// cannot carry blue/green weights, which is a setup problem rather than a transient failure.
func forwardIndex(op string, route deploy.Route, actions []elbtypes.Action) (int, error) {
	for i, a := range actions {
		if a.Type == elbtypes.ActionTypeEnumForward {
			return i, nil
		}
	}
	return -1, deploy.Errorf(op, deploy.KindPrecondition, "%s has no forward action", route)
}

// TargetHealth returns every registered target of the target group with its health.
func (r *Router) TargetHealth(ctx context.Context, targetGroupARN string) ([]deploy.Target, error) {
	const op = "elbv2.DescribeTargetHealth"
	out, err := r.api.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(targetGroupARN)})
	if err != nil {
		return nil, mapErr(op, err, "read target health of "+targetGroupARN)
	}
	targets := make([]deploy.Target, 0, len(out.TargetHealthDescriptions))
	for _, d := range out.TargetHealthDescriptions {
		t := deploy.Target{}
		if d.Target != nil {
			t.ID = aws.ToString(d.Target.Id)
			t.Port = int(aws.ToInt32(d.Target.Port))
		}
		if d.TargetHealth != nil {
			t.State = string(d.TargetHealth.State)
			t.Reason = string(d.TargetHealth.Reason)
			if desc := aws.ToString(d.TargetHealth.Description); desc != "" {
				if t.Reason != "" {
					t.Reason += ": "
				}
				t.Reason += desc
			}
		}
		targets = append(targets, t)
	}
	return targets, nil
}

// DeregistrationDelay returns the target group's deregistration_delay.timeout_seconds.
func (r *Router) DeregistrationDelay(ctx context.Context, targetGroupARN string) (time.Duration, error) {
	const op = "elbv2.DescribeTargetGroupAttributes"
	out, err := r.api.DescribeTargetGroupAttributes(ctx, &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(targetGroupARN)})
	if err != nil {
		return 0, mapErr(op, err, "read attributes of "+targetGroupARN)
	}
	for _, a := range out.Attributes {
		if aws.ToString(a.Key) != "deregistration_delay.timeout_seconds" {
			continue
		}
		n, err := strconv.Atoi(aws.ToString(a.Value))
		if err != nil || n < 0 {
			return 0, deploy.Errorf(op, deploy.KindInternal, "target group %s: bad deregistration_delay.timeout_seconds %q", targetGroupARN, aws.ToString(a.Value))
		}
		return time.Duration(n) * time.Second, nil
	}
	return DefaultDeregistrationDelay, nil
}
