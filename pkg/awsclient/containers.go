package awsclient

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// ECSAPI is the part of the ECS API the containers adapter uses.
type ECSAPI interface {
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
	RegisterTaskDefinition(ctx context.Context, in *ecs.RegisterTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error)
	UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, optFns ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error)
}

// Containers implements deploy.Containers on ECS.
type Containers struct {
	api ECSAPI
}

// NewContainers returns an adapter using api (an *ecs.Client in production).
func NewContainers(api ECSAPI) *Containers { return &Containers{api: api} }

// DescribeService reads one ECS service and its deployments (primary first).
func (c *Containers) DescribeService(ctx context.Context, cluster, service string) (deploy.ECSService, error) {
	const op = "ecs.DescribeServices"
	out, err := c.api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{service}})
	if err != nil {
		return deploy.ECSService{}, mapErr(op, err, fmt.Sprintf("describe ECS service %s/%s", cluster, service))
	}
	for _, f := range out.Failures {
		kind := deploy.KindUnavailable
		if aws.ToString(f.Reason) == "MISSING" {
			kind = deploy.KindNotFound
		}
		return deploy.ECSService{}, deploy.Errorf(op, kind, "ECS service %s/%s: %s %s", cluster, service, aws.ToString(f.Reason), aws.ToString(f.Detail))
	}
	for _, s := range out.Services {
		if aws.ToString(s.ServiceName) == service || aws.ToString(s.ServiceArn) == service {
			return toECSService(cluster, s), nil
		}
	}
	return deploy.ECSService{}, deploy.Errorf(op, deploy.KindNotFound, "ECS service %s/%s not found", cluster, service)
}

func toECSService(cluster string, s ecstypes.Service) deploy.ECSService {
	res := deploy.ECSService{
		Cluster:        cluster,
		Name:           aws.ToString(s.ServiceName),
		Status:         aws.ToString(s.Status),
		TaskDefinition: aws.ToString(s.TaskDefinition),
		DesiredCount:   int(s.DesiredCount),
		RunningCount:   int(s.RunningCount),
		PendingCount:   int(s.PendingCount),
	}
	for _, d := range s.Deployments {
		res.Deployments = append(res.Deployments, deploy.ECSDeployment{
			ID:             aws.ToString(d.Id),
			Status:         aws.ToString(d.Status),
			RolloutState:   string(d.RolloutState),
			RolloutReason:  aws.ToString(d.RolloutStateReason),
			TaskDefinition: aws.ToString(d.TaskDefinition),
			DesiredCount:   int(d.DesiredCount),
			RunningCount:   int(d.RunningCount),
			FailedTasks:    int(d.FailedTasks),
		})
	}
	// ECS lists the primary deployment first in practice; the port promises it, so make sure.
	sort.SliceStable(res.Deployments, func(i, j int) bool {
		return res.Deployments[i].Status == "PRIMARY" && res.Deployments[j].Status != "PRIMARY"
	})
	return res
}

// ContainerImage returns the image of the named container in a task definition.
func (c *Containers) ContainerImage(ctx context.Context, taskDefinition, container string) (string, error) {
	const op = "ecs.DescribeTaskDefinition"
	out, err := c.api.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(taskDefinition)})
	if err != nil {
		return "", mapErr(op, err, "describe task definition "+taskDefinition)
	}
	if out.TaskDefinition == nil {
		return "", deploy.Errorf(op, deploy.KindNotFound, "task definition %s not found", taskDefinition)
	}
	for _, cd := range out.TaskDefinition.ContainerDefinitions {
		if aws.ToString(cd.Name) == container {
			return aws.ToString(cd.Image), nil
		}
	}
	return "", deploy.Errorf(op, deploy.KindInvalid, "task definition %s has no container %q", taskDefinition, container)
}

// RegisterTaskDefinition registers a new revision of base's family that is identical to base except for
// container's image. Tags are base's tags overlaid with tags.
func (c *Containers) RegisterTaskDefinition(ctx context.Context, base, container, image string, tags map[string]string) (string, error) {
	const op = "ecs.RegisterTaskDefinition"
	out, err := c.api.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String(base),
		Include:        []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags},
	})
	if err != nil {
		return "", mapErr("ecs.DescribeTaskDefinition", err, "describe task definition "+base)
	}
	if out.TaskDefinition == nil {
		return "", deploy.Errorf("ecs.DescribeTaskDefinition", deploy.KindNotFound, "task definition %s not found", base)
	}
	in, err := registerInput(out.TaskDefinition, out.Tags, container, image, tags)
	if err != nil {
		return "", deploy.Wrap(op, "", err, "copy task definition "+base)
	}
	reg, err := c.api.RegisterTaskDefinition(ctx, in)
	if err != nil {
		return "", mapErr(op, err, "register a copy of "+base+" with image "+image)
	}
	if reg.TaskDefinition == nil || reg.TaskDefinition.TaskDefinitionArn == nil {
		return "", deploy.Errorf(op, deploy.KindInternal, "ECS returned no task definition ARN")
	}
	return *reg.TaskDefinition.TaskDefinitionArn, nil
}

// registerInput copies every registrable field of td. Container definitions are copied by value so
// that replacing the image does not alter td.
func registerInput(td *ecstypes.TaskDefinition, baseTags []ecstypes.Tag, container, image string, tags map[string]string) (*ecs.RegisterTaskDefinitionInput, error) {
	containers := append([]ecstypes.ContainerDefinition(nil), td.ContainerDefinitions...)
	found := false
	for i := range containers {
		if aws.ToString(containers[i].Name) == container {
			containers[i].Image = aws.String(image)
			found = true
		}
	}
	if !found {
		return nil, deploy.Errorf("", deploy.KindInvalid, "task definition %s has no container %q", aws.ToString(td.TaskDefinitionArn), container)
	}
	merged := map[string]string{}
	for _, t := range baseTags {
		merged[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	for k, v := range tags {
		merged[k] = v
	}
	var ecsTags []ecstypes.Tag
	keys := make([]string, 0, len(merged))
	for k := range merged {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ecsTags = append(ecsTags, ecstypes.Tag{Key: aws.String(k), Value: aws.String(merged[k])})
	}
	return &ecs.RegisterTaskDefinitionInput{
		Family:                        td.Family,
		ContainerDefinitions:          containers,
		Cpu:                           td.Cpu,
		EnableFaultInjection:          td.EnableFaultInjection,
		EphemeralStorage:              td.EphemeralStorage,
		ExecutionRoleArn:              td.ExecutionRoleArn,
		InferenceAccelerators:         td.InferenceAccelerators,
		IpcMode:                       td.IpcMode,
		Memory:                        td.Memory,
		NetworkMode:                   td.NetworkMode,
		PidMode:                       td.PidMode,
		PlacementConstraints:          td.PlacementConstraints,
		ProxyConfiguration:            td.ProxyConfiguration,
		RequiresCompatibilities:       td.RequiresCompatibilities,
		RuntimePlatform:               td.RuntimePlatform,
		Tags:                          ecsTags,
		TaskRoleArn:                   td.TaskRoleArn,
		TrustedExecutionConfiguration: td.TrustedExecutionConfiguration,
		Volumes:                       td.Volumes,
	}, nil
}

// UpdateService sets the service's task definition (when non-empty) and desired count.
func (c *Containers) UpdateService(ctx context.Context, cluster, service, taskDefinition string, desired int) error {
	const op = "ecs.UpdateService"
	if desired < 0 {
		return deploy.Errorf(op, deploy.KindInvalid, "desired count %d is negative", desired)
	}
	in := &ecs.UpdateServiceInput{
		Cluster:      aws.String(cluster),
		Service:      aws.String(service),
		DesiredCount: aws.Int32(int32(desired)),
	}
	if taskDefinition != "" {
		in.TaskDefinition = aws.String(taskDefinition)
	}
	_, err := c.api.UpdateService(ctx, in)
	return mapErr(op, err, fmt.Sprintf("update ECS service %s/%s (task definition %q, desired %d)", cluster, service, taskDefinition, desired))
}
