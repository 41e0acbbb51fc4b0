package awsclient

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// AutoScalingAPI is the part of the Application Auto Scaling API the scaling adapter uses.
type AutoScalingAPI interface {
	DescribeScalableTargets(ctx context.Context, in *aas.DescribeScalableTargetsInput, optFns ...func(*aas.Options)) (*aas.DescribeScalableTargetsOutput, error)
	RegisterScalableTarget(ctx context.Context, in *aas.RegisterScalableTargetInput, optFns ...func(*aas.Options)) (*aas.RegisterScalableTargetOutput, error)
}

// Scaling implements deploy.Scaling on Application Auto Scaling (ECS service desired count).
type Scaling struct {
	api AutoScalingAPI
}

// NewScaling returns an adapter using api (an *applicationautoscaling.Client in production).
func NewScaling(api AutoScalingAPI) *Scaling { return &Scaling{api: api} }

// ECSResourceID is the Application Auto Scaling resource id of an ECS service: service/<cluster>/<service>.
// cluster and service may be names or ARNs.
func ECSResourceID(cluster, service string) string {
	if strings.HasPrefix(cluster, "arn:") {
		cluster = cluster[strings.LastIndex(cluster, "/")+1:]
	}
	if strings.HasPrefix(service, "arn:") {
		service = service[strings.LastIndex(service, "/")+1:]
	}
	return "service/" + cluster + "/" + service
}

// GetScaling reads the service's scalable target. A service that is not registered is not an error:
// Registered is false.
func (s *Scaling) GetScaling(ctx context.Context, cluster, service string) (deploy.ScalableTarget, error) {
	const op = "autoscaling.DescribeScalableTargets"
	id := ECSResourceID(cluster, service)
	in := &aas.DescribeScalableTargetsInput{
		ServiceNamespace:  aastypes.ServiceNamespaceEcs,
		ResourceIds:       []string{id},
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
	}
	for {
		out, err := s.api.DescribeScalableTargets(ctx, in)
		if err != nil {
			return deploy.ScalableTarget{}, scalingErr(op, err, fmt.Sprintf("read the auto scaling of ECS service %s", id))
		}
		for _, t := range out.ScalableTargets {
			if aws.ToString(t.ResourceId) != id || t.ScalableDimension != aastypes.ScalableDimensionECSServiceDesiredCount {
				continue
			}
			st := deploy.ScalableTarget{
				Registered: true,
				Min:        int(aws.ToInt32(t.MinCapacity)),
				Max:        int(aws.ToInt32(t.MaxCapacity)),
			}
			if ss := t.SuspendedState; ss != nil {
				// Partly suspended counts as active: something could still scale the service.
				st.Suspended = aws.ToBool(ss.DynamicScalingInSuspended) && aws.ToBool(ss.DynamicScalingOutSuspended) &&
					aws.ToBool(ss.ScheduledScalingSuspended)
			}
			return st, nil
		}
		next := aws.ToString(out.NextToken)
		if next == "" || next == aws.ToString(in.NextToken) {
			return deploy.ScalableTarget{}, nil
		}
		cp := *in
		cp.NextToken = aws.String(next)
		in = &cp
	}
}

// SetScaling sets the service's min and max capacity and suspends or resumes all three kinds of scaling
// in one RegisterScalableTarget call. t.Registered must be true: a zero ScalableTarget (what GetScaling
// returns for an unregistered service) would otherwise register the service with a ceiling of 0 and let
// auto scaling drain it. Note that RegisterScalableTarget registers a target that does not exist yet.
func (s *Scaling) SetScaling(ctx context.Context, cluster, service string, t deploy.ScalableTarget) error {
	const op = "autoscaling.RegisterScalableTarget"
	id := ECSResourceID(cluster, service)
	switch {
	case !t.Registered:
		return deploy.Errorf(op, deploy.KindInvalid, "set the auto scaling of ECS service %s: target is not marked registered", id)
	case t.Min < 0 || t.Max < t.Min:
		return deploy.Errorf(op, deploy.KindInvalid, "set the auto scaling of ECS service %s: need 0 <= min <= max, got min %d max %d", id, t.Min, t.Max)
	case t.Max > 1<<31-1:
		return deploy.Errorf(op, deploy.KindInvalid, "set the auto scaling of ECS service %s: max %d is out of range", id, t.Max)
	}
	_, err := s.api.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{
		ServiceNamespace:  aastypes.ServiceNamespaceEcs,
		ResourceId:        aws.String(id),
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
		MinCapacity:       aws.Int32(int32(t.Min)),
		MaxCapacity:       aws.Int32(int32(t.Max)),
		SuspendedState: &aastypes.SuspendedState{
			DynamicScalingInSuspended:  aws.Bool(t.Suspended),
			DynamicScalingOutSuspended: aws.Bool(t.Suspended),
			ScheduledScalingSuspended:  aws.Bool(t.Suspended),
		},
	})
	verb := "resume"
	if t.Suspended {
		verb = "suspend"
	}
	return scalingErr(op, err, fmt.Sprintf("set the auto scaling of ECS service %s to min %d max %d (%s)", id, t.Min, t.Max, verb))
}

// scalingErr maps Application Auto Scaling's own not-found code, which the shared table does not know,
// and leaves the rest to mapErr (ConcurrentUpdateException and InternalServiceException are server
// faults, hence unavailable).
func scalingErr(op string, err error, msg string) error {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "ObjectNotFoundException" {
		return deploy.Wrap(op, deploy.KindNotFound, err, msg)
	}
	return mapErr(op, err, msg)
}
