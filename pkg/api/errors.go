package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// StatusOf is the single place where an error kind becomes an HTTP status.
//
// KindPrecondition maps to 409, not 412: RFC 9110 reserves 412 for failed conditional headers (If-Match
// and friends), which this API does not use, whereas 409 means "conflicts with the current state of the
// resource" — exactly a precondition such as "traffic is split in a way no deployment explains". Clients
// tell it apart from KindConflict by the error code in the body.
func StatusOf(k deploy.Kind) int {
	switch k {
	case deploy.KindInvalid:
		return http.StatusBadRequest
	case deploy.KindNotFound:
		return http.StatusNotFound
	case deploy.KindConflict, deploy.KindPrecondition:
		return http.StatusConflict
	case deploy.KindUnauthorized:
		return http.StatusUnauthorized
	case deploy.KindForbidden:
		return http.StatusForbidden
	case deploy.KindUnavailable:
		return http.StatusServiceUnavailable
	case deploy.KindTimeout:
		return http.StatusGatewayTimeout
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
	if kind == deploy.KindUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="switchyard"`)
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
