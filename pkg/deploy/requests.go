package deploy

import "time"

// CreateRequest asks for a deployment of ImageTag to Service. Strategy, when set, overrides the service's
// default strategy for this deployment.
type CreateRequest struct {
	Service  string    `json:"service"`
	ImageTag string    `json:"image_tag"`
	Strategy *Strategy `json:"strategy,omitempty"`
	Actor    string    `json:"-"` // the authenticated token's name
	Reason   string    `json:"reason,omitempty"`
	// Force accepts the deployment although a guarding alarm is already in ALARM; Reason is then
	// required, and the forced guards are named in the audit trail.
	Force bool `json:"force,omitempty"`
	// StartAt holds the deployment, pending and changing nothing, until then (deploy --at).
	StartAt *time.Time `json:"start_at,omitempty"`
	// DryRun returns the timeline (DryRun) and changes nothing.
	DryRun bool `json:"dry_run,omitempty"`
}

// ActionRequest is an operator action (abort, pause, resume, promote) on a deployment.
type ActionRequest struct {
	ID     string `json:"-"`
	Actor  string `json:"-"`
	Reason string `json:"reason,omitempty"`
}

// ServiceStatus is a service as the API lists it: its configuration summary, the weights read live from
// the ALB (per route) and its active deployment, if any.
type ServiceStatus struct {
	Name         string          `json:"name"`
	Cluster      string          `json:"cluster"`
	ECSServices  map[Slot]string `json:"ecs_services"`
	TargetGroups map[Slot]string `json:"target_groups"`
	Routes       []RouteWeights  `json:"routes"`
	LiveSlot     Slot            `json:"live_slot,omitempty"` // empty when traffic is split
	Active       string          `json:"active_deployment,omitempty"`
	Error        string          `json:"error,omitempty"` // reading live weights failed
	// ReadAt is when Routes were read from the ALB (they come from a cache refreshed in the background);
	// AgeSeconds is how old they were when this answer was built.
	ReadAt     *time.Time `json:"read_at,omitempty"`
	AgeSeconds float64    `json:"age_seconds"`
	// Quarantined lists records of this service that the daemon cannot read back (see docs/recovery.md).
	Quarantined []string `json:"quarantined,omitempty"`
}

// RouteWeights is one route with the weights read from the ALB.
type RouteWeights struct {
	Route   Route   `json:"route"`
	Weights Weights `json:"weights"`
}
