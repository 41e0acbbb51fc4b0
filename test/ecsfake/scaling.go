package ecsfake

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
)

// The fake also serves the part of Application Auto Scaling (awsJson1_1, service shape
// AnyScaleFrontendService) that switchyard and its Terraform stack use: scalable targets. kumo has none.
// Scaling policies and scheduled actions are not modelled; what is modelled is the effect of a registered
// target on its ECS service: while scale-out is not suspended, a desired count below the target's
// minimum is raised to it, and while scale-in is not suspended, one above the maximum is lowered to it.
// Real auto scaling does this on registration and, through scheduled actions and alarms, some time after
// an UpdateService; the fake does it at once (on RegisterScalableTarget, SeedScalableTarget and
// UpdateService), so a release that forgets to suspend the old slot sees it bounce back up in tests.

// ScalingTargetPrefix is the X-Amz-Target prefix of Application Auto Scaling operations, as the SDK's
// awsJson1_1 protocol builds it from the service shape name.
const ScalingTargetPrefix = "AnyScaleFrontendService."

const (
	ecsNamespace       = string(aastypes.ServiceNamespaceEcs)
	ecsDesiredCount    = string(aastypes.ScalableDimensionECSServiceDesiredCount)
	maxDescribeResults = 50
)

// scalingState is the Fake's Application Auto Scaling state, guarded by Fake.mu. Its zero value is ready.
type scalingState struct {
	targets map[string]*scalableTarget // targetKey(namespace, resource id, dimension)
	seq     int
}

type scalableTarget struct {
	namespace, resourceID, dimension string
	min, max                         int
	inSuspended, outSuspended        bool
	schedSuspended                   bool
	roleARN, arn                     string
	createdAt                        time.Time
	registrations                    int
}

func targetKey(namespace, resourceID, dimension string) string {
	return namespace + "|" + resourceID + "|" + dimension
}

// ScalableTargetSnapshot is a copy of one ECS service's scalable target.
type ScalableTargetSnapshot struct {
	ResourceID                 string // service/<cluster>/<service>
	ARN                        string
	Min, Max                   int
	DynamicScalingInSuspended  bool
	DynamicScalingOutSuspended bool
	ScheduledScalingSuspended  bool
	// Suspended is true when all three kinds of scaling are suspended.
	Suspended bool
	// Registrations counts RegisterScalableTarget calls that created or updated it (seeding excluded).
	Registrations int
}

// SeedScalableTarget registers (or replaces) the ECS service's scalable target, as Terraform would,
// with all three kinds of scaling suspended or none. The service need not exist; when it does, its
// desired count is brought into [min, max] unless suspended. It panics on min < 0 or max < min.
func (f *Fake) SeedScalableTarget(cluster, service string, min, max int, suspended bool) {
	if min < 0 || max < min {
		panic(fmt.Sprintf("ecsfake: SeedScalableTarget(%s, %s): need 0 <= min <= max, got %d, %d", cluster, service, min, max))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := "service/" + cluster + "/" + service
	t := f.scaling.targets[targetKey(ecsNamespace, id, ecsDesiredCount)]
	if t == nil {
		t = f.newScalableTargetLocked(ecsNamespace, id, ecsDesiredCount, "")
	}
	t.min, t.max = min, max
	t.inSuspended, t.outSuspended, t.schedSuspended = suspended, suspended, suspended
	f.applyScalingLocked(t)
}

// ScalableTarget returns a snapshot of the ECS service's scalable target, if registered.
func (f *Fake) ScalableTarget(cluster, service string) (ScalableTargetSnapshot, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.scaling.targets[targetKey(ecsNamespace, "service/"+cluster+"/"+service, ecsDesiredCount)]
	if t == nil {
		return ScalableTargetSnapshot{}, false
	}
	return ScalableTargetSnapshot{
		ResourceID: t.resourceID, ARN: t.arn, Min: t.min, Max: t.max,
		DynamicScalingInSuspended: t.inSuspended, DynamicScalingOutSuspended: t.outSuspended,
		ScheduledScalingSuspended: t.schedSuspended,
		Suspended:                 t.inSuspended && t.outSuspended && t.schedSuspended,
		Registrations:             t.registrations,
	}, true
}

func (f *Fake) newScalableTargetLocked(namespace, resourceID, dimension, roleARN string) *scalableTarget {
	if f.scaling.targets == nil {
		f.scaling.targets = map[string]*scalableTarget{}
	}
	f.scaling.seq++
	if roleARN == "" {
		// Application Auto Scaling uses its service-linked role when none is given.
		roleARN = fmt.Sprintf("arn:aws:iam::%s:role/aws-service-role/%s.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_%s",
			f.opts.AccountID, namespace, namespace)
	}
	t := &scalableTarget{
		namespace: namespace, resourceID: resourceID, dimension: dimension, roleARN: roleARN,
		arn:       fmt.Sprintf("arn:aws:application-autoscaling:%s:%s:scalable-target/%036x", f.opts.Region, f.opts.AccountID, f.scaling.seq),
		createdAt: time.Now(),
	}
	f.scaling.targets[targetKey(namespace, resourceID, dimension)] = t
	return t
}

// ecsServiceOf returns the cluster and service of an ECS resource id (service/<cluster>/<service>).
func ecsServiceOf(resourceID string) (cluster, service string, ok bool) {
	parts := strings.Split(resourceID, "/")
	if len(parts) != 3 || parts[0] != "service" || parts[1] == "" || parts[2] == "" {
		return "", "", false
	}
	return parts[1], parts[2], true
}

// clampDesiredLocked returns desired brought into the range of s's scalable target, as far as the
// target's suspension allows.
func (f *Fake) clampDesiredLocked(s *service, desired int) int {
	t := f.scaling.targets[targetKey(ecsNamespace, "service/"+s.cluster+"/"+s.name, ecsDesiredCount)]
	if t == nil {
		return desired
	}
	if desired < t.min && !t.outSuspended {
		return t.min
	}
	if desired > t.max && !t.inSuspended {
		return t.max
	}
	return desired
}

// applyScalingLocked scales t's ECS service into t's range, starting a deployment like UpdateService.
func (f *Fake) applyScalingLocked(t *scalableTarget) {
	if t.namespace != ecsNamespace || t.dimension != ecsDesiredCount {
		return
	}
	cluster, name, ok := ecsServiceOf(t.resourceID)
	if !ok {
		return
	}
	s := f.services[cluster+"/"+name]
	if s == nil {
		return
	}
	if d := f.clampDesiredLocked(s, s.desired); d != s.desired {
		s.desired = d
		f.startDeploymentLocked(s, s.taskDef, d)
	}
}

// ---- HTTP ----

func (f *Fake) scalingAPI() jsonAPI {
	return jsonAPI{name: "ecsfake's Application Auto Scaling", fault: "InternalServiceException", handlers: map[string]func([]byte) (any, error){
		"RegisterScalableTarget":   f.registerScalableTarget,
		"DescribeScalableTargets":  f.describeScalableTargets,
		"DeregisterScalableTarget": f.deregisterScalableTarget,
	}}
}

func validationErr(format string, args ...any) *apiError {
	return clientErr("ValidationException", format, args...)
}

// validateTargetID checks the three fields naming a scalable target.
func validateTargetID(namespace, resourceID, dimension string) error {
	if err := validateEnums(namespace, dimension); err != nil {
		return err
	}
	if dimension == "" {
		return validationErr("1 validation error detected: Value null at 'scalableDimension' failed to satisfy constraint: Member must not be null")
	}
	if resourceID == "" || len(resourceID) > 1600 {
		return validationErr("1 validation error detected: Value at 'resourceId' failed to satisfy constraint: Member must have length between 1 and 1600")
	}
	if namespace == ecsNamespace {
		if _, _, ok := ecsServiceOf(resourceID); !ok || dimension != ecsDesiredCount {
			return validationErr("Unsupported service namespace, resource type or scalable dimension")
		}
	}
	return nil
}

// validateEnums checks the namespace (required) and the dimension (when given) against the API's values.
func validateEnums(namespace, dimension string) error {
	if !slices.Contains(aastypes.ServiceNamespace("").Values(), aastypes.ServiceNamespace(namespace)) {
		return validationErr("1 validation error detected: Value '%s' at 'serviceNamespace' failed to satisfy constraint: Member must satisfy enum value set", namespace)
	}
	if dimension != "" && !slices.Contains(aastypes.ScalableDimension("").Values(), aastypes.ScalableDimension(dimension)) {
		return validationErr("1 validation error detected: Value '%s' at 'scalableDimension' failed to satisfy constraint: Member must satisfy enum value set", dimension)
	}
	return nil
}

type suspendedStateJSON struct {
	DynamicScalingInSuspended  *bool `json:"DynamicScalingInSuspended,omitempty"`
	DynamicScalingOutSuspended *bool `json:"DynamicScalingOutSuspended,omitempty"`
	ScheduledScalingSuspended  *bool `json:"ScheduledScalingSuspended,omitempty"`
}

func (f *Fake) registerScalableTarget(body []byte) (any, error) {
	var in struct {
		ServiceNamespace  string              `json:"ServiceNamespace"`
		ResourceId        string              `json:"ResourceId"`
		ScalableDimension string              `json:"ScalableDimension"`
		MinCapacity       *int                `json:"MinCapacity"`
		MaxCapacity       *int                `json:"MaxCapacity"`
		RoleARN           string              `json:"RoleARN"`
		SuspendedState    *suspendedStateJSON `json:"SuspendedState"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := validateTargetID(in.ServiceNamespace, in.ResourceId, in.ScalableDimension); err != nil {
		return nil, err
	}
	if (in.MinCapacity != nil && *in.MinCapacity < 0) || (in.MaxCapacity != nil && *in.MaxCapacity < 0) {
		return nil, validationErr("1 validation error detected: capacity must be greater than or equal to 0")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if in.ServiceNamespace == ecsNamespace {
		cluster, name, _ := ecsServiceOf(in.ResourceId)
		if !f.clusters[cluster] {
			return nil, validationErr("ECS cluster doesn't exist: %s", cluster)
		}
		if f.services[cluster+"/"+name] == nil {
			return nil, validationErr("ECS service doesn't exist: %s", in.ResourceId)
		}
	}
	key := targetKey(in.ServiceNamespace, in.ResourceId, in.ScalableDimension)
	t := f.scaling.targets[key]
	lo, hi := 0, 0
	if t != nil {
		lo, hi = t.min, t.max
	} else if in.MinCapacity == nil || in.MaxCapacity == nil {
		return nil, validationErr("MinCapacity and MaxCapacity are required for registering a new scalable target")
	}
	if in.MinCapacity != nil {
		lo = *in.MinCapacity
	}
	if in.MaxCapacity != nil {
		hi = *in.MaxCapacity
	}
	if lo > hi {
		return nil, validationErr("Minimum capacity cannot be greater than maximum capacity")
	}
	// Validated: only now create or change anything. Fields not given keep their values.
	if t == nil {
		t = f.newScalableTargetLocked(in.ServiceNamespace, in.ResourceId, in.ScalableDimension, in.RoleARN)
	} else if in.RoleARN != "" {
		t.roleARN = in.RoleARN
	}
	t.min, t.max = lo, hi
	if ss := in.SuspendedState; ss != nil {
		setIf(&t.inSuspended, ss.DynamicScalingInSuspended)
		setIf(&t.outSuspended, ss.DynamicScalingOutSuspended)
		setIf(&t.schedSuspended, ss.ScheduledScalingSuspended)
	}
	t.registrations++
	f.applyScalingLocked(t)
	return map[string]any{"ScalableTargetARN": t.arn}, nil
}

func setIf(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}

func (f *Fake) describeScalableTargets(body []byte) (any, error) {
	var in struct {
		ServiceNamespace  string   `json:"ServiceNamespace"`
		ResourceIds       []string `json:"ResourceIds"`
		ScalableDimension string   `json:"ScalableDimension"`
		MaxResults        *int     `json:"MaxResults"`
		NextToken         string   `json:"NextToken"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := validateEnums(in.ServiceNamespace, in.ScalableDimension); err != nil {
		return nil, err
	}
	if in.ScalableDimension != "" && len(in.ResourceIds) == 0 {
		return nil, validationErr("If you specify a scalable dimension, you must also specify a resource ID")
	}
	limit := maxDescribeResults
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > maxDescribeResults {
			return nil, validationErr("MaxResults must be between 1 and %d", maxDescribeResults)
		}
		limit = *in.MaxResults
	}
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(in.NextToken, "st-"))
		if err != nil || n < 0 || !strings.HasPrefix(in.NextToken, "st-") {
			return nil, clientErr("InvalidNextTokenException", "Invalid token: %s", in.NextToken)
		}
		start = n
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var matched []*scalableTarget
	for _, t := range f.scaling.targets {
		if t.namespace != in.ServiceNamespace ||
			(len(in.ResourceIds) > 0 && !slices.Contains(in.ResourceIds, t.resourceID)) ||
			(in.ScalableDimension != "" && t.dimension != in.ScalableDimension) {
			continue
		}
		matched = append(matched, t)
	}
	sort.Slice(matched, func(i, j int) bool {
		if matched[i].resourceID != matched[j].resourceID {
			return matched[i].resourceID < matched[j].resourceID
		}
		return matched[i].dimension < matched[j].dimension
	})
	out := map[string]any{}
	list := []any{}
	start = min(start, len(matched))
	end := min(start+limit, len(matched))
	for _, t := range matched[start:end] {
		list = append(list, map[string]any{
			"ServiceNamespace": t.namespace, "ResourceId": t.resourceID, "ScalableDimension": t.dimension,
			"MinCapacity": t.min, "MaxCapacity": t.max, "RoleARN": t.roleARN, "CreationTime": epoch(t.createdAt),
			"ScalableTargetARN": t.arn,
			"SuspendedState": map[string]any{
				"DynamicScalingInSuspended": t.inSuspended, "DynamicScalingOutSuspended": t.outSuspended,
				"ScheduledScalingSuspended": t.schedSuspended,
			},
		})
	}
	out["ScalableTargets"] = list
	if end < len(matched) {
		out["NextToken"] = "st-" + strconv.Itoa(end)
	}
	return out, nil
}

func (f *Fake) deregisterScalableTarget(body []byte) (any, error) {
	var in struct {
		ServiceNamespace  string `json:"ServiceNamespace"`
		ResourceId        string `json:"ResourceId"`
		ScalableDimension string `json:"ScalableDimension"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := validateTargetID(in.ServiceNamespace, in.ResourceId, in.ScalableDimension); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	key := targetKey(in.ServiceNamespace, in.ResourceId, in.ScalableDimension)
	if f.scaling.targets[key] == nil {
		return nil, clientErr("ObjectNotFoundException", "No scalable target registered for service namespace: %s, resource ID: %s, scalable dimension: %s",
			in.ServiceNamespace, in.ResourceId, in.ScalableDimension)
	}
	delete(f.scaling.targets, key)
	return map[string]any{}, nil
}
