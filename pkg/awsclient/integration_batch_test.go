package awsclient

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/test/ecsfake"
	"github.com/switchyard/switchyard/test/emulator"
)

// callCounter counts the operations a client sends (one per operation, outside the retry loop).
type callCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *callCounter) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("test.CallCounter",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.mu.Lock()
			if c.n == nil {
				c.n = map[string]int{}
			}
			c.n[awsmiddleware.GetOperationName(ctx)]++
			c.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

func (c *callCounter) get(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[op]
}

func (c *callCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n = nil
}

// Several listeners and rules in one call each, one deleted listener and one deleted rule among them;
// then weight changes built from what was read, without another Describe.
func TestKumoReadRoutesBatched(t *testing.T) {
	k := emulator.Shared(t)
	ctx := emulator.Context(t, time.Minute)
	var count callCounter
	api := elbv2.NewFromConfig(emulator.Config(k.URL), func(o *elbv2.Options) { o.APIOptions = append(o.APIOptions, count.middleware) })

	var albs []alb
	for range 3 {
		albs = append(albs, createALB(t, ctx, api))
	}
	gone := albs[2]
	if _, err := api.DeleteRule(ctx, &elbv2.DeleteRuleInput{RuleArn: aws.String(gone.rule)}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.DeleteListener(ctx, &elbv2.DeleteListenerInput{ListenerArn: aws.String(gone.listener)}); err != nil {
		t.Fatal(err)
	}
	var routes []deploy.Route
	for _, a := range albs {
		routes = append(routes, deploy.Route{ListenerARN: a.listener}, deploy.Route{ListenerARN: a.listener, RuleARN: a.rule})
	}
	r := NewRouter(api)
	count.reset()
	got, err := r.ReadRoutes(ctx, routes)
	if err != nil {
		t.Fatalf("ReadRoutes: %v", err)
	}
	for _, a := range albs[:2] {
		for _, rt := range []deploy.Route{{ListenerARN: a.listener}, {ListenerARN: a.listener, RuleARN: a.rule}} {
			if w := got[rt]; w[a.blue] != 999 || w[a.green] != 0 || len(w) != 2 {
				t.Errorf("%s: weights %v", rt, w)
			}
		}
	}
	if len(got) != 4 {
		t.Errorf("want the 4 live routes only, got %d: %v", len(got), got)
	}
	// One call each when every ARN exists (kumo answers an unknown rule ARN with an empty list); with
	// AWS's whole-call ListenerNotFound the chunk of 3 is halved: at most 1 + 2 + 2 calls.
	nl, nr := count.get("DescribeListeners"), count.get("DescribeRules")
	t.Logf("kumo: %d DescribeListeners and %d DescribeRules for 3 listeners and 3 rules, one of each deleted", nl, nr)
	if nl < 1 || nl > 5 || nr < 1 || nr > 5 {
		t.Errorf("DescribeListeners %d, DescribeRules %d: want 1..5 each", nl, nr)
	}

	// Weight changes from the cache: no Describe, and what AWS holds afterwards is what was meant.
	a := albs[0]
	count.reset()
	if err := r.SetWeights(ctx, deploy.Route{ListenerARN: a.listener}, map[string]int{a.blue: 899, a.green: 100}); err != nil {
		t.Fatal(err)
	}
	if err := r.SetWeights(deploy.Urgent(ctx), deploy.Route{ListenerARN: a.listener, RuleARN: a.rule}, map[string]int{a.blue: 0, a.green: 999}); err != nil {
		t.Fatal(err)
	}
	if n := count.get("DescribeListeners") + count.get("DescribeRules"); n != 0 {
		t.Errorf("SetWeights after ReadRoutes made %d Describe calls, want 0", n)
	}
	fresh := NewRouter(api)
	if w, err := fresh.GetWeights(ctx, deploy.Route{ListenerARN: a.listener}); err != nil || w[a.blue] != 899 || w[a.green] != 100 {
		t.Errorf("listener after a cached SetWeights: %v %v", w, err)
	}
	l, err := api.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{a.listener}})
	if err != nil {
		t.Fatal(err)
	}
	acts := l.Listeners[0].DefaultActions
	if len(acts) != 2 || acts[0].Type != elbtypes.ActionTypeEnumAuthenticateOidc || !aws.ToBool(acts[1].ForwardConfig.TargetGroupStickinessConfig.Enabled) {
		t.Errorf("listener actions after a cached SetWeights lost something: %+v", acts)
	}
	rules, err := api.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{a.rule}})
	if err != nil {
		t.Fatal(err)
	}
	if w := weightsOf(rules.Rules[0].Actions[0]); w[a.blue] != 0 || w[a.green] != 999 || len(rules.Rules[0].Conditions) != 2 {
		t.Errorf("rule after a cached SetWeights: %v, %d conditions", w, len(rules.Rules[0].Conditions))
	}
}

func TestKumoHealthCheckInterval(t *testing.T) {
	c, _ := kumoClients(t)
	ctx := emulator.Context(t, time.Minute)
	out, err := c.ELBv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
		Name: aws.String(name("hc")), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8000),
		VpcId: aws.String("vpc-1234"), TargetType: elbtypes.TargetTypeEnumIp, HealthCheckIntervalSeconds: aws.Int32(7),
	})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := c.Router.HealthCheckInterval(ctx, aws.ToString(out.TargetGroups[0].TargetGroupArn)); err != nil || d != 7*time.Second {
		t.Errorf("HealthCheckInterval: %v %v, want 7s", d, err)
	}
	a := createALB(t, ctx, c.ELBv2) // target groups created without an interval: AWS's default
	if d, err := c.Router.HealthCheckInterval(ctx, a.blue); err != nil || d != DefaultHealthCheckInterval {
		t.Errorf("default HealthCheckInterval: %v %v, want 30s", d, err)
	}
}

// 25 services of one cluster, one of them missing: 3 DescribeServices calls (10 names each at most).
func TestDescribeServicesThroughSDKBatched(t *testing.T) {
	fake := ecsfake.MustStart(t, ecsfake.Options{StartDelay: 20 * time.Millisecond})
	var count callCounter
	cfg := emulator.Config(fake.URL())
	api := ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.APIOptions = append(o.APIOptions, count.middleware) })
	var names []string
	for i := range 25 {
		n := fmt.Sprintf("svc-%02d", i)
		names = append(names, n)
		if i == 17 {
			continue // never created
		}
		if _, err := fake.Seed("prod", n, "web", i%3, "", 8000); err != nil {
			t.Fatal(err)
		}
	}
	ctx := emulator.Context(t, time.Minute)
	got, err := NewContainers(api).DescribeServices(ctx, "prod", names)
	if err != nil {
		t.Fatalf("DescribeServices: %v", err)
	}
	if n := count.get("DescribeServices"); n != 3 {
		t.Errorf("25 names: %d DescribeServices calls, want 3", n)
	}
	if len(got) != 24 {
		t.Errorf("want 24 services, got %d", len(got))
	}
	if _, ok := got["svc-17"]; ok {
		t.Error("the missing service is in the result")
	}
	if s := got["svc-05"]; s.Name != "svc-05" || s.Cluster != "prod" || s.DesiredCount != 2 || !s.Stable() {
		t.Errorf("svc-05: %+v", s)
	}
	if _, err := NewContainers(api).DescribeServices(ctx, "nope", names[:3]); deploy.KindOf(err) != deploy.KindNotFound {
		t.Errorf("unknown cluster: want not_found, got %v", err)
	}
}
