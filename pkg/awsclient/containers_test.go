package awsclient

import (
	"context"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/pkg/deploy"
)

type fakeECS struct {
	services   *ecs.DescribeServicesOutput
	td         *ecstypes.TaskDefinition
	tags       []ecstypes.Tag
	described  []*ecs.DescribeTaskDefinitionInput
	registered []*ecs.RegisterTaskDefinitionInput
	updated    []*ecs.UpdateServiceInput
	err        error
}

func (f *fakeECS) DescribeServices(context.Context, *ecs.DescribeServicesInput, ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	return f.services, f.err
}

func (f *fakeECS) DescribeTaskDefinition(_ context.Context, in *ecs.DescribeTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	f.described = append(f.described, in)
	if f.err != nil {
		return nil, f.err
	}
	out := &ecs.DescribeTaskDefinitionOutput{TaskDefinition: f.td}
	for _, inc := range in.Include {
		if inc == ecstypes.TaskDefinitionFieldTags {
			out.Tags = f.tags
		}
	}
	return out, nil
}

func (f *fakeECS) RegisterTaskDefinition(_ context.Context, in *ecs.RegisterTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error) {
	f.registered = append(f.registered, in)
	return &ecs.RegisterTaskDefinitionOutput{TaskDefinition: &ecstypes.TaskDefinition{TaskDefinitionArn: aws.String("arn:aws:ecs:us-east-1:123456789012:task-definition/web:8")}}, f.err
}

func (f *fakeECS) UpdateService(_ context.Context, in *ecs.UpdateServiceInput, _ ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	f.updated = append(f.updated, in)
	return &ecs.UpdateServiceOutput{}, f.err
}

// fullTaskDefinition sets every field of a described task definition to a non-zero value, by reflection,
// so that a field added to the SDK later and not copied makes the test fail.
func fullTaskDefinition(t *testing.T) *ecstypes.TaskDefinition {
	t.Helper()
	td := &ecstypes.TaskDefinition{}
	v := reflect.ValueOf(td).Elem()
	for i := 0; i < v.NumField(); i++ {
		if !v.Type().Field(i).IsExported() {
			continue
		}
		fill(t, v.Field(i), v.Type().Field(i).Name)
	}
	td.Family = aws.String("web")
	td.ContainerDefinitions = []ecstypes.ContainerDefinition{
		{Name: aws.String("sidecar"), Image: aws.String("envoy:1"), Essential: aws.Bool(false)},
		{Name: aws.String("web"), Image: aws.String("123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v1"), Essential: aws.Bool(true),
			Environment: []ecstypes.KeyValuePair{{Name: aws.String("DJANGO_SETTINGS_MODULE"), Value: aws.String("dash.settings")}}},
	}
	return td
}

func fill(t *testing.T, f reflect.Value, name string) {
	switch f.Kind() {
	case reflect.Pointer:
		f.Set(reflect.New(f.Type().Elem()))
		switch e := f.Elem(); e.Kind() {
		case reflect.String:
			e.SetString(name + "-value")
		case reflect.Bool:
			e.SetBool(true)
		case reflect.Struct:
			// a non-nil empty struct is enough to tell copied from dropped
		default:
			if e.CanInt() {
				e.SetInt(7)
			}
		}
	case reflect.String:
		f.SetString(name + "-enum")
	case reflect.Slice:
		f.Set(reflect.MakeSlice(f.Type(), 1, 1))
	case reflect.Int32, reflect.Int64, reflect.Int:
		f.SetInt(3)
	case reflect.Map:
		f.Set(reflect.MakeMap(f.Type()))
	default:
		t.Fatalf("unhandled field kind %s for %s", f.Kind(), name)
	}
}

func TestRegisterTaskDefinitionCopiesEveryRegistrableField(t *testing.T) {
	td := fullTaskDefinition(t)
	f := &fakeECS{td: td, tags: []ecstypes.Tag{{Key: aws.String("team"), Value: aws.String("trading")}, {Key: aws.String("switchyard:deployment"), Value: aws.String("old")}}}
	c := NewContainers(f)
	arn, err := c.RegisterTaskDefinition(context.Background(), "web:7", "web", "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v2",
		map[string]string{"switchyard:deployment": "d-42"})
	if err != nil {
		t.Fatalf("RegisterTaskDefinition: %v", err)
	}
	if arn != "arn:aws:ecs:us-east-1:123456789012:task-definition/web:8" {
		t.Errorf("arn %q", arn)
	}
	if len(f.described) != 1 || !reflect.DeepEqual(f.described[0].Include, []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}) {
		t.Errorf("DescribeTaskDefinition must include TAGS: %+v", f.described)
	}
	in := f.registered[0]
	iv := reflect.ValueOf(in).Elem()
	tv := reflect.ValueOf(td).Elem()
	for i := 0; i < iv.NumField(); i++ {
		name := iv.Type().Field(i).Name
		if !iv.Type().Field(i).IsExported() || name == "Tags" || name == "ContainerDefinitions" {
			continue
		}
		src := tv.FieldByName(name)
		if !src.IsValid() {
			t.Errorf("RegisterTaskDefinitionInput.%s has no TaskDefinition counterpart: decide how to copy it", name)
			continue
		}
		if !reflect.DeepEqual(iv.Field(i).Interface(), src.Interface()) {
			t.Errorf("field %s not copied: got %v, want %v", name, iv.Field(i).Interface(), src.Interface())
		}
	}
	if got := aws.ToString(in.ContainerDefinitions[1].Image); got != "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v2" {
		t.Errorf("web image %q", got)
	}
	if got := aws.ToString(in.ContainerDefinitions[0].Image); got != "envoy:1" {
		t.Errorf("sidecar image changed to %q", got)
	}
	if len(in.ContainerDefinitions[1].Environment) != 1 {
		t.Errorf("container environment lost")
	}
	if got := aws.ToString(td.ContainerDefinitions[1].Image); got != "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v1" {
		t.Errorf("the described task definition was mutated: %q", got)
	}
	wantTags := []ecstypes.Tag{{Key: aws.String("switchyard:deployment"), Value: aws.String("d-42")}, {Key: aws.String("team"), Value: aws.String("trading")}}
	if !reflect.DeepEqual(in.Tags, wantTags) {
		t.Errorf("tags %v, want %v", in.Tags, wantTags)
	}
}

func TestRegisterTaskDefinitionUnknownContainer(t *testing.T) {
	f := &fakeECS{td: fullTaskDefinition(t)}
	_, err := NewContainers(f).RegisterTaskDefinition(context.Background(), "web:7", "nginx", "nginx:2", nil)
	if deploy.KindOf(err) != deploy.KindInvalid {
		t.Fatalf("want invalid, got %v", err)
	}
	if len(f.registered) != 0 {
		t.Errorf("registered despite the unknown container")
	}
	_, err = NewContainers(f).ContainerImage(context.Background(), "web:7", "nginx")
	if deploy.KindOf(err) != deploy.KindInvalid {
		t.Fatalf("ContainerImage: want invalid, got %v", err)
	}
	img, err := NewContainers(f).ContainerImage(context.Background(), "web:7", "web")
	if err != nil || img != "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v1" {
		t.Errorf("ContainerImage = %q, %v", img, err)
	}
}

func TestDescribeService(t *testing.T) {
	f := &fakeECS{services: &ecs.DescribeServicesOutput{Services: []ecstypes.Service{{
		ServiceName: aws.String("web-green"), Status: aws.String("ACTIVE"), TaskDefinition: aws.String("td:8"),
		DesiredCount: 2, RunningCount: 1, PendingCount: 1,
		Deployments: []ecstypes.Deployment{
			{Id: aws.String("ecs-svc/1"), Status: aws.String("ACTIVE"), RolloutState: ecstypes.DeploymentRolloutStateCompleted, TaskDefinition: aws.String("td:7"), DesiredCount: 2, RunningCount: 1},
			{Id: aws.String("ecs-svc/2"), Status: aws.String("PRIMARY"), RolloutState: ecstypes.DeploymentRolloutStateFailed,
				RolloutStateReason: aws.String("ECS deployment circuit breaker: tasks failed to start."), TaskDefinition: aws.String("td:8"), DesiredCount: 2, FailedTasks: 3},
		},
	}}}}
	s, err := NewContainers(f).DescribeService(context.Background(), "prod", "web-green")
	if err != nil {
		t.Fatal(err)
	}
	if s.Deployments[0].ID != "ecs-svc/2" {
		t.Errorf("primary not first: %+v", s.Deployments)
	}
	reason, failed := s.Failed()
	if !failed || reason != "ECS deployment circuit breaker: tasks failed to start." || s.Deployments[0].FailedTasks != 3 {
		t.Errorf("failure not mapped: %+v", s)
	}
	if s.Cluster != "prod" || s.DesiredCount != 2 || s.RunningCount != 1 || s.PendingCount != 1 || s.TaskDefinition != "td:8" {
		t.Errorf("counts: %+v", s)
	}
	if s.Stable() {
		t.Errorf("two deployments reported stable")
	}

	f.services = &ecs.DescribeServicesOutput{Failures: []ecstypes.Failure{{Arn: aws.String("arn:...:service/prod/nope"), Reason: aws.String("MISSING")}}}
	_, err = NewContainers(f).DescribeService(context.Background(), "prod", "nope")
	if deploy.KindOf(err) != deploy.KindNotFound {
		t.Errorf("MISSING: want not_found, got %v", err)
	}
	f.err = &smithy.GenericAPIError{Code: "ClusterNotFoundException"}
	_, err = NewContainers(f).DescribeService(context.Background(), "nope", "web")
	if deploy.KindOf(err) != deploy.KindNotFound {
		t.Errorf("cluster: want not_found, got %v", err)
	}
}

func TestUpdateService(t *testing.T) {
	f := &fakeECS{}
	c := NewContainers(f)
	if err := c.UpdateService(context.Background(), "prod", "web-green", "", 0); err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateService(context.Background(), "prod", "web-green", "td:9", 3); err != nil {
		t.Fatal(err)
	}
	if f.updated[0].TaskDefinition != nil || aws.ToInt32(f.updated[0].DesiredCount) != 0 || f.updated[0].DesiredCount == nil {
		t.Errorf("scale-only update: %+v", f.updated[0])
	}
	if aws.ToString(f.updated[1].TaskDefinition) != "td:9" || aws.ToInt32(f.updated[1].DesiredCount) != 3 {
		t.Errorf("update: %+v", f.updated[1])
	}
	if err := c.UpdateService(context.Background(), "prod", "web-green", "", -1); deploy.KindOf(err) != deploy.KindInvalid {
		t.Errorf("negative desired: %v", err)
	}
}

func TestWithWeightsDoesNotMutateInput(t *testing.T) {
	in := []elbtypes.Action{weighted(true, blueTG, 999, greenTG, 0)}
	if _, err := withWeights(in, 0, map[string]int{greenTG: 999, blueTG: 0}); err != nil {
		t.Fatal(err)
	}
	if w := tgWeights(in[0]); w[blueTG] != 999 || w[greenTG] != 0 {
		t.Errorf("input mutated: %v", w)
	}
}
