package awsclient

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/switchyard/switchyard/pkg/config"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/metrics"
	"github.com/switchyard/switchyard/test/ecsfake"
	"github.com/switchyard/switchyard/test/emulator"
)

func TestMain(m *testing.M) {
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	code := m.Run()
	emulator.StopShared()
	os.Exit(code)
}

var uniq atomic.Int64

// name returns a resource name unique within this test binary (the emulator is shared).
func name(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1e6, uniq.Add(1))
}

// alb is a load balancer with two target groups, a listener whose default action is a weighted forward
// (stickiness on, preceded by an authenticate-oidc action) and a rule with conditions.
type alb struct {
	blue, green, listener, rule string
}

func createALB(t *testing.T, ctx context.Context, api *elbv2.Client) alb {
	t.Helper()
	lb, err := api.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
		Name: aws.String(name("lb")), Type: elbtypes.LoadBalancerTypeEnumApplication,
		Subnets: []string{"subnet-aaaa", "subnet-bbbb"},
	})
	if err != nil {
		t.Fatalf("CreateLoadBalancer: %v", err)
	}
	lbARN := lb.LoadBalancers[0].LoadBalancerArn
	var a alb
	for _, tg := range []*string{&a.blue, &a.green} {
		out, err := api.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
			Name: aws.String(name("tg")), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8000),
			VpcId: aws.String("vpc-1234"), TargetType: elbtypes.TargetTypeEnumIp,
		})
		if err != nil {
			t.Fatalf("CreateTargetGroup: %v", err)
		}
		*tg = aws.ToString(out.TargetGroups[0].TargetGroupArn)
	}
	forward := func(blue, green int32) elbtypes.Action {
		return elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, Order: aws.Int32(2), ForwardConfig: &elbtypes.ForwardActionConfig{
			TargetGroups: []elbtypes.TargetGroupTuple{
				{TargetGroupArn: aws.String(a.blue), Weight: aws.Int32(blue)},
				{TargetGroupArn: aws.String(a.green), Weight: aws.Int32(green)},
			},
			TargetGroupStickinessConfig: &elbtypes.TargetGroupStickinessConfig{Enabled: aws.Bool(true), DurationSeconds: aws.Int32(600)},
		}}
	}
	l, err := api.CreateListener(ctx, &elbv2.CreateListenerInput{
		LoadBalancerArn: lbARN, Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{oidcAction(), forward(999, 0)},
	})
	if err != nil {
		t.Fatalf("CreateListener: %v", err)
	}
	a.listener = aws.ToString(l.Listeners[0].ListenerArn)
	r, err := api.CreateRule(ctx, &elbv2.CreateRuleInput{
		ListenerArn: aws.String(a.listener), Priority: aws.Int32(10),
		Conditions: []elbtypes.RuleCondition{
			{Field: aws.String("path-pattern"), Values: []string{"/api/*", "/ws/*"}},
			{Field: aws.String("host-header"), Values: []string{"dash.example.com"}},
		},
		Actions: []elbtypes.Action{forward(999, 0)},
	})
	if err != nil {
		t.Fatalf("CreateRule: %v", err)
	}
	a.rule = aws.ToString(r.Rules[0].RuleArn)
	return a
}

func kumoClients(t *testing.T) (*Clients, *metrics.Metrics) {
	k := emulator.Shared(t)
	m := metrics.New()
	return FromAWSConfig(emulator.Config(k.URL), m), m
}

func counter(t *testing.T, c *prometheus.CounterVec, labels ...string) float64 {
	t.Helper()
	var d dto.Metric
	if err := c.WithLabelValues(labels...).Write(&d); err != nil {
		t.Fatal(err)
	}
	return d.GetCounter().GetValue()
}

func TestKumoWeightsListenerAndRule(t *testing.T) {
	c, m := kumoClients(t)
	ctx := emulator.Context(t, time.Minute)
	a := createALB(t, ctx, c.ELBv2)
	r := c.Router

	for _, route := range []deploy.Route{{ListenerARN: a.listener}, {ListenerARN: a.listener, RuleARN: a.rule}} {
		w, err := r.GetWeights(ctx, route)
		if err != nil {
			t.Fatalf("%s: GetWeights: %v", route, err)
		}
		if !reflect.DeepEqual(w, map[string]int{a.blue: 999, a.green: 0}) {
			t.Fatalf("%s: initial weights %v", route, w)
		}
		for _, want := range []map[string]int{{a.blue: 989, a.green: 10}, {a.blue: 0, a.green: 999}, {a.blue: 999, a.green: 0}} {
			if err := r.SetWeights(ctx, route, want); err != nil {
				t.Fatalf("%s: SetWeights(%v): %v", route, want, err)
			}
			got, err := r.GetWeights(ctx, route)
			if err != nil {
				t.Fatalf("%s: GetWeights: %v", route, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: read back %v after setting %v", route, got, want)
			}
		}
		// The emulator would store 1000 silently; the router refuses before calling it.
		if err := r.SetWeights(ctx, route, map[string]int{a.blue: 1000}); deploy.KindOf(err) != deploy.KindInvalid {
			t.Errorf("%s: out-of-range weight: %v", route, err)
		}
	}
	if err := r.SetWeights(ctx, deploy.Route{ListenerARN: a.listener}, map[string]int{a.blue: 500, a.green: 499}); err != nil {
		t.Fatal(err)
	}

	// Stickiness, the other action and the order survive on the listener ...
	ls, err := c.ELBv2.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{a.listener}})
	if err != nil {
		t.Fatal(err)
	}
	acts := ls.Listeners[0].DefaultActions
	if len(acts) != 2 || acts[0].Type != elbtypes.ActionTypeEnumAuthenticateOidc || acts[1].Type != elbtypes.ActionTypeEnumForward {
		t.Fatalf("listener actions after SetWeights: %+v", acts)
	}
	if s := acts[1].ForwardConfig.TargetGroupStickinessConfig; s == nil || !aws.ToBool(s.Enabled) || aws.ToInt32(s.DurationSeconds) != 600 {
		t.Errorf("listener stickiness lost: %+v", s)
	}
	// ... and the rule keeps its conditions and stickiness.
	rs, err := c.ELBv2.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{a.rule}})
	if err != nil {
		t.Fatal(err)
	}
	rule := rs.Rules[0]
	conds := map[string][]string{}
	for _, cd := range rule.Conditions {
		conds[aws.ToString(cd.Field)] = cd.Values
	}
	if !reflect.DeepEqual(conds, map[string][]string{"path-pattern": {"/api/*", "/ws/*"}, "host-header": {"dash.example.com"}}) {
		t.Errorf("rule conditions changed: %v", conds)
	}
	if s := rule.Actions[0].ForwardConfig.TargetGroupStickinessConfig; s == nil || !aws.ToBool(s.Enabled) {
		t.Errorf("rule stickiness lost: %+v", s)
	}

	if n := counter(t, m.AWSCalls, ServiceELBv2, "ModifyRule"); n != 3 {
		t.Errorf("ModifyRule counted %v times, want 3", n)
	}
	if n := counter(t, m.AWSCalls, ServiceELBv2, "ModifyListener"); n != 4 {
		t.Errorf("ModifyListener counted %v times, want 4", n)
	}
}

// TestKumoForwardTo re-points a listener (as switchyard does with the test listener) at one colour and
// then the other, each read back through DescribeListeners.
func TestKumoForwardTo(t *testing.T) {
	c, _ := kumoClients(t)
	ctx := emulator.Context(t, time.Minute)
	a := createALB(t, ctx, c.ELBv2)
	route := deploy.Route{ListenerARN: a.listener}
	for _, tg := range []string{a.green, a.blue} {
		if err := c.Router.ForwardTo(ctx, route, tg); err != nil {
			t.Fatalf("ForwardTo(%s): %v", tg, err)
		}
		got, err := c.Router.GetWeights(ctx, route)
		if err != nil || len(got) != 1 || got[tg] == 0 {
			t.Fatalf("after ForwardTo(%s) read back %v %v", tg, got, err)
		}
	}
}

func TestKumoNotFound(t *testing.T) {
	c, m := kumoClients(t)
	ctx := emulator.Context(t, time.Minute)
	a := createALB(t, ctx, c.ELBv2)
	missingListener := a.listener + "0"
	_, err := c.Router.GetWeights(ctx, deploy.Route{ListenerARN: missingListener})
	assertErr(t, err, deploy.KindNotFound, "elbv2.DescribeListeners")
	if n := counter(t, m.AWSErrors, ServiceELBv2, "DescribeListeners", "ListenerNotFound"); n != 1 {
		t.Errorf("ListenerNotFound counted %v times", n)
	}
	_, err = c.Router.GetWeights(ctx, deploy.Route{ListenerARN: a.listener, RuleARN: a.rule + "0"})
	assertErr(t, err, deploy.KindNotFound, "elbv2.DescribeRules")
	_, err = c.Router.TargetHealth(ctx, a.blue+"0")
	assertErr(t, err, deploy.KindNotFound, "elbv2.DescribeTargetHealth")
	_, err = c.Router.DeregistrationDelay(ctx, a.blue+"0")
	assertErr(t, err, deploy.KindNotFound, "elbv2.DescribeTargetGroupAttributes")
}

func TestKumoTargetHealthAndDeregistrationDelay(t *testing.T) {
	c, _ := kumoClients(t)
	ctx := emulator.Context(t, time.Minute)
	a := createALB(t, ctx, c.ELBv2)

	got, err := c.Router.TargetHealth(ctx, a.green)
	if err != nil || len(got) != 0 {
		t.Fatalf("empty target group: %v %v", got, err)
	}
	_, err = c.ELBv2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(a.green), Targets: []elbtypes.TargetDescription{
		{Id: aws.String("10.1.0.1"), Port: aws.Int32(8000)}, {Id: aws.String("10.1.0.2"), Port: aws.Int32(8000)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	got, err = c.Router.TargetHealth(ctx, a.green)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(got, func(i, j int) bool { return got[i].ID < got[j].ID })
	want := []deploy.Target{{ID: "10.1.0.1", Port: 8000, State: "healthy"}, {ID: "10.1.0.2", Port: 8000, State: "healthy"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("targets %+v, want %+v", got, want)
	}

	d, err := c.Router.DeregistrationDelay(ctx, a.green)
	if err != nil || d != 300*time.Second {
		t.Errorf("default delay %v %v, want 300s", d, err)
	}
	_, err = c.ELBv2.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(a.green),
		Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("5")}}})
	if err != nil {
		t.Fatal(err)
	}
	if d, err = c.Router.DeregistrationDelay(ctx, a.green); err != nil || d != 5*time.Second {
		t.Errorf("delay %v %v, want 5s", d, err)
	}
}

func TestKumoAlarmStates(t *testing.T) {
	c, m := kumoClients(t)
	ctx := emulator.Context(t, 2*time.Minute)
	prefix := name("alarm")
	var names []string
	for i := range 130 {
		n := fmt.Sprintf("%s-%03d", prefix, i)
		names = append(names, n)
		_, err := c.CloudWatch.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
			AlarmName: aws.String(n), Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String("HTTPCode_Target_5XX_Count"),
			Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(5),
			ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
		})
		if err != nil {
			t.Fatalf("PutMetricAlarm: %v", err)
		}
	}
	for _, i := range []int{3, 120} {
		_, err := c.CloudWatch.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(names[i]),
			StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("5xx spike")})
		if err != nil {
			t.Fatalf("SetAlarmState: %v", err)
		}
	}
	_, err := c.CloudWatch.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(names[4]), StateValue: cwtypes.StateValueOk, StateReason: aws.String("fine")})
	if err != nil {
		t.Fatal(err)
	}
	asked := append(append([]string(nil), names...), prefix+"-missing")
	got, err := c.Alarms.AlarmStates(ctx, asked)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 130 {
		t.Fatalf("got %d alarm states, want 130", len(got))
	}
	if s := got[names[3]]; !s.Firing() || s.Reason != "5xx spike" || s.UpdatedAt.IsZero() {
		t.Errorf("alarm 3: %+v", s)
	}
	if s := got[names[120]]; !s.Firing() {
		t.Errorf("alarm 120 (second batch): %+v", s)
	}
	if s := got[names[4]]; s.State != "OK" || s.Reason != "fine" {
		t.Errorf("alarm 4: %+v", s)
	}
	if s := got[names[5]]; s.State != "INSUFFICIENT_DATA" {
		t.Errorf("alarm 5 (never evaluated): %+v", s)
	}
	if _, ok := got[prefix+"-missing"]; ok {
		t.Errorf("missing alarm present")
	}
	if n := counter(t, m.AWSCalls, ServiceCloudWatch, "DescribeAlarms"); n != 2 {
		t.Errorf("131 names took %v DescribeAlarms calls, want 2", n)
	}
}

func TestKumoImages(t *testing.T) {
	c, _ := kumoClients(t)
	ctx := emulator.Context(t, time.Minute)
	repo := name("web")
	out, err := c.ECR.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(repo)})
	if err != nil {
		t.Fatal(err)
	}
	uri := aws.ToString(out.Repository.RepositoryUri)
	manifest := `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1,"digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000"},"layers":[]}`
	if _, err := c.ECR.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageTag: aws.String("v1.2.3"), ImageManifest: aws.String(manifest)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		repository, tag string
		exists          bool
	}{
		{uri, "v1.2.3", true},
		{uri, "v9", false},
		{repo, "v1.2.3", true},
		{repo, "latest", false},
	} {
		ok, checked, err := c.Images.TagExists(ctx, tc.repository, tc.tag)
		if err != nil || !checked || ok != tc.exists {
			t.Errorf("TagExists(%s, %s) = %v, %v, %v; want %v", tc.repository, tc.tag, ok, checked, err, tc.exists)
		}
	}
	_, checked, err := c.Images.TagExists(ctx, name("nope"), "v1")
	if !checked || deploy.KindOf(err) != deploy.KindNotFound {
		t.Errorf("missing repository: %v %v", checked, err)
	}
	if _, checked, err := c.Images.TagExists(ctx, "docker.io/library/nginx", "1.27"); checked || err != nil {
		t.Errorf("docker hub image checked=%v err=%v", checked, err)
	}
}

// TestContainersThroughSDK drives the ECS adapter through the real SDK client against ecsfake, whose
// tasks are registered in a kumo target group: the same wiring the daemon's end-to-end tests use.
func TestContainersThroughSDK(t *testing.T) {
	k := emulator.Shared(t)
	kc := FromAWSConfig(emulator.Config(k.URL), nil)
	ctx := emulator.Context(t, time.Minute)
	a := createALB(t, ctx, kc.ELBv2)
	fake := ecsfake.MustStart(t, ecsfake.Options{ELBv2: kc.ELBv2, StartDelay: 20 * time.Millisecond})

	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_PROFILE", "does-not-exist") // would break LoadDefaultConfig: proves it is not used
	m := metrics.New()
	c, err := New(ctx, config.AWS{Region: "us-east-1", EndpointURL: k.URL, Endpoints: map[string]string{"ecs": fake.URL()}, StaticCredentials: true, MaxRetries: 1}, m)
	if err != nil {
		t.Fatal(err)
	}
	td := fake.SeedTaskDefinition("web", "web", "000000000000.dkr.ecr.us-east-1.amazonaws.com/web:v1")
	if _, err := c.ECS.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(td), Tags: []ecstypes.Tag{{Key: aws.String("team"), Value: aws.String("trading")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := fake.Seed("prod", "web-green", td, 0, a.green, 8000); err != nil {
		t.Fatal(err)
	}

	img, err := c.Containers.ContainerImage(ctx, td, "web")
	if err != nil || img != "000000000000.dkr.ecr.us-east-1.amazonaws.com/web:v1" {
		t.Fatalf("ContainerImage: %q %v", img, err)
	}
	newTD, err := c.Containers.RegisterTaskDefinition(ctx, td, "web", "000000000000.dkr.ecr.us-east-1.amazonaws.com/web:v2", map[string]string{"switchyard:deployment": "d-1"})
	if err != nil {
		t.Fatal(err)
	}
	if newTD == td {
		t.Fatalf("no new revision")
	}
	desc, err := c.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(newTD), Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}})
	if err != nil {
		t.Fatal(err)
	}
	ntd := desc.TaskDefinition
	if aws.ToString(ntd.ContainerDefinitions[0].Image) != "000000000000.dkr.ecr.us-east-1.amazonaws.com/web:v2" ||
		aws.ToString(ntd.Cpu) != "256" || ntd.NetworkMode != ecstypes.NetworkModeAwsvpc || len(ntd.ContainerDefinitions[0].PortMappings) != 1 {
		t.Errorf("registered copy: %+v", ntd)
	}
	tags := map[string]string{}
	for _, tg := range desc.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if !reflect.DeepEqual(tags, map[string]string{"team": "trading", "switchyard:deployment": "d-1"}) {
		t.Errorf("tags %v", tags)
	}

	if err := c.Containers.UpdateService(ctx, "prod", "web-green", newTD, 2); err != nil {
		t.Fatal(err)
	}
	s, err := c.Containers.DescribeService(ctx, "prod", "web-green")
	if err != nil {
		t.Fatal(err)
	}
	if s.Stable() || s.Deployments[0].RolloutState != "IN_PROGRESS" || s.Deployments[0].TaskDefinition != newTD {
		t.Errorf("right after UpdateService: %+v", s)
	}
	s = waitStable(t, ctx, c.Containers, "prod", "web-green")
	if s.RunningCount != 2 || s.TaskDefinition != newTD {
		t.Errorf("stable service: %+v", s)
	}
	targets, err := c.Router.TargetHealth(ctx, a.green)
	if err != nil || len(targets) != 2 {
		t.Errorf("targets registered by the fake: %+v %v", targets, err)
	}

	_, err = c.Containers.DescribeService(ctx, "prod", "web-nope")
	assertErr(t, err, deploy.KindNotFound, "ecs.DescribeServices")
	err = c.Containers.UpdateService(ctx, "prod", "web-nope", "", 1)
	assertErr(t, err, deploy.KindNotFound, "ecs.UpdateService")
	if n := counter(t, m.AWSErrors, ServiceECS, "UpdateService", "ServiceNotFoundException"); n != 1 {
		t.Errorf("ServiceNotFoundException counted %v times", n)
	}
	if n := counter(t, m.AWSCalls, ServiceECS, "RegisterTaskDefinition"); n != 1 {
		t.Errorf("RegisterTaskDefinition counted %v times", n)
	}
}

func waitStable(t *testing.T, ctx context.Context, c *Containers, cluster, svc string) deploy.ECSService {
	t.Helper()
	for {
		s, err := c.DescribeService(ctx, cluster, svc)
		if err != nil {
			t.Fatal(err)
		}
		if s.Stable() {
			return s
		}
		select {
		case <-ctx.Done():
			t.Fatalf("service %s never became stable: %+v", svc, s)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestNewStaticCredentials(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	_, err := New(context.Background(), config.AWS{Region: "us-east-1", EndpointURL: "http://127.0.0.1:1", StaticCredentials: true}, nil)
	if err == nil {
		t.Fatal("static credentials without the environment variables must fail")
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "tok")
	c, err := New(context.Background(), config.AWS{Region: "eu-west-1", EndpointURL: "http://127.0.0.1:1", StaticCredentials: true,
		Endpoints: map[string]string{"ecr": "http://127.0.0.1:2"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := c.ECS.Options().Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "AKIDTEST" || creds.SecretAccessKey != "secret" || creds.SessionToken != "tok" || creds.Source != "StaticCredentials" {
		t.Errorf("credentials %+v %v", creds, err)
	}
	if got := aws.ToString(c.ECS.Options().BaseEndpoint); got != "http://127.0.0.1:1" {
		t.Errorf("ecs endpoint %q", got)
	}
	if got := aws.ToString(c.ECR.Options().BaseEndpoint); got != "http://127.0.0.1:2" {
		t.Errorf("ecr endpoint %q", got)
	}
	if c.ELBv2.Options().Region != "eu-west-1" {
		t.Errorf("region %q", c.ELBv2.Options().Region)
	}
	if _, err := New(context.Background(), config.AWS{StaticCredentials: true, Endpoints: map[string]string{"sqs": "http://x"}}, nil); err == nil {
		t.Errorf("unknown endpoint service accepted")
	}
}

// TestMetricsOnNetworkError checks the middleware's error label when nothing answers.
func TestMetricsOnNetworkError(t *testing.T) {
	m := metrics.New()
	cfg := emulator.Config("http://127.0.0.1:1")
	cfg.RetryMaxAttempts = 1
	c := FromAWSConfig(cfg, m)
	_, err := c.Alarms.AlarmStates(context.Background(), []string{"x"})
	if deploy.KindOf(err) != deploy.KindUnavailable {
		t.Errorf("connection refused: %v", err)
	}
	if n := counter(t, m.AWSErrors, ServiceCloudWatch, "DescribeAlarms", "NetworkError"); n != 1 {
		t.Errorf("NetworkError counted %v times", n)
	}
	if n := counter(t, m.AWSCalls, ServiceCloudWatch, "DescribeAlarms"); n != 1 {
		t.Errorf("calls counted %v times", n)
	}
	// A nil *Metrics records nothing and breaks nothing.
	if _, err := FromAWSConfig(cfg, nil).Alarms.AlarmStates(context.Background(), []string{"x"}); deploy.KindOf(err) != deploy.KindUnavailable {
		t.Errorf("nil metrics: %v", err)
	}
}
