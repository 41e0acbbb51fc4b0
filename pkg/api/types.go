package api

import "github.com/switchyard/switchyard/pkg/deploy"

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
