// Package dashboard is the daemon's web dashboard: one page (embedded, no CDN, no build step) showing
// services, active deployments, their audit trails and history, updated live from the event hub over
// server-sent events, with pause/resume/promote/abort for tokens that may mutate.
//
// Sign-in is with an API token, posted once in a form; the browser then holds only an HttpOnly,
// SameSite=Strict session cookie naming a server-side session, which expires. Every mutating request
// needs the session's CSRF token in X-CSRF-Token and an Origin of this host. No session, no data: the
// data endpoints and the stream answer 401. Actions go through the same controller calls as the API,
// with the token's name as the audit actor. See docs/dashboard.md.
//
// Routes (mount them on the daemon's mux: "GET /{$}" and "/ui/"):
//
//	GET  /                          the page (it holds no data)
//	GET  /ui/app.js, /ui/app.css    its assets
//	POST /ui/login                  form token=<API token> -> 303 /, session cookie
//	POST /ui/logout                 ends the session (CSRF)
//	GET  /ui/api/session            who is signed in, may they act, the CSRF token
//	GET  /ui/api/overview           services, active deployments (live guards and analysis), history
//	GET  /ui/api/deployments/{id}   one deployment, its audit trail and its weights over time
//	POST /ui/api/deployments/{id}/{pause|resume|promote|abort}   {"reason"} (abort needs one)
//	GET  /ui/stream                 server-sent events: deployment, event, lagging
package dashboard

import (
	"context"
	"embed"
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/eventhub"
)

//go:embed assets
var assets embed.FS

// Controller is what the dashboard reads and acts through: the subset of api.Controller it needs,
// so that an action from the page is the same call as the API's.
type Controller interface {
	Get(ctx context.Context, id string) (*deploy.Deployment, error)
	List(ctx context.Context, f deploy.ListFilter) ([]*deploy.Deployment, error)
	Events(ctx context.Context, id string, afterSeq int64) ([]deploy.Event, error)
	Services(ctx context.Context) ([]deploy.ServiceStatus, error)
	Abort(ctx context.Context, req deploy.ActionRequest) (*deploy.Deployment, error)
	Pause(ctx context.Context, req deploy.ActionRequest) (*deploy.Deployment, error)
	Resume(ctx context.Context, req deploy.ActionRequest) (*deploy.Deployment, error)
	Promote(ctx context.Context, req deploy.ActionRequest) (*deploy.Deployment, error)
}

// Authenticator checks an API token secret against the daemon's current tokens (the API server's,
// so that a reload that removes a token also ends its sessions).
type Authenticator interface {
	Identify(secret string) (name string, readOnly bool, ok bool)
}

// Options configures the dashboard. Controller and Auth are required.
type Options struct {
	Controller Controller
	Auth       Authenticator
	// Hub feeds the live stream; nil: the page still works and refreshes on its own actions only.
	Hub   *eventhub.Hub
	Clock clock.Clock // default clock.Real
	// SessionTTL bounds a session from sign-in (default 8h); there is no renewal.
	SessionTTL time.Duration
	// SecureCookies marks the cookie Secure on plain HTTP too (TLS ends at a proxy in front); it is
	// Secure whenever the request came over TLS.
	SecureCookies bool
	// Heartbeat is the interval of the stream's keep-alive comments (default 15s).
	Heartbeat time.Duration
	Logger    *zap.Logger
}

// Defaults of Options.
const (
	DefaultSessionTTL = 8 * time.Hour
	DefaultHeartbeat  = 15 * time.Second
	// MaxSessions bounds the session table; signing in beyond it evicts the oldest session.
	MaxSessions = 10000
	// HistoryLimit is how many recent deployments the overview lists.
	HistoryLimit = 50
)

// Dashboard is the dashboard's http.Handler.
type Dashboard struct {
	o        Options
	mux      *http.ServeMux
	sessions *sessions
	// closing ends every open stream at shutdown (http.Server.Shutdown does not end hijack-free
	// long-lived responses on its own; it would wait for them).
	closeOnce sync.Once
	closing   chan struct{}
}

// New builds the dashboard. It panics when Controller or Auth is missing: that is a wiring bug.
func New(o Options) *Dashboard {
	if o.Controller == nil || o.Auth == nil {
		panic("dashboard: Controller and Auth are required")
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	d := &Dashboard{o: o, mux: http.NewServeMux(), sessions: newSessions(o.Clock, o.SessionTTL), closing: make(chan struct{})}
	d.mux.HandleFunc("GET /{$}", d.page)
	d.mux.HandleFunc("GET /ui/app.js", d.asset("assets/app.js", "text/javascript; charset=utf-8"))
	d.mux.HandleFunc("GET /ui/app.css", d.asset("assets/app.css", "text/css; charset=utf-8"))
	d.mux.HandleFunc("POST /ui/login", d.login)
	d.mux.HandleFunc("POST /ui/logout", d.mutating(d.logout))
	d.mux.HandleFunc("GET /ui/api/session", d.reading(d.session))
	d.mux.HandleFunc("GET /ui/api/overview", d.reading(d.overview))
	d.mux.HandleFunc("GET /ui/api/deployments/{id}", d.reading(d.deployment))
	d.mux.HandleFunc("POST /ui/api/deployments/{id}/{action}", d.mutating(d.action))
	d.mux.HandleFunc("GET /ui/stream", d.reading(d.stream))
	d.mux.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, deploy.Errorf("dashboard", deploy.KindNotFound, "no such dashboard endpoint: %s %s", r.Method, r.URL.Path))
	})
	return d
}

// ServeHTTP serves the page, its assets and its endpoints.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// The page loads only its own script and style, is never framed and sends no referrer elsewhere.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// same-origin, not no-referrer: with no-referrer Chrome sends "Origin: null" on form posts, and the
	// sign-in form would fail the Origin check.
	h.Set("Referrer-Policy", "same-origin")
	d.mux.ServeHTTP(w, r)
}

// Close ends every open stream; register it with http.Server.RegisterOnShutdown.
func (d *Dashboard) Close() { d.closeOnce.Do(func() { close(d.closing) }) }

func (d *Dashboard) page(w http.ResponseWriter, r *http.Request) {
	d.asset("assets/index.html", "text/html; charset=utf-8")(w, r)
}

func (d *Dashboard) asset(name, contentType string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := assets.ReadFile(name)
		if err != nil {
			writeError(w, deploy.Wrap("dashboard.asset", deploy.KindInternal, err, "asset "+name))
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(b)
	}
}
