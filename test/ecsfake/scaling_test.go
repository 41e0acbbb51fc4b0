package ecsfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/test/emulator"
)

func scalingClient(f *Fake) *aas.Client { return aas.NewFromConfig(f.AWSConfig()) }

func register(min, max *int32, suspended *bool, id string) *aas.RegisterScalableTargetInput {
	in := &aas.RegisterScalableTargetInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String(id),
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount, MinCapacity: min, MaxCapacity: max,
	}
	if suspended != nil {
		in.SuspendedState = &aastypes.SuspendedState{DynamicScalingInSuspended: suspended, DynamicScalingOutSuspended: suspended, ScheduledScalingSuspended: suspended}
	}
	return in
}

func describe(t *testing.T, c *aas.Client, id string) (aastypes.ScalableTarget, bool) {
	t.Helper()
	out, err := c.DescribeScalableTargets(emulator.Context(t, 10*time.Second), &aas.DescribeScalableTargetsInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceIds: []string{id},
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
	})
	if err != nil {
		t.Fatalf("DescribeScalableTargets(%s): %v", id, err)
	}
	if len(out.ScalableTargets) > 1 {
		t.Fatalf("DescribeScalableTargets(%s): %d targets", id, len(out.ScalableTargets))
	}
	if len(out.ScalableTargets) == 0 {
		return aastypes.ScalableTarget{}, false
	}
	return out.ScalableTargets[0], true
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestScalableTargetsThroughSDK(t *testing.T) {
	f := MustStart(t, Options{ELBv2: &recorder{}, StartDelay: time.Millisecond})
	c := scalingClient(f)
	ctx := emulator.Context(t, 30*time.Second)
	if _, err := f.Seed("prod", "web-blue", "web", 0, tg, 8000); err != nil {
		t.Fatal(err)
	}
	const id = "service/prod/web-blue"

	if _, ok := describe(t, c, id); ok {
		t.Fatal("target described before registration")
	}
	if _, ok := f.ScalableTarget("prod", "web-blue"); ok {
		t.Fatal("snapshot before registration")
	}
	// A new target needs both capacities.
	_, err := c.RegisterScalableTarget(ctx, register(aws.Int32(1), nil, nil, id))
	var ve *aastypes.ValidationException
	if !errors.As(err, &ve) {
		t.Fatalf("new target without max: %v", err)
	}
	out, err := c.RegisterScalableTarget(ctx, register(aws.Int32(0), aws.Int32(6), aws.Bool(true), id))
	if err != nil {
		t.Fatal(err)
	}
	got, ok := describe(t, c, id)
	if !ok || aws.ToString(got.ScalableTargetARN) != aws.ToString(out.ScalableTargetARN) || aws.ToString(out.ScalableTargetARN) == "" ||
		aws.ToInt32(got.MinCapacity) != 0 || aws.ToInt32(got.MaxCapacity) != 6 || got.ServiceNamespace != aastypes.ServiceNamespaceEcs ||
		got.ScalableDimension != aastypes.ScalableDimensionECSServiceDesiredCount || aws.ToString(got.ResourceId) != id ||
		got.CreationTime == nil || time.Since(*got.CreationTime) > time.Minute || aws.ToString(got.RoleARN) == "" {
		t.Fatalf("described: %+v", got)
	}
	if ss := got.SuspendedState; ss == nil || !aws.ToBool(ss.DynamicScalingInSuspended) || !aws.ToBool(ss.DynamicScalingOutSuspended) || !aws.ToBool(ss.ScheduledScalingSuspended) {
		t.Fatalf("suspended state: %+v", got.SuspendedState)
	}

	// An update changes only the fields given: here max and one suspension flag.
	in := register(nil, aws.Int32(8), nil, id)
	in.SuspendedState = &aastypes.SuspendedState{ScheduledScalingSuspended: aws.Bool(false)}
	if _, err := c.RegisterScalableTarget(ctx, in); err != nil {
		t.Fatal(err)
	}
	snap, ok := f.ScalableTarget("prod", "web-blue")
	want := ScalableTargetSnapshot{ResourceID: id, ARN: aws.ToString(out.ScalableTargetARN), Min: 0, Max: 8,
		DynamicScalingInSuspended: true, DynamicScalingOutSuspended: true, Registrations: 2}
	if !ok || snap != want {
		t.Fatalf("after partial update:\n got %+v\nwant %+v", snap, want)
	}
	// The merged range is validated: min 9 > max 8 changes nothing.
	if _, err := c.RegisterScalableTarget(ctx, register(aws.Int32(9), nil, nil, id)); apiCode(err) != "ValidationException" {
		t.Errorf("min above the stored max: %v", err)
	}
	if snap, _ := f.ScalableTarget("prod", "web-blue"); snap.Min != 0 || snap.Registrations != 2 {
		t.Errorf("rejected update changed the target: %+v", snap)
	}

	for name, bad := range map[string]*aas.RegisterScalableTargetInput{
		"unknown service":   register(aws.Int32(1), aws.Int32(2), nil, "service/prod/ghost"),
		"unknown cluster":   register(aws.Int32(1), aws.Int32(2), nil, "service/staging/web-blue"),
		"bad resource id":   register(aws.Int32(1), aws.Int32(2), nil, "prod/web-blue"),
		"negative capacity": register(aws.Int32(-1), aws.Int32(2), nil, id),
		"wrong dimension": {ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String(id),
			ScalableDimension: aastypes.ScalableDimensionDynamoDBTableReadCapacityUnits, MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(2)},
	} {
		if _, err := c.RegisterScalableTarget(ctx, bad); apiCode(err) != "ValidationException" {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := c.DescribeScalableTargets(ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: aastypes.ServiceNamespaceEcs,
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount}); apiCode(err) != "ValidationException" {
		t.Errorf("dimension without resource ids: %v", err)
	}

	// Other namespaces and resource ids are filtered out.
	if out, err := c.DescribeScalableTargets(ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb}); err != nil || len(out.ScalableTargets) != 0 {
		t.Errorf("dynamodb namespace: %+v %v", out, err)
	}
	if _, ok := describe(t, c, "service/prod/web-green"); ok {
		t.Errorf("another resource id matched")
	}

	if _, err := c.DeregisterScalableTarget(ctx, &aas.DeregisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs,
		ResourceId: aws.String(id), ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount}); err != nil {
		t.Fatal(err)
	}
	if _, ok := describe(t, c, id); ok {
		t.Errorf("described after deregistration")
	}
	_, err = c.DeregisterScalableTarget(ctx, &aas.DeregisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs,
		ResourceId: aws.String(id), ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount})
	var nf *aastypes.ObjectNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("deregistering twice: %v", err)
	}
	if n := f.Calls("RegisterScalableTarget"); n != 9 { // 1 + 2 + 1 + 5 rejected or accepted above
		t.Errorf("RegisterScalableTarget counted %d times", n)
	}
}

func TestDescribeScalableTargetsPages(t *testing.T) {
	f := MustStart(t, Options{StartDelay: time.Millisecond})
	c := scalingClient(f)
	ctx := emulator.Context(t, 30*time.Second)
	names := []string{"a", "b", "c", "d", "e"}
	var ids []string
	for _, n := range names {
		f.SeedScalableTarget("prod", n, 1, 3, false)
		ids = append(ids, "service/prod/"+n)
	}
	p := aas.NewDescribeScalableTargetsPaginator(c, &aas.DescribeScalableTargetsInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, MaxResults: aws.Int32(2)})
	var seen []string
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, st := range out.ScalableTargets {
			seen = append(seen, aws.ToString(st.ResourceId))
		}
	}
	if pages != 3 || len(seen) != 5 {
		t.Fatalf("%d pages, targets %v", pages, seen)
	}
	for i := range ids {
		if seen[i] != ids[i] {
			t.Errorf("page order: %v", seen)
		}
	}
	out, err := c.DescribeScalableTargets(ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceIds: []string{ids[4], ids[1], "service/prod/zz"}})
	if err != nil || len(out.ScalableTargets) != 2 {
		t.Errorf("resource id filter: %+v %v", out, err)
	}
	if _, err := c.DescribeScalableTargets(ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, NextToken: aws.String("bogus")}); apiCode(err) != "InvalidNextTokenException" {
		t.Errorf("bogus token: %v", err)
	}
}

// TestScalingMovesDesiredCount: an active target keeps its service's desired count in range, a
// suspended one does not. This is what makes a release that forgets to suspend the old slot visible.
func TestScalingMovesDesiredCount(t *testing.T) {
	f := MustStart(t, Options{ELBv2: &recorder{}, StartDelay: time.Millisecond})
	c, ac := client(f), scalingClient(f)
	ctx := emulator.Context(t, 30*time.Second)
	if _, err := f.Seed("prod", "web-green", "web", 0, tg, 8000); err != nil {
		t.Fatal(err)
	}
	desired := func(want int) {
		t.Helper()
		s := waitFor(t, f, "web-green", func(s ServiceSnapshot) bool { return completed(s) && s.DesiredCount == want && s.RunningCount == want })
		if s.DesiredCount != want {
			t.Fatalf("desired %d, want %d", s.DesiredCount, want)
		}
	}
	update := func(n int32) {
		t.Helper()
		if _, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web-green"), DesiredCount: aws.Int32(n)}); err != nil {
			t.Fatal(err)
		}
	}

	// Suspended at floor 0 (the idle slot): nothing moves.
	f.SeedScalableTarget("prod", "web-green", 0, 6, true)
	update(3)
	desired(3)
	update(0)
	desired(0)

	// Handed over: min 2, active. Registration raises the service to its floor ...
	if _, err := ac.RegisterScalableTarget(ctx, register(aws.Int32(2), aws.Int32(4), aws.Bool(false), "service/prod/web-green")); err != nil {
		t.Fatal(err)
	}
	desired(2)
	// ... scaling it to 0 behind auto scaling's back bounces back to the floor, above max to the ceiling.
	update(0)
	desired(2)
	update(9)
	desired(4)
	// Lowering the ceiling below the current count scales in.
	update(4)
	if _, err := ac.RegisterScalableTarget(ctx, register(nil, aws.Int32(3), nil, "service/prod/web-green")); err != nil {
		t.Fatal(err)
	}
	desired(3)

	// Suspended again (the old slot after a release): scaling to 0 sticks.
	if _, err := ac.RegisterScalableTarget(ctx, register(aws.Int32(0), aws.Int32(3), aws.Bool(true), "service/prod/web-green")); err != nil {
		t.Fatal(err)
	}
	update(0)
	desired(0)

	// Seeding an active target on a running service applies it too.
	f.SeedScalableTarget("prod", "web-green", 1, 3, false)
	desired(1)
	if s, ok := f.ScalableTarget("prod", "web-green"); !ok || s.Suspended || s.Min != 1 || s.Max != 3 || s.Registrations != 3 {
		t.Errorf("snapshot after seeding: %+v %v", s, ok)
	}
}

func TestScalingUnknownOperation(t *testing.T) {
	f := MustStart(t, Options{})
	for _, target := range []string{ScalingTargetPrefix + "PutScalingPolicy", ScalingTargetPrefix + "Bogus"} {
		req, err := http.NewRequest(http.MethodPost, f.URL(), bytes.NewBufferString("{}"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusBadRequest || body.Type != "UnknownOperationException" || body.Message == "" ||
			resp.Header.Get("X-Amzn-ErrorType") != "UnknownOperationException" {
			t.Errorf("%s: status %d, body %+v, err %v", target, resp.StatusCode, body, err)
		}
	}
	// Through the SDK the same answer is an API error with that code.
	_, err := scalingClient(f).PutScalingPolicy(emulator.Context(t, 10*time.Second), &aas.PutScalingPolicyInput{
		PolicyName: aws.String("cpu"), ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: aws.String("service/prod/web"),
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount})
	if apiCode(err) != "UnknownOperationException" {
		t.Errorf("SDK: %v", err)
	}
}
