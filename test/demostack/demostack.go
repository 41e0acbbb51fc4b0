// Package demostack creates, in the kumo emulator, the AWS side of one switchyard service as the
// Terraform stack would: an ALB with an HTTPS-like listener whose default action and a path rule forward
// to a weighted blue/green target-group pair (blue 999, green 0, stickiness on), CloudWatch alarms that
// guard each colour, and an ECR repository holding the images to deploy. The demo and the end-to-end
// tests use it; ECS comes from test/ecsfake.
package demostack

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// Stack is what was created; its fields fill a service entry of the daemon's config.
type Stack struct {
	Name          string
	LoadBalancer  string
	Listener      string
	Rule          string
	TestListener  string // forwards to one colour only (green at first), like the stack's test listener
	BlueTG        string
	GreenTG       string
	Repository    string // ECR repository name
	RepositoryURI string
	SharedAlarm   string
	BlueAlarm     string
	GreenAlarm    string
	Cluster       string
	BlueService   string
	GreenService  string
	Container     string
	ContainerPort int32
}

// Create builds the stack for a service called name (lowercase, short) and pushes the given image tags.
func Create(ctx context.Context, cfg aws.Config, name string, tags ...string) (*Stack, error) {
	s := &Stack{Name: name, Cluster: "ecs-demo-" + name, BlueService: "svc-blue-" + name, GreenService: "svc-green-" + name,
		Container: "app", ContainerPort: 8000, Repository: "ecr-demo-" + name}
	lb := elb.NewFromConfig(cfg)
	out, err := lb.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("alb-demo-" + name),
		Subnets: []string{"subnet-a", "subnet-b", "subnet-c"}, Type: elbtypes.LoadBalancerTypeEnumApplication})
	if err != nil {
		return nil, fmt.Errorf("create load balancer: %w", err)
	}
	s.LoadBalancer = aws.ToString(out.LoadBalancers[0].LoadBalancerArn)
	for _, c := range []struct {
		slot string
		arn  *string
	}{{"blue", &s.BlueTG}, {"green", &s.GreenTG}} {
		tg, err := lb.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("tg-" + c.slot + "-" + name),
			Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(s.ContainerPort), VpcId: aws.String("vpc-demo"),
			TargetType: elbtypes.TargetTypeEnumIp, HealthCheckPath: aws.String("/healthz")})
		if err != nil {
			return nil, fmt.Errorf("create target group: %w", err)
		}
		*c.arn = aws.ToString(tg.TargetGroups[0].TargetGroupArn)
		if _, err := lb.ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: c.arn,
			Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("1")}}}); err != nil {
			return nil, fmt.Errorf("set deregistration delay: %w", err)
		}
	}
	forward := func() []elbtypes.Action {
		return []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{
			TargetGroups: []elbtypes.TargetGroupTuple{
				{TargetGroupArn: aws.String(s.BlueTG), Weight: aws.Int32(999)},
				{TargetGroupArn: aws.String(s.GreenTG), Weight: aws.Int32(0)},
			},
			TargetGroupStickinessConfig: &elbtypes.TargetGroupStickinessConfig{Enabled: aws.Bool(true), DurationSeconds: aws.Int32(300)},
		}}}
	}
	l, err := lb.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(s.LoadBalancer),
		Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), DefaultActions: forward()})
	if err != nil {
		return nil, fmt.Errorf("create listener: %w", err)
	}
	s.Listener = aws.ToString(l.Listeners[0].ListenerArn)
	r, err := lb.CreateRule(ctx, &elb.CreateRuleInput{ListenerArn: aws.String(s.Listener), Priority: aws.Int32(10),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"),
			PathPatternConfig: &elbtypes.PathPatternConditionConfig{Values: []string{"/api/*"}}}},
		Actions: forward()})
	if err != nil {
		return nil, fmt.Errorf("create rule: %w", err)
	}
	s.Rule = aws.ToString(r.Rules[0].RuleArn)

	tl, err := lb.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(s.LoadBalancer),
		Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8443),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(s.GreenTG)}}})
	if err != nil {
		return nil, fmt.Errorf("create test listener: %w", err)
	}
	s.TestListener = aws.ToString(tl.Listeners[0].ListenerArn)

	cw := cloudwatch.NewFromConfig(cfg)
	s.SharedAlarm, s.BlueAlarm, s.GreenAlarm = "alarm-alb-5xx-"+name, "alarm-blue-5xx-"+name, "alarm-green-5xx-"+name
	for _, a := range []string{s.SharedAlarm, s.BlueAlarm, s.GreenAlarm} {
		if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String(a),
			Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String("HTTPCode_Target_5XX_Count"),
			Statistic: cwtypes.StatisticSum, Period: aws.Int32(10), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(5),
			ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold}); err != nil {
			return nil, fmt.Errorf("put alarm %s: %w", a, err)
		}
		if err := SetAlarm(ctx, cfg, a, "OK"); err != nil {
			return nil, err
		}
	}

	reg := ecr.NewFromConfig(cfg)
	repo, err := reg.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(s.Repository)})
	if err != nil {
		return nil, fmt.Errorf("create repository: %w", err)
	}
	s.RepositoryURI = aws.ToString(repo.Repository.RepositoryUri)
	for _, t := range tags {
		if err := PushImage(ctx, cfg, s.Repository, t); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// PushImage records an image manifest for tag in the repository (what `docker push` ends with).
func PushImage(ctx context.Context, cfg aws.Config, repository, tag string) error {
	// Each tag gets its own config digest: the emulator keys images by manifest digest, so identical
	// manifests would replace each other's tags.
	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1,"digest":"sha256:%x"},"layers":[]}`, sha256.Sum256([]byte(repository+":"+tag)))
	_, err := ecr.NewFromConfig(cfg).PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(repository),
		ImageTag: aws.String(tag), ImageManifest: aws.String(manifest)})
	if err != nil {
		return fmt.Errorf("push %s:%s: %w", repository, tag, err)
	}
	return nil
}

// SetAlarm forces an alarm's state (kumo never evaluates alarms from metric data).
func SetAlarm(ctx context.Context, cfg aws.Config, name, state string) error {
	_, err := cloudwatch.NewFromConfig(cfg).SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(name),
		StateValue: cwtypes.StateValue(state), StateReason: aws.String("set by test: " + strings.ToLower(state))})
	if err != nil {
		return fmt.Errorf("set alarm %s %s: %w", name, state, err)
	}
	return nil
}

// Weights reads the blue/green weights of the listener's default action and of the rule.
func (s *Stack) Weights(ctx context.Context, cfg aws.Config) (listener, rule [2]int32, err error) {
	lb := elb.NewFromConfig(cfg)
	ls, err := lb.DescribeListeners(ctx, &elb.DescribeListenersInput{ListenerArns: []string{s.Listener}})
	if err != nil {
		return listener, rule, err
	}
	rs, err := lb.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{s.Rule}})
	if err != nil {
		return listener, rule, err
	}
	return s.pair(ls.Listeners[0].DefaultActions), s.pair(rs.Rules[0].Actions), nil
}

func (s *Stack) pair(actions []elbtypes.Action) [2]int32 {
	var out [2]int32
	for _, a := range actions {
		if a.ForwardConfig == nil {
			continue
		}
		for _, tg := range a.ForwardConfig.TargetGroups {
			switch aws.ToString(tg.TargetGroupArn) {
			case s.BlueTG:
				out[0] = aws.ToInt32(tg.Weight)
			case s.GreenTG:
				out[1] = aws.ToInt32(tg.Weight)
			}
		}
	}
	return out
}

// ServiceYAML renders the service's entry for the daemon's config.
func (s *Stack) ServiceYAML(strategy string) string {
	return fmt.Sprintf(`  %s:
    cluster: %s
    blue_service: %s
    green_service: %s
    container: %s
    image_repository: %s
    listener_arn: %s
    rule_arns: [%s]
    test_listener_arn: %s
    blue_target_group_arn: %s
    green_target_group_arn: %s
    alarms: [%s]
    blue_alarms: [%s]
    green_alarms: [%s]
    deregistration_delay: 1s
%s`, s.Name, s.Cluster, s.BlueService, s.GreenService, s.Container, s.RepositoryURI, s.Listener, s.Rule, s.TestListener,
		s.BlueTG, s.GreenTG, s.SharedAlarm, s.BlueAlarm, s.GreenAlarm, strategy)
}

// TestListenerTargets reads the target groups the test listener forwards to (with a non-zero weight).
func (s *Stack) TestListenerTargets(ctx context.Context, cfg aws.Config) ([]string, error) {
	ls, err := elb.NewFromConfig(cfg).DescribeListeners(ctx, &elb.DescribeListenersInput{ListenerArns: []string{s.TestListener}})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range ls.Listeners[0].DefaultActions {
		if a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) > 0 {
			for _, tg := range a.ForwardConfig.TargetGroups {
				if tg.Weight == nil || aws.ToInt32(tg.Weight) > 0 {
					out = append(out, aws.ToString(tg.TargetGroupArn))
				}
			}
		} else if a.TargetGroupArn != nil {
			out = append(out, aws.ToString(a.TargetGroupArn))
		}
	}
	return out, nil
}
