package awsclient

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// multiELB holds many listeners and rules and behaves as AWS does: a Describe naming one unknown ARN
// fails as a whole. It counts calls and how many ARNs each carried.
type multiELB struct {
	fakeELB
	mu          sync.Mutex
	listeners   map[string][]elbtypes.Action
	rules       map[string][]elbtypes.Action
	listenerIn  [][]string
	ruleIn      [][]string
	modifyErr   []error // returned by the next Modify calls, in order
	modifyCalls int
}

func newMultiELB() *multiELB {
	return &multiELB{listeners: map[string][]elbtypes.Action{}, rules: map[string][]elbtypes.Action{}}
}

func (f *multiELB) DescribeListeners(_ context.Context, in *elbv2.DescribeListenersInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listenerIn = append(f.listenerIn, in.ListenerArns)
	out := &elbv2.DescribeListenersOutput{}
	for _, arn := range in.ListenerArns {
		a, ok := f.listeners[arn]
		if !ok {
			return nil, &smithy.GenericAPIError{Code: "ListenerNotFound", Message: "One or more listeners not found"}
		}
		out.Listeners = append(out.Listeners, elbtypes.Listener{ListenerArn: aws.String(arn), DefaultActions: a})
	}
	return out, nil
}

func (f *multiELB) DescribeRules(_ context.Context, in *elbv2.DescribeRulesInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeRulesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ruleIn = append(f.ruleIn, in.RuleArns)
	out := &elbv2.DescribeRulesOutput{}
	for _, arn := range in.RuleArns {
		a, ok := f.rules[arn]
		if !ok {
			return nil, &smithy.GenericAPIError{Code: "RuleNotFound", Message: "One or more rules not found"}
		}
		out.Rules = append(out.Rules, elbtypes.Rule{RuleArn: aws.String(arn), Actions: a})
	}
	return out, nil
}

func (f *multiELB) nextModifyErr() error {
	f.modifyCalls++
	if len(f.modifyErr) == 0 {
		return nil
	}
	err := f.modifyErr[0]
	f.modifyErr = f.modifyErr[1:]
	return err
}

func (f *multiELB) ModifyListener(_ context.Context, in *elbv2.ModifyListenerInput, _ ...func(*elbv2.Options)) (*elbv2.ModifyListenerOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.nextModifyErr(); err != nil {
		return nil, err
	}
	f.modifyListener = append(f.modifyListener, in)
	f.listeners[aws.ToString(in.ListenerArn)] = in.DefaultActions
	return &elbv2.ModifyListenerOutput{}, nil
}

func (f *multiELB) ModifyRule(_ context.Context, in *elbv2.ModifyRuleInput, _ ...func(*elbv2.Options)) (*elbv2.ModifyRuleOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.nextModifyErr(); err != nil {
		return nil, err
	}
	f.modifyRule = append(f.modifyRule, in)
	f.rules[aws.ToString(in.RuleArn)] = in.Actions
	return &elbv2.ModifyRuleOutput{}, nil
}

func (f *multiELB) describes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.listenerIn) + len(f.ruleIn)
}

func lARN(i int) string {
	return fmt.Sprintf("arn:aws:elasticloadbalancing:us-east-1:1:listener/app/lb/1/%d", i)
}
func rARN(i int) string {
	return fmt.Sprintf("arn:aws:elasticloadbalancing:us-east-1:1:listener-rule/app/lb/1/1/%d", i)
}

func TestReadRoutesBatchesAndSurvivesADeletedARN(t *testing.T) {
	f := newMultiELB()
	var routes []deploy.Route
	for i := range 45 {
		f.listeners[lARN(i)] = []elbtypes.Action{weighted(false, blueTG, 999-i, greenTG, i)}
		routes = append(routes, deploy.Route{ListenerARN: lARN(i)})
	}
	for i := range 3 {
		f.rules[rARN(i)] = []elbtypes.Action{oidcAction(), weighted(true, blueTG, i, greenTG, 999-i)}
		routes = append(routes, deploy.Route{ListenerARN: lARN(0), RuleARN: rARN(i)})
	}
	delete(f.listeners, lARN(7)) // deleted since configuration: absent, must not blind the others
	routes = append(routes, routes[3])

	got, err := NewRouter(f).ReadRoutes(context.Background(), routes)
	if err != nil {
		t.Fatalf("ReadRoutes: %v", err)
	}
	if len(got) != 44+3 {
		t.Fatalf("want 47 routes read, got %d", len(got))
	}
	if _, ok := got[deploy.Route{ListenerARN: lARN(7)}]; ok {
		t.Errorf("deleted listener is in the result")
	}
	for i := range 45 {
		if i == 7 {
			continue
		}
		w := got[deploy.Route{ListenerARN: lARN(i)}]
		if w[blueTG] != 999-i || w[greenTG] != i {
			t.Errorf("listener %d: got %v", i, w)
		}
	}
	for i := range 3 {
		if w := got[deploy.Route{ListenerARN: lARN(0), RuleARN: rARN(i)}]; w[blueTG] != i || w[greenTG] != 999-i {
			t.Errorf("rule %d: got %v", i, w)
		}
	}
	for _, in := range append(f.listenerIn, f.ruleIn...) {
		if len(in) > MaxARNsPerDescribe {
			t.Errorf("a Describe carried %d ARNs, limit %d", len(in), MaxARNsPerDescribe)
		}
	}
	if len(f.ruleIn) != 1 {
		t.Errorf("want 1 DescribeRules for 3 rules, got %d", len(f.ruleIn))
	}
	// 3 chunks of listeners (20, 20, 5); the one holding the deleted ARN is halved down to chunks of at
	// most 4, read one ARN a call: about 2·log2(20) extra calls, far fewer than one per ARN.
	if n := len(f.listenerIn); n < 4 || n > 3+2*5 {
		t.Errorf("want 4..13 DescribeListeners, got %d: %v", n, f.listenerIn)
	}
}

func TestReadRoutesErrors(t *testing.T) {
	f := newMultiELB()
	f.listeners[lARN(1)] = []elbtypes.Action{oidcAction()}
	_, err := NewRouter(f).ReadRoutes(context.Background(), []deploy.Route{{ListenerARN: lARN(1)}})
	if deploy.KindOf(err) != deploy.KindPrecondition {
		t.Errorf("route without forward action: want precondition, got %v", err)
	}
	f.listeners[lARN(1)] = []elbtypes.Action{weighted(false, blueTG, 1)}
	f.fakeELB.err = nil
	throttled := &multiELBErr{multiELB: f, err: &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}}
	if _, err := NewRouter(throttled).ReadRoutes(context.Background(), []deploy.Route{{ListenerARN: lARN(1)}}); err == nil {
		t.Errorf("a throttled Describe must fail the read, got nil")
	}
	if got, err := NewRouter(f).ReadRoutes(context.Background(), nil); err != nil || len(got) != 0 {
		t.Errorf("no routes: got %v, %v", got, err)
	}
}

// multiELBErr fails every DescribeListeners with err.
type multiELBErr struct {
	*multiELB
	err error
}

func (f *multiELBErr) DescribeListeners(context.Context, *elbv2.DescribeListenersInput, ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error) {
	return nil, f.err
}

func TestHealthCheckInterval(t *testing.T) {
	f := &fakeELB{targetGroups: []elbtypes.TargetGroup{
		{TargetGroupArn: aws.String(blueTG), HealthCheckIntervalSeconds: aws.Int32(5)},
		{TargetGroupArn: aws.String(greenTG)},
	}}
	r := NewRouter(f)
	ctx := context.Background()
	if d, err := r.HealthCheckInterval(ctx, blueTG); err != nil || d != 5*time.Second {
		t.Errorf("blue: got %v, %v; want 5s", d, err)
	}
	if d, err := r.HealthCheckInterval(ctx, greenTG); err != nil || d != DefaultHealthCheckInterval {
		t.Errorf("green (no interval reported): got %v, %v; want the 30 s default", d, err)
	}
	if _, err := r.HealthCheckInterval(ctx, otherTG); deploy.KindOf(err) != deploy.KindNotFound {
		t.Errorf("unknown target group: want not_found, got %v", err)
	}
}

func TestSetWeightsFromCacheWithoutARead(t *testing.T) {
	f := newMultiELB()
	f.listeners[lARN(1)] = []elbtypes.Action{oidcAction(), weighted(true, blueTG, 999, greenTG, 0, otherTG, 5)}
	r := NewRouter(f)
	ctx := context.Background()
	route := deploy.Route{ListenerARN: lARN(1)}

	if _, err := r.ReadRoutes(ctx, []deploy.Route{route}); err != nil {
		t.Fatal(err)
	}
	before := f.describes()
	for _, w := range []int{100, 500, 0} { // forward steps, then the rollback: no read in between
		if err := r.SetWeights(deploy.Urgent(ctx), route, map[string]int{blueTG: 999 - w, greenTG: w}); err != nil {
			t.Fatalf("SetWeights %d: %v", w, err)
		}
	}
	if n := f.describes() - before; n != 0 {
		t.Errorf("SetWeights after a read made %d Describe calls, want 0", n)
	}
	got := f.listeners[lARN(1)]
	if len(got) != 2 || got[0].Type != elbtypes.ActionTypeEnumAuthenticateOidc || !aws.ToBool(got[0].AuthenticateOidcConfig.UseExistingClientSecret) {
		t.Fatalf("other actions not kept: %+v", got)
	}
	if w := tgWeights(got[1]); w[blueTG] != 999 || w[greenTG] != 0 || w[otherTG] != 5 {
		t.Errorf("weights: %v", w)
	}
	if !aws.ToBool(got[1].ForwardConfig.TargetGroupStickinessConfig.Enabled) {
		t.Errorf("stickiness lost")
	}

	// Nothing cached: exactly one read, then the Modify.
	f.rules[rARN(1)] = []elbtypes.Action{weighted(false, blueTG, 999, greenTG, 0)}
	rule := deploy.Route{ListenerARN: lARN(1), RuleARN: rARN(1)}
	before = f.describes()
	if err := r.SetWeights(ctx, rule, map[string]int{blueTG: 0, greenTG: 999}); err != nil {
		t.Fatal(err)
	}
	if err := r.ForwardTo(ctx, rule, greenTG); err != nil {
		t.Fatal(err)
	}
	if n := f.describes() - before; n != 1 {
		t.Errorf("two changes of an uncached rule made %d Describe calls, want 1", n)
	}
	if r.Forget(rule); true {
		before = f.describes()
		if err := r.ForwardTo(ctx, rule, blueTG); err != nil || f.describes()-before != 1 {
			t.Errorf("after Forget: want one fresh read, got %d (%v)", f.describes()-before, err)
		}
	}
}

func TestSetWeightsStaleCacheRetriedOnceFromAFreshRead(t *testing.T) {
	f := newMultiELB()
	route := deploy.Route{ListenerARN: lARN(1)}
	f.listeners[lARN(1)] = []elbtypes.Action{weighted(false, blueTG, 999, otherTG, 0)}
	r := NewRouter(f)
	ctx := context.Background()
	if _, err := r.GetWeights(ctx, route); err != nil {
		t.Fatal(err)
	}
	// Someone replaced otherTG with greenTG since; AWS refuses a Modify that names the deleted group.
	f.listeners[lARN(1)] = []elbtypes.Action{weighted(false, blueTG, 999, greenTG, 0)}
	f.modifyErr = []error{&smithy.GenericAPIError{Code: "TargetGroupNotFound", Message: "otherTG not found"}}
	if err := r.SetWeights(ctx, route, map[string]int{blueTG: 899, greenTG: 100}); err != nil {
		t.Fatalf("SetWeights with a stale cache: %v", err)
	}
	if f.modifyCalls != 2 || len(f.listenerIn) != 2 {
		t.Errorf("want a refused Modify, one fresh read and a second Modify; got %d Modify, %d reads", f.modifyCalls, len(f.listenerIn))
	}
	if w := tgWeights(f.listeners[lARN(1)][0]); len(w) != 2 || w[blueTG] != 899 || w[greenTG] != 100 {
		t.Errorf("weights after the retry: %v (the stale otherTG must not come back)", w)
	}

	// A refusal of a Modify built from a fresh read is returned, not retried again.
	r.Forget(route)
	f.modifyCalls = 0
	f.modifyErr = []error{&smithy.GenericAPIError{Code: "ValidationError", Message: "no"}, &smithy.GenericAPIError{Code: "ValidationError", Message: "no"}}
	if err := r.SetWeights(ctx, route, map[string]int{blueTG: 1}); deploy.KindOf(err) != deploy.KindInvalid || f.modifyCalls != 1 {
		t.Errorf("fresh read refused: want invalid after 1 Modify, got %v after %d", err, f.modifyCalls)
	}

	// A throttled Modify keeps the cache: the next attempt needs no read.
	if _, err := r.GetWeights(ctx, route); err != nil {
		t.Fatal(err)
	}
	f.modifyErr = []error{&smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}}
	if err := r.SetWeights(ctx, route, map[string]int{blueTG: 1}); err == nil {
		t.Fatal("throttled Modify: want an error")
	}
	before := f.describes()
	if err := r.SetWeights(ctx, route, map[string]int{blueTG: 1}); err != nil || f.describes() != before {
		t.Errorf("retry after a throttle: %v, %d reads", err, f.describes()-before)
	}
}
