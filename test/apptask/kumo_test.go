package apptask_test

import (
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/switchyard/switchyard/test/apptask"
	"github.com/switchyard/switchyard/test/ecsfake"
	"github.com/switchyard/switchyard/test/emulator"
)

func TestMain(m *testing.M) {
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	code := m.Run()
	emulator.StopShared()
	os.Exit(code)
}

// TestFleetInKumo: the ECS stand-in runs apptask servers; kumo's target group holds their real IP:port,
// each of which answers as its colour; a crashing image trips the circuit breaker without touching the
// running tasks; scaling to zero empties the target group and stops the servers.
func TestFleetInKumo(t *testing.T) {
	k := emulator.Shared(t)
	ctx := emulator.Context(t, time.Minute)
	elb := elbv2.NewFromConfig(emulator.Config(k.URL))
	out, err := elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(fmt.Sprintf("apptask-%d", time.Now().UnixNano()%1e6)),
		Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8000), VpcId: aws.String("vpc-1"), TargetType: elbtypes.TargetTypeEnumIp,
		HealthCheckPath: aws.String("/healthz")})
	if err != nil {
		t.Fatal(err)
	}
	tg := aws.ToString(out.TargetGroups[0].TargetGroupArn)
	if _, err := elb.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(tg),
		Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("1")}}}); err != nil {
		t.Fatal(err)
	}
	table := apptask.NewTable(map[string]apptask.Behaviour{"boom": {CrashOnStart: true}})
	fleet := apptask.NewFleet(table, nil)
	// StopDelay 0: the fake reads the target group's deregistration delay (1 s) from kumo.
	f := ecsfake.MustStart(t, ecsfake.Options{ELBv2: elb, StartDelay: 5 * time.Millisecond, Runner: fleet.Runner()})
	td := f.SeedTaskDefinition("web", ecsfake.DefaultContainer, "repo/web:v1")
	if _, err := f.Seed("prod", "svc-green-web", td, 2, tg, 8000); err != nil {
		t.Fatal(err)
	}
	targets := func() []string {
		h, err := elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range h.TargetHealthDescriptions {
			out = append(out, fmt.Sprintf("%s:%d", aws.ToString(d.Target.Id), aws.ToInt32(d.Target.Port)))
		}
		sort.Strings(out)
		return out
	}
	got, want := targets(), fleet.Addrs("svc-green-web")
	if len(got) != 2 || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("kumo targets %v, fleet servers %v", got, want)
	}
	for _, a := range got {
		resp, err := http.Get("http://" + a + "/api/orders")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get(apptask.HeaderColour) != "green" || resp.Header.Get(apptask.HeaderTag) != "v1" {
			t.Errorf("%s answered %d %v", a, resp.StatusCode, resp.Header)
		}
	}

	c := ecs.NewFromConfig(f.AWSConfig())
	bad := f.SeedTaskDefinition("web", ecsfake.DefaultContainer, "repo/web:boom")
	if _, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("svc-green-web"), TaskDefinition: aws.String(bad)}); err != nil {
		t.Fatal(err)
	}
	s := waitFor(t, f, "svc-green-web", func(s ecsfake.ServiceSnapshot) bool { return s.Deployments[0].RolloutState == "FAILED" })
	if d := s.Deployments[0]; d.FailedTasks != ecsfake.DefaultFailureThreshold || !strings.HasPrefix(d.RolloutReason, ecsfake.CircuitBreakerReason) {
		t.Errorf("crashing image: %+v", d)
	}
	if now := targets(); strings.Join(now, ",") != strings.Join(got, ",") {
		t.Errorf("targets after the failed deployment %v, want %v", now, got)
	}
	crashed := 0
	for _, srv := range fleet.Started() {
		if srv.Spec().Tag == "boom" {
			crashed++
		}
	}
	if crashed != ecsfake.DefaultFailureThreshold {
		t.Errorf("%d crashing tasks started, want %d", crashed, ecsfake.DefaultFailureThreshold)
	}

	t0 := time.Now()
	if _, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("svc-green-web"),
		TaskDefinition: aws.String(td), DesiredCount: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, f, "svc-green-web", func(s ecsfake.ServiceSnapshot) bool {
		return len(s.Deployments) == 1 && s.Deployments[0].RolloutState == "COMPLETED" && s.DesiredCount == 0
	})
	if d := time.Since(t0); d < time.Second {
		t.Errorf("scale-in completed after %v, before the target group's 1 s deregistration delay", d)
	}
	if now := targets(); len(now) != 0 {
		t.Errorf("scaled to zero, kumo still has %v", now)
	}
	for _, a := range got {
		if resp, err := http.Get("http://" + a + "/"); err == nil {
			resp.Body.Close()
			t.Errorf("%s still serves after scale to zero", a)
		}
	}
	if errs := f.RegistrationErrors(); len(errs) != 0 {
		t.Errorf("registration errors: %v", errs)
	}
}

func waitFor(t *testing.T, f *ecsfake.Fake, svc string, cond func(ecsfake.ServiceSnapshot) bool) ecsfake.ServiceSnapshot {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
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
