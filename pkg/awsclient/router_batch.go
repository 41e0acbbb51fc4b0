package awsclient

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// MaxARNsPerDescribe is how many listener or rule ARNs one DescribeListeners/DescribeRules call carries.
// The API documents no limit on the list (only PageSize <= 400, and the answer is paged); 20 keeps the
// cost of locating a deleted ARN (see describeChunk) small while 100 routes still take 5 calls.
const MaxARNsPerDescribe = 20

// DefaultHealthCheckInterval is AWS's default health check interval for a target group.
const DefaultHealthCheckInterval = 30 * time.Second

// ReadRoutes reads the forward weights of many routes: listener default actions with DescribeListeners
// and rules with DescribeRules, MaxARNsPerDescribe ARNs a call. A route that does not exist is absent from
// the result. A route without a forward action fails the whole call (a configuration problem).
func (r *Router) ReadRoutes(ctx context.Context, routes []deploy.Route) (map[deploy.Route]map[string]int, error) {
	var listeners, rules []string
	seen := map[string]bool{}
	for _, rt := range routes {
		switch {
		case rt.RuleARN != "":
			if !seen[rt.RuleARN] {
				seen[rt.RuleARN] = true
				rules = append(rules, rt.RuleARN)
			}
		case rt.ListenerARN != "":
			if !seen[rt.ListenerARN] {
				seen[rt.ListenerARN] = true
				listeners = append(listeners, rt.ListenerARN)
			}
		default:
			return nil, deploy.Errorf("elbv2.ReadRoutes", deploy.KindInvalid, "route has neither a listener nor a rule ARN")
		}
	}
	found := map[string][]elbtypes.Action{}
	if err := r.describeAll(ctx, listeners, r.describeListeners, found); err != nil {
		return nil, err
	}
	if err := r.describeAll(ctx, rules, r.describeRules, found); err != nil {
		return nil, err
	}
	out := make(map[deploy.Route]map[string]int, len(routes))
	for _, rt := range routes {
		arn, op := rt.ListenerARN, "elbv2.DescribeListeners"
		if rt.RuleARN != "" {
			arn, op = rt.RuleARN, "elbv2.DescribeRules"
		}
		actions, ok := found[arn]
		if !ok {
			continue
		}
		i, err := forwardIndex(op, rt, actions)
		if err != nil {
			return nil, err
		}
		r.remember(rt, actions)
		out[rt] = weightsOf(actions[i])
	}
	return out, nil
}

// describeFunc reads the actions of a list of ARNs into found; an unknown ARN in the list fails the call
// with a KindNotFound error (ListenerNotFound/RuleNotFound), as on AWS.
type describeFunc func(ctx context.Context, arns []string, found map[string][]elbtypes.Action) error

func (r *Router) describeAll(ctx context.Context, arns []string, describe describeFunc, found map[string][]elbtypes.Action) error {
	for start := 0; start < len(arns); start += MaxARNsPerDescribe {
		if err := r.describeChunk(ctx, arns[start:min(start+MaxARNsPerDescribe, len(arns))], describe, found); err != nil {
			return err
		}
	}
	return nil
}

// describeChunk reads a chunk; when AWS refuses it because one of its ARNs no longer exists (the error
// does not say which), it reads small chunks one ARN a call and halves larger ones, so one deleted route
// costs about 2·log2(chunk) extra calls and never hides the others. (kumo does the same for listeners;
// for rules it answers an unknown ARN with an empty list, which needs no fallback.)
func (r *Router) describeChunk(ctx context.Context, arns []string, describe describeFunc, found map[string][]elbtypes.Action) error {
	err := describe(ctx, arns, found)
	if err == nil || deploy.KindOf(err) != deploy.KindNotFound {
		return err
	}
	if len(arns) == 1 {
		return nil // this one is gone: absent from the result
	}
	parts := [][]string{arns[:len(arns)/2], arns[len(arns)/2:]}
	if len(arns) <= 4 {
		parts = parts[:0]
		for i := range arns {
			parts = append(parts, arns[i:i+1])
		}
	}
	for _, p := range parts {
		if err := r.describeChunk(ctx, p, describe, found); err != nil {
			return err
		}
	}
	return nil
}

func (r *Router) describeListeners(ctx context.Context, arns []string, found map[string][]elbtypes.Action) error {
	const op = "elbv2.DescribeListeners"
	in := &elbv2.DescribeListenersInput{ListenerArns: arns}
	for {
		out, err := r.api.DescribeListeners(ctx, in)
		if err != nil {
			return mapErr(op, err, "read listeners")
		}
		for _, l := range out.Listeners {
			found[aws.ToString(l.ListenerArn)] = l.DefaultActions
		}
		if aws.ToString(out.NextMarker) == "" || aws.ToString(out.NextMarker) == aws.ToString(in.Marker) {
			return nil
		}
		in = &elbv2.DescribeListenersInput{ListenerArns: arns, Marker: out.NextMarker}
	}
}

func (r *Router) describeRules(ctx context.Context, arns []string, found map[string][]elbtypes.Action) error {
	const op = "elbv2.DescribeRules"
	in := &elbv2.DescribeRulesInput{RuleArns: arns}
	for {
		out, err := r.api.DescribeRules(ctx, in)
		if err != nil {
			return mapErr(op, err, "read listener rules")
		}
		for _, rule := range out.Rules {
			found[aws.ToString(rule.RuleArn)] = rule.Actions
		}
		if aws.ToString(out.NextMarker) == "" || aws.ToString(out.NextMarker) == aws.ToString(in.Marker) {
			return nil
		}
		in = &elbv2.DescribeRulesInput{RuleArns: arns, Marker: out.NextMarker}
	}
}

// HealthCheckInterval returns the target group's health check interval (AWS's default of 30 s when the
// target group does not report one).
func (r *Router) HealthCheckInterval(ctx context.Context, targetGroupARN string) (time.Duration, error) {
	const op = "elbv2.DescribeTargetGroups"
	out, err := r.api.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{targetGroupARN}})
	if err != nil {
		return 0, mapErr(op, err, "read target group "+targetGroupARN)
	}
	for _, tg := range out.TargetGroups {
		if aws.ToString(tg.TargetGroupArn) != targetGroupARN {
			continue
		}
		if tg.HealthCheckIntervalSeconds == nil || *tg.HealthCheckIntervalSeconds <= 0 {
			return DefaultHealthCheckInterval, nil
		}
		return time.Duration(*tg.HealthCheckIntervalSeconds) * time.Second, nil
	}
	return 0, deploy.Errorf(op, deploy.KindNotFound, "target group %s not found", targetGroupARN)
}
