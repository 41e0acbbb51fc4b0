package awsclient

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/switchyard/switchyard/pkg/config"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/metrics"
	"github.com/switchyard/switchyard/test/ecsfake"
	"github.com/switchyard/switchyard/test/emulator"
)

// fakeAAS answers DescribeScalableTargets from pages (one per call, in order) and records every call.
type fakeAAS struct {
	pages     []*aas.DescribeScalableTargetsOutput
	err       error
	describes []*aas.DescribeScalableTargetsInput
	registers []*aas.RegisterScalableTargetInput
}

func (f *fakeAAS) DescribeScalableTargets(_ context.Context, in *aas.DescribeScalableTargetsInput, _ ...func(*aas.Options)) (*aas.DescribeScalableTargetsOutput, error) {
	f.describes = append(f.describes, in)
	if f.err != nil {
		return nil, f.err
	}
	if len(f.describes) > len(f.pages) {
		return &aas.DescribeScalableTargetsOutput{}, nil
	}
	return f.pages[len(f.describes)-1], nil
}

func (f *fakeAAS) RegisterScalableTarget(_ context.Context, in *aas.RegisterScalableTargetInput, _ ...func(*aas.Options)) (*aas.RegisterScalableTargetOutput, error) {
	f.registers = append(f.registers, in)
	if f.err != nil {
		return nil, f.err
	}
	return &aas.RegisterScalableTargetOutput{ScalableTargetARN: aws.String("arn:aws:application-autoscaling:us-east-1:000000000000:scalable-target/1")}, nil
}

func ecsTarget(id string, min, max int32, ss *aastypes.SuspendedState) aastypes.ScalableTarget {
	return aastypes.ScalableTarget{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String(id),
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
		MinCapacity:       aws.Int32(min), MaxCapacity: aws.Int32(max), SuspendedState: ss,
	}
}

func suspended(in, out, sched bool) *aastypes.SuspendedState {
	return &aastypes.SuspendedState{DynamicScalingInSuspended: aws.Bool(in), DynamicScalingOutSuspended: aws.Bool(out), ScheduledScalingSuspended: aws.Bool(sched)}
}

func TestECSResourceID(t *testing.T) {
	for _, tc := range [][3]string{
		{"prod", "web-blue", "service/prod/web-blue"},
		{"arn:aws:ecs:us-east-1:123456789012:cluster/prod", "web-blue", "service/prod/web-blue"},
		{"prod", "arn:aws:ecs:us-east-1:123456789012:service/prod/web-blue", "service/prod/web-blue"},
	} {
		if got := ECSResourceID(tc[0], tc[1]); got != tc[2] {
			t.Errorf("ECSResourceID(%q, %q) = %q, want %q", tc[0], tc[1], got, tc[2])
		}
	}
}

func TestGetScaling(t *testing.T) {
	ctx := context.Background()
	const id = "service/prod/web-blue"
	for _, tc := range []struct {
		name string
		page aastypes.ScalableTarget
		want deploy.ScalableTarget
	}{
		{"active", ecsTarget(id, 2, 10, suspended(false, false, false)), deploy.ScalableTarget{Registered: true, Min: 2, Max: 10}},
		{"suspended", ecsTarget(id, 0, 10, suspended(true, true, true)), deploy.ScalableTarget{Registered: true, Min: 0, Max: 10, Suspended: true}},
		// Scheduled actions could still scale it: not suspended.
		{"partly suspended", ecsTarget(id, 0, 10, suspended(true, true, false)), deploy.ScalableTarget{Registered: true, Max: 10}},
		{"no suspended state", ecsTarget(id, 1, 3, nil), deploy.ScalableTarget{Registered: true, Min: 1, Max: 3}},
	} {
		f := &fakeAAS{pages: []*aas.DescribeScalableTargetsOutput{{ScalableTargets: []aastypes.ScalableTarget{tc.page}}}}
		got, err := NewScaling(f).GetScaling(ctx, "arn:aws:ecs:us-east-1:000000000000:cluster/prod", "web-blue")
		if err != nil || got != tc.want {
			t.Errorf("%s: got %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
		in := f.describes[0]
		if in.ServiceNamespace != aastypes.ServiceNamespaceEcs || in.ScalableDimension != aastypes.ScalableDimensionECSServiceDesiredCount ||
			len(in.ResourceIds) != 1 || in.ResourceIds[0] != id {
			t.Errorf("%s: request %+v", tc.name, in)
		}
	}

	// Not registered: no error, Registered false. Another resource's target is not taken for this one,
	// and a further page is read.
	f := &fakeAAS{pages: []*aas.DescribeScalableTargetsOutput{
		{ScalableTargets: []aastypes.ScalableTarget{ecsTarget("service/prod/web-green", 1, 2, nil)}, NextToken: aws.String("p2")},
		{},
	}}
	got, err := NewScaling(f).GetScaling(ctx, "prod", "web-blue")
	if err != nil || got != (deploy.ScalableTarget{}) {
		t.Errorf("not registered: %+v %v", got, err)
	}
	if len(f.describes) != 2 || aws.ToString(f.describes[1].NextToken) != "p2" {
		t.Errorf("paging: %d calls", len(f.describes))
	}

	f = &fakeAAS{err: &smithy.GenericAPIError{Code: "ThrottlingException", Message: "slow down"}}
	_, err = NewScaling(f).GetScaling(ctx, "prod", "web-blue")
	assertErr(t, err, deploy.KindThrottled, "autoscaling.DescribeScalableTargets")
}

func TestSetScaling(t *testing.T) {
	ctx := context.Background()
	f := &fakeAAS{}
	s := NewScaling(f)
	for _, st := range []deploy.ScalableTarget{
		{Registered: true, Min: 2, Max: 10},
		{Registered: true, Min: 0, Max: 10, Suspended: true},
		{Registered: true, Min: 0, Max: 0},
	} {
		f.registers = nil
		if err := s.SetScaling(ctx, "prod", "web-green", st); err != nil {
			t.Fatalf("%+v: %v", st, err)
		}
		if len(f.registers) != 1 {
			t.Fatalf("%+v: %d calls", st, len(f.registers))
		}
		in := f.registers[0]
		ss := in.SuspendedState
		if in.ServiceNamespace != aastypes.ServiceNamespaceEcs || in.ScalableDimension != aastypes.ScalableDimensionECSServiceDesiredCount ||
			aws.ToString(in.ResourceId) != "service/prod/web-green" || in.MinCapacity == nil || in.MaxCapacity == nil ||
			int(*in.MinCapacity) != st.Min || int(*in.MaxCapacity) != st.Max || ss == nil ||
			ss.DynamicScalingInSuspended == nil || *ss.DynamicScalingInSuspended != st.Suspended ||
			ss.DynamicScalingOutSuspended == nil || *ss.DynamicScalingOutSuspended != st.Suspended ||
			ss.ScheduledScalingSuspended == nil || *ss.ScheduledScalingSuspended != st.Suspended {
			t.Errorf("%+v: request %+v (suspended %+v)", st, in, ss)
		}
	}

	// Refused before any call.
	f.registers = nil
	for _, bad := range []deploy.ScalableTarget{
		{Registered: true, Min: -1, Max: 2},
		{Registered: true, Min: 3, Max: 2},
		{Registered: true, Min: 0, Max: 1 << 31},
		{Min: 1, Max: 2}, // not marked registered: a GetScaling result for an unregistered service
		{},
	} {
		err := s.SetScaling(ctx, "prod", "web-green", bad)
		assertErr(t, err, deploy.KindInvalid, "autoscaling.RegisterScalableTarget")
	}
	if len(f.registers) != 0 {
		t.Errorf("invalid targets reached the API: %d calls", len(f.registers))
	}

	resp := &smithyhttp.Response{Response: &http.Response{StatusCode: 503}}
	for _, tc := range []struct {
		err  error
		want deploy.Kind
	}{
		{&aastypes.ObjectNotFoundException{Message: aws.String("no such target")}, deploy.KindNotFound},
		{&aastypes.ValidationException{Message: aws.String("ECS service doesn't exist")}, deploy.KindInvalid},
		{&aastypes.ConcurrentUpdateException{Message: aws.String("busy")}, deploy.KindUnavailable},
		{&aastypes.InternalServiceException{Message: aws.String("oops")}, deploy.KindUnavailable},
		{&smithy.GenericAPIError{Code: "ThrottlingException"}, deploy.KindThrottled},
		{&smithy.OperationError{Err: &smithyhttp.ResponseError{Response: resp, Err: &smithy.GenericAPIError{Code: "Weird"}}}, deploy.KindUnavailable},
		{&smithy.GenericAPIError{Code: "AccessDeniedException"}, deploy.KindInternal},
	} {
		f.err = tc.err
		err := s.SetScaling(ctx, "prod", "web-green", deploy.ScalableTarget{Registered: true, Min: 1, Max: 2})
		assertErr(t, err, tc.want, "autoscaling.RegisterScalableTarget")
		_, err = s.GetScaling(ctx, "prod", "web-green")
		assertErr(t, err, tc.want, "autoscaling.DescribeScalableTargets")
	}
}

// TestScalingThroughSDK drives the adapter through the real SDK client, built by New from the daemon's
// configuration, against ecsfake's Application Auto Scaling.
func TestScalingThroughSDK(t *testing.T) {
	fake := ecsfake.MustStart(t, ecsfake.Options{StartDelay: time.Millisecond})
	ctx := emulator.Context(t, 30*time.Second)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	m := metrics.New()
	c, err := New(ctx, config.AWS{Region: "us-east-1", EndpointURL: "http://127.0.0.1:1", StaticCredentials: true, MaxRetries: 1,
		Endpoints: map[string]string{ServiceECS: fake.URL(), ServiceAutoScaling: fake.URL()}}, m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fake.Seed("prod", "web-blue", "web", 3, "", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := fake.Seed("prod", "web-green", "web", 0, "", 0); err != nil {
		t.Fatal(err)
	}
	s := c.Scaling

	// Not registered.
	got, err := s.GetScaling(ctx, "prod", "web-green")
	if err != nil || got.Registered {
		t.Fatalf("unregistered: %+v %v", got, err)
	}
	// Setting an unregistered service registers it (RegisterScalableTarget semantics).
	if err := s.SetScaling(ctx, "prod", "web-green", deploy.ScalableTarget{Registered: true, Min: 0, Max: 6, Suspended: true}); err != nil {
		t.Fatal(err)
	}
	fake.SeedScalableTarget("prod", "web-blue", 2, 6, false)
	for svc, want := range map[string]deploy.ScalableTarget{
		"web-green": {Registered: true, Min: 0, Max: 6, Suspended: true},
		"web-blue":  {Registered: true, Min: 2, Max: 6},
	} {
		got, err := s.GetScaling(ctx, "prod", svc)
		if err != nil || got != want {
			t.Errorf("%s: %+v %v; want %+v", svc, got, err, want)
		}
	}

	// The handoff: the new live slot takes the floor and ceiling and resumes, the old one is suspended
	// at floor 0.
	if err := s.SetScaling(ctx, "prod", "web-green", deploy.ScalableTarget{Registered: true, Min: 2, Max: 8}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetScaling(ctx, "prod", "web-blue", deploy.ScalableTarget{Registered: true, Min: 0, Max: 8, Suspended: true}); err != nil {
		t.Fatal(err)
	}
	green, _ := fake.ScalableTarget("prod", "web-green")
	blue, _ := fake.ScalableTarget("prod", "web-blue")
	if green.Suspended || green.DynamicScalingInSuspended || green.ScheduledScalingSuspended || green.Min != 2 || green.Max != 8 {
		t.Errorf("green after handoff: %+v", green)
	}
	if !blue.Suspended || blue.Min != 0 || blue.Max != 8 {
		t.Errorf("blue after handoff: %+v", blue)
	}
	if got, err := s.GetScaling(ctx, "prod", "web-blue"); err != nil || got != (deploy.ScalableTarget{Registered: true, Max: 8, Suspended: true}) {
		t.Errorf("blue read back: %+v %v", got, err)
	}
	// Resumed at min 2, the fake's auto scaling raised green from 0 to its floor.
	if svc, err := c.Containers.DescribeService(ctx, "prod", "web-green"); err != nil || svc.DesiredCount != 2 {
		t.Errorf("green desired count after resume: %+v %v", svc, err)
	}
	// Blue is suspended: scaling it to 0 sticks.
	if err := c.Containers.UpdateService(ctx, "prod", "web-blue", "", 0); err != nil {
		t.Fatal(err)
	}
	if svc, err := c.Containers.DescribeService(ctx, "prod", "web-blue"); err != nil || svc.DesiredCount != 0 {
		t.Errorf("blue desired count: %+v %v", svc, err)
	}

	// The service's answer to a bad request comes back as invalid, with the call counted as failed.
	err = s.SetScaling(ctx, "prod", "web-nope", deploy.ScalableTarget{Registered: true, Min: 1, Max: 2})
	assertErr(t, err, deploy.KindInvalid, "autoscaling.RegisterScalableTarget")
	if n := counter(t, m.AWSErrors, ServiceAutoScaling, "RegisterScalableTarget", "ValidationException"); n != 1 {
		t.Errorf("ValidationException counted %v times", n)
	}
	if n := counter(t, m.AWSCalls, ServiceAutoScaling, "RegisterScalableTarget"); n != 4 {
		t.Errorf("RegisterScalableTarget counted %v times, want 4", n)
	}
	if n := counter(t, m.AWSCalls, ServiceAutoScaling, "DescribeScalableTargets"); n != 4 {
		t.Errorf("DescribeScalableTargets counted %v times, want 4", n)
	}
	if n := fake.Calls("RegisterScalableTarget"); n != 4 {
		t.Errorf("the fake saw %d RegisterScalableTarget calls", n)
	}
}
