package deploy

import (
	"context"
	"time"
)

// The interfaces below are the controller's only way to the outside world. Adapters (package awsclient,
// package sqlite) implement them; unit tests use small fakes.

// TrafficRouter reads and writes the weighted forward action of ALB routes.
type TrafficRouter interface {
	// GetWeights returns the weight of every target group in the route's forward action, by target group ARN.
	GetWeights(ctx context.Context, r Route) (map[string]int, error)
	// ReadRoutes reads many routes in as few calls as the API allows (DescribeListeners and DescribeRules
	// both take lists of ARNs). A route that does not exist is absent from the result; a route whose
	// actions have no forward action is an error for the whole call (a configuration problem).
	ReadRoutes(ctx context.Context, routes []Route) (map[Route]map[string]int, error)
	// SetWeights sets the given target groups' weights in one ModifyListener/ModifyRule call, keeping
	// everything else in the action (stickiness, other target groups) and, for rules, the conditions.
	SetWeights(ctx context.Context, r Route, weights map[string]int) error
	// ForwardTo makes the route forward everything to one target group (the test listener follows the
	// colour being released), keeping every other part of its actions.
	ForwardTo(ctx context.Context, r Route, targetGroupARN string) error
	// TargetHealth returns the health of every registered target of a target group.
	TargetHealth(ctx context.Context, targetGroupARN string) ([]Target, error)
	// DeregistrationDelay returns the target group's deregistration delay.
	DeregistrationDelay(ctx context.Context, targetGroupARN string) (time.Duration, error)
	// HealthCheckInterval returns the target group's health check interval: target health changes no
	// faster than this, so it is read at that cadence.
	HealthCheckInterval(ctx context.Context, targetGroupARN string) (time.Duration, error)
}

// Target is one registered target and its health as the load balancer reports it.
type Target struct {
	ID     string `json:"id"`
	Port   int    `json:"port"`
	State  string `json:"state"` // initial, healthy, unhealthy, unused, draining, unavailable
	Reason string `json:"reason,omitempty"`
}

// Healthy reports whether the target receives traffic.
func (t Target) Healthy() bool { return t.State == "healthy" }

// ECSService is what the controller needs to know about one ECS service.
type ECSService struct {
	Cluster        string `json:"cluster"`
	Name           string `json:"name"`
	Status         string `json:"status"` // ACTIVE, DRAINING, INACTIVE
	TaskDefinition string `json:"task_definition"`
	DesiredCount   int    `json:"desired_count"`
	RunningCount   int    `json:"running_count"`
	PendingCount   int    `json:"pending_count"`
	// Deployments are ECS's own deployments of this service, primary first.
	Deployments []ECSDeployment `json:"deployments"`
}

// ECSDeployment mirrors an ECS service deployment.
type ECSDeployment struct {
	ID             string `json:"id"`
	Status         string `json:"status"`        // PRIMARY, ACTIVE, INACTIVE
	RolloutState   string `json:"rollout_state"` // IN_PROGRESS, COMPLETED, FAILED
	RolloutReason  string `json:"rollout_reason,omitempty"`
	TaskDefinition string `json:"task_definition"`
	DesiredCount   int    `json:"desired_count"`
	RunningCount   int    `json:"running_count"`
	FailedTasks    int    `json:"failed_tasks"`
}

// Stable reports whether the service runs exactly one deployment with every desired task running.
func (s ECSService) Stable() bool {
	if len(s.Deployments) != 1 {
		return false
	}
	d := s.Deployments[0]
	return d.RolloutState != "FAILED" && d.TaskDefinition == s.TaskDefinition &&
		s.RunningCount == s.DesiredCount && d.RunningCount == d.DesiredCount && s.PendingCount == 0
}

// Failed returns ECS's reason when its primary deployment failed (e.g. the circuit breaker tripped).
func (s ECSService) Failed() (string, bool) {
	for _, d := range s.Deployments {
		if d.Status == "PRIMARY" && d.RolloutState == "FAILED" {
			if d.RolloutReason == "" {
				return "ECS deployment " + d.ID + " failed", true
			}
			return d.RolloutReason, true
		}
	}
	return "", false
}

// Containers is the ECS side: task definitions and services.
type Containers interface {
	DescribeService(ctx context.Context, cluster, service string) (ECSService, error)
	// DescribeServices reads many services of one cluster in as few calls as the API allows (10 names a
	// DescribeServices call). A service that does not exist is absent from the result.
	DescribeServices(ctx context.Context, cluster string, services []string) (map[string]ECSService, error)
	// ContainerImage returns the image of the named container in a task definition.
	ContainerImage(ctx context.Context, taskDefinition, container string) (string, error)
	// RegisterTaskDefinition registers a copy of base with only container's image replaced, tagged with
	// tags, and returns the new revision's ARN.
	RegisterTaskDefinition(ctx context.Context, base, container, image string, tags map[string]string) (string, error)
	// UpdateService sets the service's task definition (when non-empty) and desired count.
	UpdateService(ctx context.Context, cluster, service, taskDefinition string, desired int) error
}

// AlarmState is a CloudWatch alarm's state.
type AlarmState struct {
	Name      string    `json:"name"`
	State     string    `json:"state"` // OK, ALARM, INSUFFICIENT_DATA
	Reason    string    `json:"reason,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Firing reports whether the alarm is in ALARM.
func (a AlarmState) Firing() bool { return a.State == "ALARM" }

// Alarms reads CloudWatch alarm states. Implementations batch names into as few DescribeAlarms calls as
// the API allows (100 names per call). Names that do not exist are absent from the result.
type Alarms interface {
	AlarmStates(ctx context.Context, names []string) (map[string]AlarmState, error)
}

// Images checks that an image tag exists in its registry (ECR BatchGetImage).
type Images interface {
	// TagExists reports whether repository (a full image repository URI or an ECR repository name)
	// holds tag. ok is false with a nil error when the repository is not one this checker knows
	// (e.g. not ECR), so the caller can skip the check.
	TagExists(ctx context.Context, repository, tag string) (exists bool, checked bool, err error)
}

// ListFilter selects deployments.
type ListFilter struct {
	Service    string
	ActiveOnly bool
	Limit      int // 0 = store default (100)
}

// Store persists deployments and their events. Implementations must make CreateDeployment fail with
// KindConflict (ActiveID set) when the service already has an active deployment, atomically, and
// UpdateDeployment fail with KindConflict when d.Version is not the stored version; on success both set
// d.Version to the new stored version.
type Store interface {
	CreateDeployment(ctx context.Context, d *Deployment) error
	UpdateDeployment(ctx context.Context, d *Deployment) error
	GetDeployment(ctx context.Context, id string) (*Deployment, error) // KindNotFound when absent
	// ActiveDeployment returns the service's active deployment (KindNotFound when there is none) with a
	// strongly consistent point read of the service's lock, never a scan of its history.
	ActiveDeployment(ctx context.Context, service string) (*Deployment, error)
	ListDeployments(ctx context.Context, f ListFilter) ([]*Deployment, error) // newest first
	// AppendEvent stores e, assigning e.Seq (increasing per store).
	AppendEvent(ctx context.Context, e *Event) error
	// Events returns a deployment's events with Seq > afterSeq, oldest first.
	Events(ctx context.Context, deploymentID string, afterSeq int64) ([]Event, error)
	Close() error
}

// ScalableTarget is an ECS service's Application Auto Scaling registration.
type ScalableTarget struct {
	Registered bool `json:"registered"` // false: the service is not auto scaled (nothing to hand over)
	Min        int  `json:"min"`
	Max        int  `json:"max"`
	// Suspended is true when dynamic scaling in/out and scheduled scaling are all suspended.
	Suspended bool `json:"suspended"`
}

// Scaling reads and sets the auto scaling of an ECS service. The Terraform stack registers both slots,
// the idle one suspended at a floor of 0; after a release the controller hands the live slot's floor,
// ceiling and active scaling over to the new live slot and suspends the old one, or the market-open
// schedule would scale the old slot back up.
type Scaling interface {
	GetScaling(ctx context.Context, cluster, service string) (ScalableTarget, error)
	// SetScaling updates a registered target's min, max and suspension (all three scaling kinds).
	SetScaling(ctx context.Context, cluster, service string, t ScalableTarget) error
}
