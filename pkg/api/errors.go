package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// Transport-level refusals: kinds of this package for answers that no domain error explains. They go
// through StatusOf like every other kind.
const (
	KindTooLarge         deploy.Kind = "too_large"              // body or headers over the limit
	KindUnsupportedMedia deploy.Kind = "unsupported_media_type" // a body that is not application/json
	KindMethodNotAllowed deploy.Kind = "method_not_allowed"     // the path exists, the method does not
)

// RetryAfterSeconds is the Retry-After sent with 503 throttled answers.
const RetryAfterSeconds = 1

// StatusOf is the single place where an error kind becomes an HTTP status.
//
// KindPrecondition maps to 409: "conflicts with the current state of the resource", e.g. traffic split
// in a way no deployment explains. KindGuardFiring maps to 412 Precondition Failed: a guard already
// says no (an alarm in ALARM) and the same request, repeated with force and a reason, would be
// accepted; 412 tells a client that the request is well-formed and its condition is what failed.
// (RFC 9110 ties 412 to conditional headers; here the condition is the guard state, named in the body.)
// Clients tell kinds sharing a status apart by the error code in the body.
func StatusOf(k deploy.Kind) int {
	switch k {
	case deploy.KindInvalid:
		return http.StatusBadRequest
	case deploy.KindNotFound:
		return http.StatusNotFound
	case deploy.KindConflict, deploy.KindPrecondition:
		return http.StatusConflict
	case deploy.KindGuardFiring:
		return http.StatusPreconditionFailed
	case deploy.KindUnauthorized:
		return http.StatusUnauthorized
	case deploy.KindForbidden:
		return http.StatusForbidden
	case deploy.KindUnavailable, deploy.KindThrottled:
		return http.StatusServiceUnavailable
	case deploy.KindTimeout:
		return http.StatusGatewayTimeout
	case KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case KindUnsupportedMedia:
		return http.StatusUnsupportedMediaType
	case KindMethodNotAllowed:
		return http.StatusMethodNotAllowed
	default:
		return http.StatusInternalServerError
	}
}

// errorMessage returns the message shown to API clients. Internal errors that are not *deploy.Error may
// carry anything (driver strings, file paths), so their detail stays in the daemon log.
func errorMessage(err error) string {
	var de *deploy.Error
	if deploy.KindOf(err) == deploy.KindInternal && !errors.As(err, &de) {
		return "internal error (details in the daemon log)"
	}
	return deploy.MessageOf(err)
}

// writeError maps err to its status and JSON body. 5xx errors are logged with their full chain.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	kind := deploy.KindOf(err)
	status := StatusOf(kind)
	if status >= 500 {
		s.log.Error("request failed", zap.String("method", r.Method), zap.String("path", r.URL.Path), zap.Error(err))
	}
	switch kind {
	case deploy.KindUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="switchyard"`)
	case deploy.KindThrottled:
		w.Header().Set("Retry-After", strconv.Itoa(RetryAfterSeconds))
	}
	writeJSON(w, status, ErrorResponse{Error: ErrorDetail{
		Code:             string(kind),
		Message:          errorMessage(err),
		ActiveDeployment: deploy.ActiveIDOf(err),
	}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away; nothing useful to do
}
