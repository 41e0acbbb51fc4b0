package awsclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsratelimit "github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/switchyard/switchyard/pkg/deploy"
)

const (
	listenerARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/1/2"
	ruleARN     = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/web/1/2/3"
	blueTG      = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/1"
	greenTG     = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green/2"
	otherTG     = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/other/3"
)

// fakeELB holds one listener and one rule in memory and records the Modify calls.
type fakeELB struct {
	listenerActions []elbtypes.Action
	ruleActions     []elbtypes.Action
	ruleConditions  []elbtypes.RuleCondition
	modifyListener  []*elbv2.ModifyListenerInput
	modifyRule      []*elbv2.ModifyRuleInput
	health          []elbtypes.TargetHealthDescription
	attrs           []elbtypes.TargetGroupAttribute
	targetGroups    []elbtypes.TargetGroup
	err             error // returned by every call when set
}

func (f *fakeELB) DescribeListeners(_ context.Context, in *elbv2.DescribeListenersInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	if len(in.ListenerArns) != 1 || in.ListenerArns[0] != listenerARN {
		return nil, &smithy.GenericAPIError{Code: "ListenerNotFound", Message: "no such listener"}
	}
	return &elbv2.DescribeListenersOutput{Listeners: []elbtypes.Listener{{ListenerArn: aws.String(listenerARN), DefaultActions: f.listenerActions}}}, nil
}

func (f *fakeELB) DescribeRules(_ context.Context, in *elbv2.DescribeRulesInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeRulesOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	if len(in.RuleArns) != 1 || in.RuleArns[0] != ruleARN {
		return nil, &smithy.GenericAPIError{Code: "RuleNotFound", Message: "no such rule"}
	}
	return &elbv2.DescribeRulesOutput{Rules: []elbtypes.Rule{{RuleArn: aws.String(ruleARN), Actions: f.ruleActions, Conditions: f.ruleConditions}}}, nil
}

func (f *fakeELB) ModifyListener(_ context.Context, in *elbv2.ModifyListenerInput, _ ...func(*elbv2.Options)) (*elbv2.ModifyListenerOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	f.modifyListener = append(f.modifyListener, in)
	f.listenerActions = in.DefaultActions
	return &elbv2.ModifyListenerOutput{}, nil
}

func (f *fakeELB) ModifyRule(_ context.Context, in *elbv2.ModifyRuleInput, _ ...func(*elbv2.Options)) (*elbv2.ModifyRuleOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	f.modifyRule = append(f.modifyRule, in)
	f.ruleActions = in.Actions
	if in.Conditions != nil {
		f.ruleConditions = in.Conditions
	}
	return &elbv2.ModifyRuleOutput{}, nil
}

func (f *fakeELB) DescribeTargetHealth(_ context.Context, _ *elbv2.DescribeTargetHealthInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &elbv2.DescribeTargetHealthOutput{TargetHealthDescriptions: f.health}, nil
}

func (f *fakeELB) DescribeTargetGroupAttributes(_ context.Context, _ *elbv2.DescribeTargetGroupAttributesInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupAttributesOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &elbv2.DescribeTargetGroupAttributesOutput{Attributes: f.attrs}, nil
}

func (f *fakeELB) DescribeTargetGroups(_ context.Context, in *elbv2.DescribeTargetGroupsInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupsOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	out := &elbv2.DescribeTargetGroupsOutput{}
	for _, tg := range f.targetGroups {
		for _, arn := range in.TargetGroupArns {
			if aws.ToString(tg.TargetGroupArn) == arn {
				out.TargetGroups = append(out.TargetGroups, tg)
			}
		}
	}
	if len(out.TargetGroups) < len(in.TargetGroupArns) {
		return nil, &smithy.GenericAPIError{Code: "TargetGroupNotFound", Message: "no such target group"}
	}
	return out, nil
}

func weighted(stickiness bool, tgs ...any) elbtypes.Action {
	cfg := &elbtypes.ForwardActionConfig{}
	for i := 0; i < len(tgs); i += 2 {
		cfg.TargetGroups = append(cfg.TargetGroups, elbtypes.TargetGroupTuple{TargetGroupArn: aws.String(tgs[i].(string)), Weight: aws.Int32(int32(tgs[i+1].(int)))})
	}
	if stickiness {
		cfg.TargetGroupStickinessConfig = &elbtypes.TargetGroupStickinessConfig{Enabled: aws.Bool(true), DurationSeconds: aws.Int32(3600)}
	}
	return elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: cfg, Order: aws.Int32(2)}
}

func oidcAction() elbtypes.Action {
	return elbtypes.Action{
		Type:  elbtypes.ActionTypeEnumAuthenticateOidc,
		Order: aws.Int32(1),
		AuthenticateOidcConfig: &elbtypes.AuthenticateOidcActionConfig{
			Issuer: aws.String("https://idp.example"), ClientId: aws.String("switchyard"),
			AuthorizationEndpoint: aws.String("https://idp.example/auth"), TokenEndpoint: aws.String("https://idp.example/token"),
			UserInfoEndpoint: aws.String("https://idp.example/userinfo"),
		},
	}
}

func tgWeights(a elbtypes.Action) map[string]int32 {
	out := map[string]int32{}
	for _, t := range a.ForwardConfig.TargetGroups {
		out[*t.TargetGroupArn] = *t.Weight
	}
	return out
}

func TestSetWeightsListenerKeepsEverythingElse(t *testing.T) {
	f := &fakeELB{listenerActions: []elbtypes.Action{oidcAction(), weighted(true, blueTG, 999, greenTG, 0, otherTG, 5)}}
	r := NewRouter(f)
	ctx := context.Background()
	route := deploy.Route{ListenerARN: listenerARN}

	if err := r.SetWeights(ctx, route, map[string]int{blueTG: 899, greenTG: 100}); err != nil {
		t.Fatalf("SetWeights: %v", err)
	}
	if len(f.modifyListener) != 1 || len(f.modifyRule) != 0 {
		t.Fatalf("want exactly one ModifyListener, got %d ModifyListener and %d ModifyRule", len(f.modifyListener), len(f.modifyRule))
	}
	got := f.modifyListener[0].DefaultActions
	if len(got) != 2 {
		t.Fatalf("want 2 actions kept, got %d", len(got))
	}
	if got[0].Type != elbtypes.ActionTypeEnumAuthenticateOidc || aws.ToInt32(got[0].Order) != 1 {
		t.Errorf("authenticate-oidc action not kept first: %+v", got[0])
	}
	if !aws.ToBool(got[0].AuthenticateOidcConfig.UseExistingClientSecret) {
		t.Errorf("OIDC action must ask to keep the existing client secret (Describe never returns it)")
	}
	if aws.ToString(got[0].AuthenticateOidcConfig.Issuer) != "https://idp.example" {
		t.Errorf("OIDC config altered: %+v", got[0].AuthenticateOidcConfig)
	}
	fwd := got[1]
	if aws.ToInt32(fwd.Order) != 2 {
		t.Errorf("forward order changed: %v", aws.ToInt32(fwd.Order))
	}
	want := map[string]int32{blueTG: 899, greenTG: 100, otherTG: 5}
	if w := tgWeights(fwd); !reflect.DeepEqual(w, want) {
		t.Errorf("weights = %v, want %v", w, want)
	}
	if s := fwd.ForwardConfig.TargetGroupStickinessConfig; s == nil || !aws.ToBool(s.Enabled) || aws.ToInt32(s.DurationSeconds) != 3600 {
		t.Errorf("stickiness lost: %+v", s)
	}
	if fwd.TargetGroupArn != nil {
		t.Errorf("TargetGroupArn must be dropped next to ForwardConfig, got %s", *fwd.TargetGroupArn)
	}
	// Target group order is kept.
	if *fwd.ForwardConfig.TargetGroups[0].TargetGroupArn != blueTG || *fwd.ForwardConfig.TargetGroups[2].TargetGroupArn != otherTG {
		t.Errorf("target group order changed: %+v", fwd.ForwardConfig.TargetGroups)
	}

	w, err := r.GetWeights(ctx, route)
	if err != nil {
		t.Fatalf("GetWeights: %v", err)
	}
	if !reflect.DeepEqual(w, map[string]int{blueTG: 899, greenTG: 100, otherTG: 5}) {
		t.Errorf("read back %v", w)
	}
}

func TestSetWeightsRuleLeavesConditionsAlone(t *testing.T) {
	conds := []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/api/*"}}}
	f := &fakeELB{ruleActions: []elbtypes.Action{weighted(false, blueTG, 0, greenTG, 999)}, ruleConditions: conds}
	r := NewRouter(f)
	route := deploy.Route{ListenerARN: listenerARN, RuleARN: ruleARN}
	if err := r.SetWeights(context.Background(), route, map[string]int{greenTG: 0, blueTG: 999}); err != nil {
		t.Fatalf("SetWeights: %v", err)
	}
	if len(f.modifyRule) != 1 || len(f.modifyListener) != 0 {
		t.Fatalf("want one ModifyRule only, got %d/%d", len(f.modifyRule), len(f.modifyListener))
	}
	in := f.modifyRule[0]
	if in.Conditions != nil {
		t.Errorf("ModifyRule must not send conditions, sent %+v", in.Conditions)
	}
	if aws.ToString(in.RuleArn) != ruleARN {
		t.Errorf("rule ARN %q", aws.ToString(in.RuleArn))
	}
	if w := tgWeights(in.Actions[0]); !reflect.DeepEqual(w, map[string]int32{blueTG: 999, greenTG: 0}) {
		t.Errorf("weights %v", w)
	}
	if in.Actions[0].ForwardConfig.TargetGroupStickinessConfig != nil {
		t.Errorf("stickiness appeared from nowhere")
	}
}

func TestLegacySingleTargetGroupForm(t *testing.T) {
	legacy := elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(blueTG)}
	f := &fakeELB{listenerActions: []elbtypes.Action{legacy}}
	r := NewRouter(f)
	ctx := context.Background()
	route := deploy.Route{ListenerARN: listenerARN}

	w, err := r.GetWeights(ctx, route)
	if err != nil {
		t.Fatalf("GetWeights: %v", err)
	}
	if !reflect.DeepEqual(w, map[string]int{blueTG: 1}) {
		t.Fatalf("legacy form read as %v, want only blue", w)
	}
	if err := r.SetWeights(ctx, route, map[string]int{blueTG: 990, greenTG: 9}); err != nil {
		t.Fatalf("SetWeights: %v", err)
	}
	fwd := f.modifyListener[0].DefaultActions[0]
	if fwd.TargetGroupArn != nil {
		t.Errorf("legacy TargetGroupArn must be dropped once ForwardConfig is set")
	}
	if got := tgWeights(fwd); !reflect.DeepEqual(got, map[string]int32{blueTG: 990, greenTG: 9}) {
		t.Errorf("weights %v", got)
	}
	// AWS describes the legacy form with both fields; the same rule applies.
	both := elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(blueTG),
		ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: []elbtypes.TargetGroupTuple{{TargetGroupArn: aws.String(blueTG), Weight: aws.Int32(1)}}}}
	f.listenerActions = []elbtypes.Action{both}
	if w, _ := r.GetWeights(ctx, route); !reflect.DeepEqual(w, map[string]int{blueTG: 1}) {
		t.Errorf("described legacy form read as %v", w)
	}
	// Naming only green keeps blue's implicit weight of 1.
	if err := r.SetWeights(ctx, route, map[string]int{greenTG: 999}); err != nil {
		t.Fatal(err)
	}
	if got := tgWeights(f.modifyListener[1].DefaultActions[0]); !reflect.DeepEqual(got, map[string]int32{blueTG: 1, greenTG: 999}) {
		t.Errorf("weights %v", got)
	}
}

func TestSetWeightsValidates(t *testing.T) {
	f := &fakeELB{listenerActions: []elbtypes.Action{weighted(false, blueTG, 999, greenTG, 0)}}
	r := NewRouter(f)
	route := deploy.Route{ListenerARN: listenerARN}
	for name, w := range map[string]map[string]int{
		"too big":  {blueTG: 1000, greenTG: 0},
		"negative": {blueTG: -1, greenTG: 999},
		"empty":    {},
		"all zero": {blueTG: 0, greenTG: 0},
	} {
		err := r.SetWeights(context.Background(), route, w)
		if deploy.KindOf(err) != deploy.KindInvalid {
			t.Errorf("%s: want invalid, got %v", name, err)
		}
	}
	if len(f.modifyListener) != 0 {
		t.Errorf("invalid weights reached ModifyListener")
	}
}

func TestRouteWithoutForwardAction(t *testing.T) {
	f := &fakeELB{listenerActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse}}}
	r := NewRouter(f)
	_, err := r.GetWeights(context.Background(), deploy.Route{ListenerARN: listenerARN})
	if deploy.KindOf(err) != deploy.KindPrecondition {
		t.Fatalf("want precondition, got %v", err)
	}
}

func TestRouterErrorMapping(t *testing.T) {
	ctx := context.Background()
	r := NewRouter(&fakeELB{})
	_, err := r.GetWeights(ctx, deploy.Route{ListenerARN: "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/x/9/9"})
	assertErr(t, err, deploy.KindNotFound, "elbv2.DescribeListeners")
	_, err = r.GetWeights(ctx, deploy.Route{ListenerARN: listenerARN, RuleARN: ruleARN + "x"})
	assertErr(t, err, deploy.KindNotFound, "elbv2.DescribeRules")

	throttled := &fakeELB{listenerActions: []elbtypes.Action{weighted(false, blueTG, 1, greenTG, 1)}}
	throttled.err = &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}
	err = NewRouter(throttled).SetWeights(ctx, deploy.Route{ListenerARN: listenerARN}, map[string]int{blueTG: 1})
	assertErr(t, err, deploy.KindThrottled, "elbv2.DescribeListeners")

	// Modify failing with ValidationError: the describe succeeded, the error names ModifyListener.
	v := &validatingELB{fakeELB: fakeELB{listenerActions: []elbtypes.Action{weighted(false, blueTG, 1, greenTG, 1)}}}
	err = NewRouter(v).SetWeights(ctx, deploy.Route{ListenerARN: listenerARN}, map[string]int{blueTG: 1})
	assertErr(t, err, deploy.KindInvalid, "elbv2.ModifyListener")

	tgGone := &fakeELB{err: &smithy.GenericAPIError{Code: "TargetGroupNotFound", Message: "gone"}}
	_, err = NewRouter(tgGone).TargetHealth(ctx, blueTG)
	assertErr(t, err, deploy.KindNotFound, "elbv2.DescribeTargetHealth")
}

type validatingELB struct{ fakeELB }

func (v *validatingELB) ModifyListener(context.Context, *elbv2.ModifyListenerInput, ...func(*elbv2.Options)) (*elbv2.ModifyListenerOutput, error) {
	return nil, &smithy.GenericAPIError{Code: "ValidationError", Message: "bad weight"}
}

func assertErr(t *testing.T, err error, kind deploy.Kind, op string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s error from %s, got nil", kind, op)
	}
	if deploy.KindOf(err) != kind {
		t.Errorf("kind = %s, want %s (%v)", deploy.KindOf(err), kind, err)
	}
	var de *deploy.Error
	if !errors.As(err, &de) || de.Op != op {
		t.Errorf("op = %q, want %q (%v)", de.Op, op, err)
	}
}

func TestKindOf(t *testing.T) {
	resp := func(code int) *smithyhttp.Response {
		return &smithyhttp.Response{Response: &http.Response{StatusCode: code}}
	}
	for _, tc := range []struct {
		name string
		err  error
		want deploy.Kind
	}{
		{"listener not found", &smithy.GenericAPIError{Code: "ListenerNotFound"}, deploy.KindNotFound},
		{"rule not found", &smithy.GenericAPIError{Code: "RuleNotFound"}, deploy.KindNotFound},
		{"tg not found", &smithy.GenericAPIError{Code: "TargetGroupNotFound"}, deploy.KindNotFound},
		{"ecs service", &smithy.GenericAPIError{Code: "ServiceNotFoundException"}, deploy.KindNotFound},
		{"repo", &smithy.GenericAPIError{Code: "RepositoryNotFoundException"}, deploy.KindNotFound},
		{"validation", &smithy.GenericAPIError{Code: "ValidationError"}, deploy.KindInvalid},
		{"ecs client", &smithy.GenericAPIError{Code: "ClientException"}, deploy.KindInvalid},
		{"elb throttling", &smithy.GenericAPIError{Code: "Throttling"}, deploy.KindThrottled},
		{"ecs throttling", &smithy.GenericAPIError{Code: "ThrottlingException"}, deploy.KindThrottled},
		{"ec2-style throttling", &smithy.GenericAPIError{Code: "RequestLimitExceeded"}, deploy.KindThrottled},
		{"too many requests", &smithy.GenericAPIError{Code: "TooManyRequestsException"}, deploy.KindThrottled},
		{"throttle after retries", &smithy.OperationError{Err: &retry.MaxAttemptsError{Attempt: 3, Err: &smithyhttp.ResponseError{Response: resp(400), Err: &smithy.GenericAPIError{Code: "Throttling"}}}}, deploy.KindThrottled},
		{"429 without a known code", &smithy.OperationError{Err: &smithyhttp.ResponseError{Response: resp(429), Err: &smithy.GenericAPIError{Code: "Weird"}}}, deploy.KindThrottled},
		{"retry quota exhausted", &smithy.OperationError{Err: errors.Join(errors.New("connection reset"), fmt.Errorf("failed to get rate limit token, %w", awsratelimit.QuotaExceededError{Available: 0, Requested: 5}))}, deploy.KindThrottled},
		{"daemon's own limiter", &smithy.OperationError{Err: deploy.Wrap("elbv2.DescribeRules", "", deploy.Errorf("ratelimit.Wait", deploy.KindThrottled, "budget"), "")}, deploy.KindThrottled},
		{"resource limit is not a throttle", &smithy.GenericAPIError{Code: "LimitExceededException"}, deploy.KindUnavailable},
		{"server fault", &smithy.GenericAPIError{Code: "Weird", Fault: smithy.FaultServer}, deploy.KindUnavailable},
		{"5xx", &smithy.OperationError{Err: &smithyhttp.ResponseError{Response: resp(503), Err: &smithy.GenericAPIError{Code: "Weird"}}}, deploy.KindUnavailable},
		{"access denied", &smithy.GenericAPIError{Code: "AccessDenied"}, deploy.KindInternal},
		{"network", &smithy.OperationError{Err: &smithyhttp.RequestSendError{Err: errors.New("connection refused")}}, deploy.KindUnavailable},
		{"deadline", context.DeadlineExceeded, deploy.KindTimeout},
	} {
		if got := kindOf(tc.err); got != tc.want {
			t.Errorf("%s: kind %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestTargetHealthAndDeregistrationDelay(t *testing.T) {
	f := &fakeELB{
		health: []elbtypes.TargetHealthDescription{
			{Target: &elbtypes.TargetDescription{Id: aws.String("10.0.0.1"), Port: aws.Int32(8000)}, TargetHealth: &elbtypes.TargetHealth{State: elbtypes.TargetHealthStateEnumHealthy}},
			{Target: &elbtypes.TargetDescription{Id: aws.String("10.0.0.2"), Port: aws.Int32(8000)}, TargetHealth: &elbtypes.TargetHealth{
				State: elbtypes.TargetHealthStateEnumUnhealthy, Reason: elbtypes.TargetHealthReasonEnumFailedHealthChecks, Description: aws.String("Health checks failed")}},
		},
		attrs: []elbtypes.TargetGroupAttribute{{Key: aws.String("stickiness.enabled"), Value: aws.String("false")}, {Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("45")}},
	}
	r := NewRouter(f)
	got, err := r.TargetHealth(context.Background(), blueTG)
	if err != nil {
		t.Fatal(err)
	}
	want := []deploy.Target{
		{ID: "10.0.0.1", Port: 8000, State: "healthy"},
		{ID: "10.0.0.2", Port: 8000, State: "unhealthy", Reason: "Target.FailedHealthChecks: Health checks failed"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("targets %+v, want %+v", got, want)
	}
	d, err := r.DeregistrationDelay(context.Background(), blueTG)
	if err != nil || d != 45*time.Second {
		t.Errorf("delay %v, %v; want 45s", d, err)
	}
	f.attrs = []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("soon")}}
	if _, err := r.DeregistrationDelay(context.Background(), blueTG); err == nil {
		t.Errorf("garbage delay accepted")
	}
}

func TestForwardToKeepsOtherActionsAndUsesThePlainForm(t *testing.T) {
	f := &fakeELB{listenerActions: []elbtypes.Action{oidcAction(), weighted(true, blueTG, 999, greenTG, 0)}}
	r := NewRouter(f)
	ctx := context.Background()
	route := deploy.Route{ListenerARN: listenerARN}
	if err := r.ForwardTo(ctx, route, greenTG); err != nil {
		t.Fatal(err)
	}
	if len(f.modifyListener) != 1 {
		t.Fatalf("want one ModifyListener, got %d", len(f.modifyListener))
	}
	got := f.modifyListener[0].DefaultActions
	if len(got) != 2 || got[0].Type != elbtypes.ActionTypeEnumAuthenticateOidc || !aws.ToBool(got[0].AuthenticateOidcConfig.UseExistingClientSecret) {
		t.Fatalf("other actions not kept: %+v", got)
	}
	if fwd := got[1]; aws.ToString(fwd.TargetGroupArn) != greenTG || fwd.ForwardConfig != nil || aws.ToInt32(fwd.Order) != 2 {
		t.Fatalf("forward action %+v, want the plain form to green at order 2", fwd)
	}
	if w, err := r.GetWeights(ctx, route); err != nil || !reflect.DeepEqual(w, map[string]int{greenTG: 1}) {
		t.Fatalf("read back %v %v", w, err)
	}
	if err := r.ForwardTo(ctx, route, ""); deploy.KindOf(err) != deploy.KindInvalid {
		t.Fatalf("empty target group: %v", err)
	}
}
