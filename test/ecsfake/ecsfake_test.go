package ecsfake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/test/emulator"
)

func TestMain(m *testing.M) {
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	code := m.Run()
	emulator.StopShared()
	os.Exit(code)
}

// recorder is an in-memory TargetRegistrar for tests that do not need kumo.
type recorder struct {
	mu      sync.Mutex
	targets map[string]map[string]int32 // tg -> ip -> port
	fail    error
}

func (r *recorder) RegisterTargets(_ context.Context, in *elbv2.RegisterTargetsInput, _ ...func(*elbv2.Options)) (*elbv2.RegisterTargetsOutput, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return nil, r.fail
	}
	if r.targets == nil {
		r.targets = map[string]map[string]int32{}
	}
	tg := aws.ToString(in.TargetGroupArn)
	if r.targets[tg] == nil {
		r.targets[tg] = map[string]int32{}
	}
	for _, t := range in.Targets {
		r.targets[tg][aws.ToString(t.Id)] = aws.ToInt32(t.Port)
	}
	return &elbv2.RegisterTargetsOutput{}, nil
}

func (r *recorder) DeregisterTargets(_ context.Context, in *elbv2.DeregisterTargetsInput, _ ...func(*elbv2.Options)) (*elbv2.DeregisterTargetsOutput, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range in.Targets {
		delete(r.targets[aws.ToString(in.TargetGroupArn)], aws.ToString(t.Id))
	}
	return &elbv2.DeregisterTargetsOutput{}, nil
}

func (r *recorder) ips(tg string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for ip := range r.targets[tg] {
		out = append(out, ip)
	}
	sort.Strings(out)
	return out
}

const tg = "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/green/1"

func client(f *Fake) *ecs.Client { return ecs.NewFromConfig(f.AWSConfig()) }

// waitFor polls the fake until cond holds; the test's deadline bounds it.
func waitFor(t *testing.T, f *Fake, svc string, cond func(ServiceSnapshot) bool) ServiceSnapshot {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, ok := f.Service(svc)
		if ok && cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition on %s never held; last: %+v", svc, s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func completed(s ServiceSnapshot) bool {
	return len(s.Deployments) == 1 && s.Deployments[0].RolloutState == "COMPLETED"
}

func TestDeploymentLifecycle(t *testing.T) {
	rec := &recorder{}
	f := MustStart(t, Options{ELBv2: rec, StartDelay: 10 * time.Millisecond})
	c := client(f)
	ctx := emulator.Context(t, 30*time.Second)

	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	reg, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"), NetworkMode: ecstypes.NetworkModeAwsvpc, Cpu: aws.String("512"), Memory: aws.String("1024"),
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		RuntimePlatform:         &ecstypes.RuntimePlatform{CpuArchitecture: ecstypes.CPUArchitectureArm64, OperatingSystemFamily: ecstypes.OSFamilyLinux},
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("web"), Image: aws.String("web:v1"),
			PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(8000)}}}},
		Tags: []ecstypes.Tag{{Key: aws.String("team"), Value: aws.String("trading")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	td1 := aws.ToString(reg.TaskDefinition.TaskDefinitionArn)
	if reg.TaskDefinition.Revision != 1 || aws.ToString(reg.TaskDefinition.Family) != "web" {
		t.Errorf("registered: %+v", reg.TaskDefinition)
	}
	desc, err := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web"), Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(desc.TaskDefinition.TaskDefinitionArn) != td1 || desc.TaskDefinition.RuntimePlatform == nil ||
		desc.TaskDefinition.RuntimePlatform.CpuArchitecture != ecstypes.CPUArchitectureArm64 || aws.ToString(desc.TaskDefinition.Memory) != "1024" {
		t.Errorf("described: %+v", desc.TaskDefinition)
	}
	if len(desc.Tags) != 1 || aws.ToString(desc.Tags[0].Key) != "team" {
		t.Errorf("tags: %+v", desc.Tags)
	}
	if d, _ := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(td1)}); len(d.Tags) != 0 {
		t.Errorf("tags returned without Include TAGS")
	}

	_, err = c.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("prod"), ServiceName: aws.String("web-blue"), TaskDefinition: aws.String(td1), DesiredCount: aws.Int32(2),
		LoadBalancers: []ecstypes.LoadBalancer{{TargetGroupArn: aws.String(tg), ContainerName: aws.String("web"), ContainerPort: aws.Int32(8000)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := waitFor(t, f, "web-blue", completed)
	if s.RunningCount != 2 || len(s.Tasks) != 2 || len(rec.ips(tg)) != 2 {
		t.Fatalf("after create: %+v, targets %v", s, rec.ips(tg))
	}
	first := rec.ips(tg)

	// A new task definition: a new deployment, IN_PROGRESS until its tasks start, then the old tasks go.
	f.SetStartDelay(time.Hour)
	reg2, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("web"), Image: aws.String("web:v2")}}})
	if err != nil {
		t.Fatal(err)
	}
	td2 := aws.ToString(reg2.TaskDefinition.TaskDefinitionArn)
	if _, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web-blue"), TaskDefinition: aws.String(td2)}); err != nil {
		t.Fatal(err)
	}
	out, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web-blue", "ghost"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "MISSING" {
		t.Errorf("failures: %+v", out.Failures)
	}
	svc := out.Services[0]
	if len(svc.Deployments) != 2 || aws.ToString(svc.Deployments[0].Status) != "PRIMARY" || svc.Deployments[0].RolloutState != ecstypes.DeploymentRolloutStateInProgress ||
		aws.ToString(svc.Deployments[0].TaskDefinition) != td2 || aws.ToString(svc.TaskDefinition) != td2 || svc.RunningCount != 2 || svc.PendingCount != 2 {
		t.Fatalf("in progress: %+v", svc)
	}
	if svc.CreatedAt == nil || svc.Deployments[0].CreatedAt == nil || time.Since(*svc.CreatedAt) > time.Minute {
		t.Errorf("timestamps: %v", svc.CreatedAt)
	}
	// A newer update supersedes the pending one: only the latest deployment starts tasks.
	f.SetStartDelay(10 * time.Millisecond)
	if _, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web-blue"), DesiredCount: aws.Int32(3)}); err != nil {
		t.Fatal(err)
	}
	s = waitFor(t, f, "web-blue", completed)
	if s.RunningCount != 3 || s.TaskDefinition != td2 || s.Deployments[0].TaskDefinition != td2 || len(s.Tasks) != 3 {
		t.Fatalf("after update: %+v", s)
	}
	now := rec.ips(tg)
	if len(now) != 3 {
		t.Fatalf("targets %v", now)
	}
	for _, ip := range first {
		for _, n := range now {
			if ip == n {
				t.Errorf("old task %s still registered", ip)
			}
		}
	}

	tasks, err := c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("prod"), ServiceName: aws.String("web-blue")})
	if err != nil || len(tasks.TaskArns) != 3 {
		t.Fatalf("ListTasks: %v %v", tasks, err)
	}
	dt, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: tasks.TaskArns})
	if err != nil || len(dt.Tasks) != 3 {
		t.Fatalf("DescribeTasks: %v", err)
	}
	for _, tk := range dt.Tasks {
		ip := aws.ToString(tk.Containers[0].NetworkInterfaces[0].PrivateIpv4Address)
		if _, ok := rec.targets[tg][ip]; !ok || aws.ToString(tk.LastStatus) != "RUNNING" || aws.ToString(tk.TaskDefinitionArn) != td2 {
			t.Errorf("task %+v (ip %s) not registered", tk, ip)
		}
	}

	// Scaling to zero deregisters everything.
	if _, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web-blue"), DesiredCount: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	s = waitFor(t, f, "web-blue", completed)
	if s.RunningCount != 0 || len(rec.ips(tg)) != 0 {
		t.Errorf("scaled to zero: %+v, targets %v", s, rec.ips(tg))
	}
	if s.Updates != 3 {
		t.Errorf("updates %d, want 3", s.Updates)
	}
}

func TestFailNext(t *testing.T) {
	rec := &recorder{}
	f := MustStart(t, Options{ELBv2: rec, StartDelay: 5 * time.Millisecond})
	c := client(f)
	ctx := emulator.Context(t, 30*time.Second)
	td1, err := f.Seed("prod", "web-green", "web", 2, tg, 8000)
	if err != nil {
		t.Fatal(err)
	}
	seeded := rec.ips(tg)
	if len(seeded) != 2 {
		t.Fatalf("seed registered %v", seeded)
	}
	td2 := f.SeedTaskDefinition("web", DefaultContainer, "web:v2")
	f.FailNext("web-green", "tasks failed to start: CannotPullContainerError")
	if _, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web-green"), TaskDefinition: aws.String(td2)}); err != nil {
		t.Fatal(err)
	}
	s := waitFor(t, f, "web-green", func(s ServiceSnapshot) bool { return s.Deployments[0].RolloutState == "FAILED" })
	d := s.Deployments[0]
	if d.Status != "PRIMARY" || d.RolloutReason != "tasks failed to start: CannotPullContainerError" || d.FailedTasks == 0 || d.RunningCount != 0 {
		t.Errorf("failed deployment: %+v", d)
	}
	if got := rec.ips(tg); len(got) != 2 || got[0] != seeded[0] || got[1] != seeded[1] {
		t.Errorf("a failed deployment changed the targets: %v", got)
	}
	out, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web-green"}})
	if err != nil {
		t.Fatal(err)
	}
	if dep := out.Services[0].Deployments[0]; dep.RolloutState != ecstypes.DeploymentRolloutStateFailed || dep.FailedTasks == 0 || aws.ToString(dep.RolloutStateReason) == "" {
		t.Errorf("over the wire: %+v", dep)
	}
	// Only the next deployment fails: rolling back to td1 completes.
	if _, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web-green"), TaskDefinition: aws.String(td1)}); err != nil {
		t.Fatal(err)
	}
	s = waitFor(t, f, "web-green", completed)
	if s.TaskDefinition != td1 || s.RunningCount != 2 || len(rec.ips(tg)) != 2 {
		t.Errorf("after rollback: %+v", s)
	}
}

func TestRegistrationFailureFailsDeployment(t *testing.T) {
	rec := &recorder{}
	f := MustStart(t, Options{ELBv2: rec, StartDelay: time.Millisecond})
	c := client(f)
	ctx := emulator.Context(t, 30*time.Second)
	if _, err := f.Seed("prod", "web", "web", 0, tg, 8000); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	rec.fail = &smithy.GenericAPIError{Code: "TargetGroupNotFound", Message: "gone"}
	rec.mu.Unlock()
	if _, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web"), DesiredCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	s := waitFor(t, f, "web", func(s ServiceSnapshot) bool { return s.Deployments[0].RolloutState == "FAILED" })
	if len(f.RegistrationErrors()) != 1 || s.RunningCount != 0 {
		t.Errorf("snapshot %+v, errors %v", s, f.RegistrationErrors())
	}
}

func TestErrors(t *testing.T) {
	f := MustStart(t, Options{})
	c := client(f)
	ctx := emulator.Context(t, 30*time.Second)
	code := func(err error) string {
		var ae smithy.APIError
		if err == nil {
			return ""
		}
		if !errors.As(err, &ae) {
			return "not an API error: " + err.Error()
		}
		return ae.ErrorCode()
	}
	_, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("nope"), Services: []string{"x"}})
	if code(err) != "ClusterNotFoundException" {
		t.Errorf("cluster: %v", err)
	}
	if _, err := f.Seed("prod", "web", "web", 0, "", 0); err != nil {
		t.Fatal(err)
	}
	_, err = c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("ghost"), DesiredCount: aws.Int32(1)})
	if code(err) != "ServiceNotFoundException" {
		t.Errorf("service: %v", err)
	}
	_, err = c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web"), TaskDefinition: aws.String("web:99")})
	if code(err) != "ClientException" {
		t.Errorf("unknown task definition: %v", err)
	}
	_, err = c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("web")}}})
	if code(err) != "ClientException" {
		t.Errorf("no image: %v", err)
	}
	_, err = c.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String("prod"), Service: aws.String("web")})
	if code(err) != "UnknownOperationException" {
		t.Errorf("unimplemented operation: %v", err)
	}
	// Raw protocol check: an unknown target answers a JSON error with HTTP 400.
	req, _ := http.NewRequest(http.MethodPost, f.URL(), bytes.NewReader([]byte("{}")))
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.Frobnicate")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 400 || body["__type"] != "UnknownOperationException" {
		t.Errorf("unknown op: %d %v", resp.StatusCode, body)
	}
	if f.Calls("UpdateService") != 2 || f.Calls("DescribeServices") != 1 {
		t.Errorf("call counts: update %d describe %d", f.Calls("UpdateService"), f.Calls("DescribeServices"))
	}
}

// TestWithKumo registers real targets in a kumo target group through the real ELBv2 client.
func TestWithKumo(t *testing.T) {
	k := emulator.Shared(t)
	ctx := emulator.Context(t, time.Minute)
	elb := elbv2.NewFromConfig(emulator.Config(k.URL))
	out, err := elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("ecsfake-" + time.Now().Format("150405.000")[7:]),
		Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8000), VpcId: aws.String("vpc-1"), TargetType: elbtypes.TargetTypeEnumIp})
	if err != nil {
		t.Fatal(err)
	}
	tgARN := aws.ToString(out.TargetGroups[0].TargetGroupArn)
	f := MustStart(t, Options{ELBv2: elb, StartDelay: 5 * time.Millisecond})
	if _, err := f.Seed("prod", "web-blue", "web", 2, tgARN, 8000); err != nil {
		t.Fatal(err)
	}
	health := func() map[string]string {
		h, err := elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN)})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, d := range h.TargetHealthDescriptions {
			if aws.ToInt32(d.Target.Port) != 8000 {
				t.Errorf("target port %d", aws.ToInt32(d.Target.Port))
			}
			m[aws.ToString(d.Target.Id)] = string(d.TargetHealth.State)
		}
		return m
	}
	s, _ := f.Service("web-blue")
	h := health()
	if len(h) != 2 || h[s.Tasks[0].IP] != "healthy" || h[s.Tasks[1].IP] != "healthy" {
		t.Fatalf("seeded targets in kumo: %v (tasks %+v)", h, s.Tasks)
	}
	c := client(f)
	if _, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web-blue"), ForceNewDeployment: true}); err != nil {
		t.Fatal(err)
	}
	s2 := waitFor(t, f, "web-blue", completed)
	h = health()
	if len(h) != 2 || h[s2.Tasks[0].IP] == "" || h[s2.Tasks[1].IP] == "" || h[s.Tasks[0].IP] != "" {
		t.Errorf("after redeploy: kumo targets %v, new tasks %+v", h, s2.Tasks)
	}
	if _, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web-blue"), DesiredCount: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, f, "web-blue", func(s ServiceSnapshot) bool { return completed(s) && s.DesiredCount == 0 })
	if h := health(); len(h) != 0 {
		t.Errorf("scaled to zero, kumo still has %v", h)
	}
	if errs := f.RegistrationErrors(); len(errs) != 0 {
		t.Errorf("registration errors: %v", errs)
	}
}
