// Package api serves switchyard's HTTP JSON API (/v1), the health endpoints and /metrics. It
// authenticates bearer tokens, maps domain errors to statuses in one place (StatusOf) and delegates every
// decision to the Controller.
//
// Routes:
//
//	POST /v1/services/{service}/deployments    {"image_tag", "strategy"?, "reason"?, "force"?} -> 201 deployment
//	GET  /v1/services/{service}/deployments    ?active=true&limit=N -> deployments, newest first
//	GET  /v1/services                          services with live weights
//	GET  /v1/deployments/{id}                  one deployment
//	GET  /v1/deployments/{id}/events           ?after=SEQ -> audit events, oldest first
//	GET  /v1/deployments/{id}/analysis         the deployment's analysis: verdicts, measurements, why
//	POST /v1/deployments/{id}/abort|pause|resume|promote   {"reason"?} -> 200 deployment
//	POST /v1/reload                            re-read the configuration (services, tokens)
//	GET|POST /v1/freezes, DELETE /v1/freezes/{id}        freezes (no step starts inside one)
//	GET|POST /v1/closures, DELETE /v1/closures/{id}      exchange closures the rules do not know
//	GET|POST /v1/schedules, POST /v1/schedules/{name}/pause|resume, DELETE /v1/schedules/{name}
//	GET /v1/{freezes|closures|schedules}/{id}/events     the object's audit trail
//	(POST .../deployments with "dry_run": true answers 200 with the timeline and creates nothing;
//	"start_at" keeps a deployment pending until then. See docs/schedules.md.)
//	GET  /healthz, /readyz, /metrics           no authentication
//	GET  /v1/openapi.json                      this API's OpenAPI document (openapi.go), no authentication
//
// Every /v1 route needs "Authorization: Bearer <token>"; the token's name is the actor recorded in the
// audit log; read-only tokens get 403 on POST routes. Errors are {"error": {"code", "message",
// "active_deployment"?}} with the status chosen by StatusOf.
//
// Input is strict: bodies are application/json with no duplicate, case-variant or unknown keys and every
// value in range (strict.go; Strategy.Plan for strategies), query strings carry only the route's
// parameters, each once, and a path that is not canonical is refused (400), never redirected. With
// JSONErrorListener even net/http's own refusals (431 oversized headers, malformed requests) are JSON.
package api

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/metrics"
)

// Controller is the deployment controller as the API sees it (implemented by pkg/controller).
type Controller interface {
	Create(ctx context.Context, req deploy.CreateRequest) (*deploy.Deployment, error)
	Get(ctx context.Context, id string) (*deploy.Deployment, error)
	List(ctx context.Context, f deploy.ListFilter) ([]*deploy.Deployment, error)
	Events(ctx context.Context, id string, afterSeq int64) ([]deploy.Event, error)
	Abort(ctx context.Context, req deploy.ActionRequest) (*deploy.Deployment, error)
	Pause(ctx context.Context, req deploy.ActionRequest) (*deploy.Deployment, error)
	Resume(ctx context.Context, req deploy.ActionRequest) (*deploy.Deployment, error)
	Promote(ctx context.Context, req deploy.ActionRequest) (*deploy.Deployment, error)
	Services(ctx context.Context) ([]deploy.ServiceStatus, error)
	SetServices(map[string]deploy.Service)
}

// Reloader re-reads the daemon configuration (services and tokens). actor is the token name that asked.
type Reloader func(ctx context.Context, actor string) error

// ReadyFunc reports whether the daemon can serve (store open, recovery done); nil error means ready.
type ReadyFunc func(ctx context.Context) error

// Options configures a Server. Controller is required; everything else is optional.
type Options struct {
	Controller Controller
	Tokens     []Token
	Reload     Reloader  // nil: POST /v1/reload answers 503
	Ready      ReadyFunc // nil: always ready
	Logger     *zap.Logger
	Metrics    *metrics.Metrics
	// DisableMetricsEndpoint removes GET /metrics. The endpoint is unauthenticated when enabled because
	// Prometheus scrapers usually carry no bearer token and the metrics hold counts and service names,
	// no secrets; operators exposing the listener beyond a trusted network can turn it off.
	DisableMetricsEndpoint bool
}

// Server is the API's http.Handler.
type Server struct {
	ctl     Controller
	auth    authenticator
	reload  Reloader
	ready   ReadyFunc
	log     *zap.Logger
	metrics *metrics.Metrics
	mux     *http.ServeMux
}

// New builds the server and its routes. It fails when the tokens are unusable (see SetTokens).
func New(o Options) (*Server, error) {
	if o.Controller == nil {
		return nil, fmt.Errorf("api: controller is required")
	}
	s := &Server{ctl: o.Controller, reload: o.Reload, ready: o.Ready, log: o.Logger, metrics: o.Metrics, mux: http.NewServeMux()}
	if s.log == nil {
		s.log = zap.NewNop()
	}
	if err := s.SetTokens(o.Tokens); err != nil {
		return nil, err
	}

	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, StatusResponse{Status: "ok"})
	})
	s.mux.HandleFunc("GET /readyz", s.handleReady)
	s.mux.HandleFunc("GET /v1/openapi.json", ServeOpenAPI)
	if !o.DisableMetricsEndpoint && o.Metrics != nil {
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(o.Metrics.Registry, promhttp.HandlerOpts{}))
	}

	s.route("POST /v1/services/{service}/deployments", true, s.handleCreate)
	s.route("GET /v1/services/{service}/deployments", false, s.handleList)
	s.route("GET /v1/services", false, s.handleServices)
	s.route("GET /v1/deployments/{id}", false, s.handleGet)
	s.route("GET /v1/deployments/{id}/events", false, s.handleEvents)
	s.route("GET /v1/deployments/{id}/analysis", false, s.handleAnalysis)
	s.route("POST /v1/deployments/{id}/abort", true, s.action(s.ctl.Abort))
	s.route("POST /v1/deployments/{id}/pause", true, s.action(s.ctl.Pause))
	s.route("POST /v1/deployments/{id}/resume", true, s.action(s.ctl.Resume))
	s.route("POST /v1/deployments/{id}/promote", true, s.action(s.ctl.Promote))
	s.route("POST /v1/reload", true, s.handleReload)
	s.calendarRoutes()
	return s, nil
}

// SetTokens replaces the accepted tokens atomically (config reload). Requests in flight finish with the
// set they started with. Names must be unique, secrets at least 16 characters and distinct. An empty set
// is allowed and refuses every authenticated request.
func (s *Server) SetTokens(ts []Token) error {
	set, err := newTokenSet(ts)
	if err != nil {
		return err
	}
	s.auth.set.Store(set)
	return nil
}

// Handle mounts h on the server's mux (the dashboard: "GET /{$}" and "/ui/"), behind the same path
// checks, metrics and access log as the API's own routes; h does its own authentication.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Identify reports which current token secret belongs to, for the dashboard's sessions: a reload
// that removes or demotes a token applies to them at once.
func (s *Server) Identify(secret string) (name string, readOnly bool, ok bool) {
	e, ok := s.auth.set.Load().lookup(secret)
	return e.name, e.readOnly, ok
}

// apiHandler is a route handler that reports failure by returning an error; actor is the token name.
type apiHandler func(w http.ResponseWriter, r *http.Request, actor string) error

// route registers an authenticated route. write routes refuse read-only tokens before reading the body.
func (s *Server) route(pattern string, write bool, h apiHandler) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		tok, err := s.auth.authenticate(r, write)
		if info := requestInfoFrom(r.Context()); info != nil {
			info.actor = tok.name
		}
		if err == nil {
			err = h(w, r, tok.name)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	})
}

// dispatch serves r through the mux, refusing unclean paths before the mux could redirect them and
// answering unmatched requests in JSON. It returns the route label for metrics and the access log.
func (s *Server) dispatch(rec *statusRecorder, r *http.Request) string {
	if err := canonicalPath(r); err != nil {
		s.writeError(rec, r, err)
		return "unclean"
	}
	_, pattern := s.mux.Handler(r)
	route := pattern
	if pattern == "" {
		route = "unmatched"
		rec.swallow = true
	}
	func() {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic in handler", zap.Any("panic", p), zap.ByteString("stack", debug.Stack()))
				if rec.status == 0 {
					rec.status = http.StatusInternalServerError
					writeJSON(rec.ResponseWriter, http.StatusInternalServerError, ErrorResponse{Error: ErrorDetail{
						Code: string(deploy.KindInternal), Message: "internal error (details in the daemon log)"}})
				}
			}
		}()
		s.mux.ServeHTTP(rec, r)
	}()
	if rec.swallow {
		err := deploy.Errorf("api", deploy.KindNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path)
		if rec.status == http.StatusMethodNotAllowed {
			err = deploy.Errorf("api", KindMethodNotAllowed, "method %s not allowed on %s", r.Method, r.URL.Path)
		}
		rec.swallow, rec.status = false, 0
		s.writeError(rec, r, err)
	}
	return route
}

// requestInfo carries what the handler learns (the actor) back out to the access log.
type requestInfo struct{ actor string }

type requestInfoKey struct{}

func requestInfoFrom(ctx context.Context) *requestInfo {
	v, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return v
}

// statusRecorder remembers the status written by the handler for metrics and the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	// swallow discards the ServeMux's plain-text 404/405 body so that ServeHTTP can send JSON instead.
	swallow bool
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	if !w.swallow {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.swallow {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ServeHTTP dispatches, recovers panics, answers unmatched requests in JSON, counts requests by route
// pattern (not raw path, which would explode label cardinality) and writes one access-log line.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	info := &requestInfo{}
	r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info))
	rec := &statusRecorder{ResponseWriter: w}

	route := s.dispatch(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}

	if s.metrics != nil {
		s.metrics.HTTPRequests.WithLabelValues(route, strconv.Itoa(rec.status)).Inc()
	}
	// Mutations and refusals at info; successful reads (a `watch` polls twice a second) and probes at
	// debug, so that the default log stays readable. The audit trail of what changed is the event log.
	level := zapcore.InfoLevel
	switch {
	case rec.status >= 500:
		level = zapcore.WarnLevel
	case rec.status < 400 && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		level = zapcore.DebugLevel
	}
	if ce := s.log.Check(level, "http request"); ce != nil {
		ce.Write(zap.String("method", r.Method), zap.String("route", route), zap.String("path", r.URL.Path),
			zap.Int("status", rec.status), zap.Duration("duration", time.Since(start)),
			zap.String("actor", info.actor), zap.String("remote", r.RemoteAddr))
	}
}
