package api

import (
	"time"

	"github.com/switchyard/switchyard/pkg/calendar"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/schedule"
)

// Wire types shared with package client, so that the request and error formats are defined once.

// CreateDeploymentBody is the body of POST /v1/services/{service}/deployments. The service comes from the
// path only: a "service" field in the body is rejected as unknown.
type CreateDeploymentBody struct {
	ImageTag string           `json:"image_tag"`
	Strategy *deploy.Strategy `json:"strategy,omitempty"`
	Reason   string           `json:"reason,omitempty"`
	// Force accepts the deployment although a guarding alarm is already in ALARM (otherwise 412
	// guard_firing); it needs a non-empty Reason, and is audited.
	Force bool `json:"force,omitempty"`
	// StartAt keeps the deployment pending, changing nothing, until then (RFC 3339).
	StartAt *time.Time `json:"start_at,omitempty"`
	// DryRun answers 200 with the timeline (deploy.DryRun) and creates nothing.
	DryRun bool `json:"dry_run,omitempty"`
}

// FreezeBody is the body of POST /v1/freezes.
type FreezeBody = calendar.Freeze

// ClosureBody is the body of POST /v1/closures.
type ClosureBody = calendar.Closure

// ScheduleBody is the body of POST /v1/schedules.
type ScheduleBody struct {
	Name    string          `json:"name"`
	Service string          `json:"service"`
	Cron    string          `json:"cron"`
	TZ      string          `json:"tz,omitempty"`
	Tags    string          `json:"tags"`
	Policy  schedule.Policy `json:"policy,omitempty"`
	Paused  bool            `json:"paused,omitempty"`
}

// ActionBody is the (optional) body of POST /v1/deployments/{id}/{abort,pause,resume,promote} and
// POST /v1/reload.
type ActionBody struct {
	Reason string `json:"reason,omitempty"`
}

// ErrorResponse is the body of every non-2xx response.
type ErrorResponse struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail describes a failure. Code is a deploy.Kind, or one of this package's transport kinds
// (too_large, unsupported_media_type, method_not_allowed); ActiveDeployment is set on conflicts caused by another active deployment.
type ErrorDetail struct {
	Code             string `json:"code"`
	Message          string `json:"message"`
	ActiveDeployment string `json:"active_deployment,omitempty"`
}

// StatusResponse is the body of /healthz, /readyz and /v1/reload on success.
type StatusResponse struct {
	Status string `json:"status"`
}

// MaxBodyBytes bounds request bodies; every legitimate body is a few hundred bytes.
const MaxBodyBytes = 1 << 20
