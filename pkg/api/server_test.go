package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/switchyard/switchyard/pkg/api"
	"github.com/switchyard/switchyard/pkg/api/apitest"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/metrics"
)

const (
	adminTok = "admin-secret-0123456789"
	viewTok  = "viewer-secret-0123456789"
)

type env struct {
	t      *testing.T
	ctl    *apitest.Controller
	srv    *api.Server
	ts     *httptest.Server
	m      *metrics.Metrics
	logs   *observer.ObservedLogs
	ready  error
	mu     sync.Mutex
	reload []string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, ctl: apitest.New("web", "api"), m: metrics.New()}
	core, logs := observer.New(zap.DebugLevel)
	e.logs = logs
	srv, err := api.New(api.Options{
		Controller: e.ctl,
		Tokens:     []api.Token{{Name: "alice", Secret: adminTok}, {Name: "viewer", Secret: viewTok, ReadOnly: true}},
		Reload: func(_ context.Context, actor string) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.reload = append(e.reload, actor)
			return nil
		},
		Ready:   func(context.Context) error { return e.ready },
		Logger:  zap.New(core),
		Metrics: e.m,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	e.ts = httptest.NewServer(srv)
	t.Cleanup(e.ts.Close)
	return e
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) errBody(t *testing.T) api.ErrorDetail {
	t.Helper()
	var e api.ErrorResponse
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, r.body)
	}
	return e.Error
}

func (e *env) do(method, path, token, body string) resp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

func decode[T any](t *testing.T, r resp) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %T: %v: %s", v, err, r.body)
	}
	return v
}

func TestCreateGetListEvents(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/v1/services/web/deployments", adminTok,
		`{"image_tag":"v1.2.3","strategy":{"type":"linear","linear_steps":4,"bake":"10s"},"reason":"release"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	d := decode[deploy.Deployment](t, r)
	if d.Service != "web" || d.ImageTag != "v1.2.3" || d.CreatedBy != "alice" || len(d.Steps) != 4 {
		t.Fatalf("unexpected deployment %+v", d)
	}
	if loc := r.header.Get("Location"); loc != "/v1/deployments/"+d.ID {
		t.Fatalf("Location = %q", loc)
	}
	calls := e.ctl.Calls()
	if len(calls) != 1 || calls[0].Create.Actor != "alice" || calls[0].Create.Reason != "release" || calls[0].Create.Service != "web" {
		t.Fatalf("create request not passed through: %+v", calls)
	}

	r = e.do("GET", "/v1/deployments/"+d.ID, viewTok, "")
	if r.status != 200 || decode[deploy.Deployment](t, r).ID != d.ID {
		t.Fatalf("get: %d %s", r.status, r.body)
	}

	// A second deployment of web conflicts; the body names the active one.
	r = e.do("POST", "/v1/services/web/deployments", adminTok, `{"image_tag":"v2"}`)
	if r.status != http.StatusConflict {
		t.Fatalf("conflict: %d %s", r.status, r.body)
	}
	if eb := r.errBody(t); eb.Code != "conflict" || eb.ActiveDeployment != d.ID {
		t.Fatalf("conflict body %+v", eb)
	}

	e.ctl.Put(deploy.Deployment{ID: "old", Service: "web", State: deploy.StateSucceeded})
	e.ctl.Put(deploy.Deployment{ID: "other", Service: "api", State: deploy.StateSucceeded})
	r = e.do("GET", "/v1/services/web/deployments", viewTok, "")
	if got := ids(decode[[]deploy.Deployment](t, r)); got != "old,"+d.ID {
		t.Fatalf("history newest first, web only: got %s", got)
	}
	r = e.do("GET", "/v1/services/web/deployments?active=true&limit=5", viewTok, "")
	if got := ids(decode[[]deploy.Deployment](t, r)); got != d.ID {
		t.Fatalf("active filter: got %s", got)
	}
	r = e.do("GET", "/v1/services/web/deployments?limit=1", viewTok, "")
	if got := ids(decode[[]deploy.Deployment](t, r)); got != "old" {
		t.Fatalf("limit: got %s", got)
	}
	r = e.do("GET", "/v1/services/nosuch/deployments", viewTok, "")
	if r.status != 200 || strings.TrimSpace(string(r.body)) != "[]" {
		t.Fatalf("empty history must be []: %d %s", r.status, r.body)
	}

	r = e.do("GET", "/v1/deployments/"+d.ID+"/events", viewTok, "")
	evs := decode[[]deploy.Event](t, r)
	if len(evs) != 1 || evs[0].Action != "create" || evs[0].Actor != "alice" {
		t.Fatalf("events %+v", evs)
	}
	r = e.do("GET", "/v1/deployments/"+d.ID+"/events?after="+itoa(evs[0].Seq), viewTok, "")
	if got := decode[[]deploy.Event](t, r); len(got) != 0 {
		t.Fatalf("after filter ignored: %+v", got)
	}
}

func ids(ds []deploy.Deployment) string {
	var s []string
	for _, d := range ds {
		s = append(s, d.ID)
	}
	return strings.Join(s, ",")
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestActions(t *testing.T) {
	e := newEnv(t)
	e.ctl.Put(deploy.Deployment{ID: "d-9", Service: "web", State: deploy.StateShifting})
	for _, c := range []struct {
		action string
		state  deploy.State
	}{{"pause", deploy.StatePaused}, {"resume", deploy.StateShifting}, {"promote", deploy.StateShifting}, {"abort", deploy.StateRollingBack}} {
		r := e.do("POST", "/v1/deployments/d-9/"+c.action, adminTok, `{"reason":"because `+c.action+`"}`)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", c.action, r.status, r.body)
		}
		if d := decode[deploy.Deployment](t, r); d.State != c.state {
			t.Fatalf("%s: state %s, want %s", c.action, d.State, c.state)
		}
	}
	calls := e.ctl.Calls()
	if len(calls) != 4 || calls[3].Method != "abort" || calls[3].Actor != "alice" || calls[3].Reason != "because abort" || calls[3].ID != "d-9" {
		t.Fatalf("calls %+v", calls)
	}
	// An empty body is fine for actions (the reason is optional).
	e.ctl.Put(deploy.Deployment{ID: "d-10", Service: "api", State: deploy.StateShifting})
	if r := e.do("POST", "/v1/deployments/d-10/pause", adminTok, ""); r.status != 200 {
		t.Fatalf("empty action body: %d %s", r.status, r.body)
	}
	// Resuming a running deployment is a precondition failure: 409 with code precondition.
	r := e.do("POST", "/v1/deployments/d-9/resume", adminTok, "")
	if r.status != http.StatusConflict || r.errBody(t).Code != "precondition" {
		t.Fatalf("precondition: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/v1/deployments/nope/abort", adminTok, ""); r.status != 404 || r.errBody(t).Code != "not_found" {
		t.Fatalf("abort unknown: %d %s", r.status, r.body)
	}
}

func TestServicesReloadHealth(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/v1/services", viewTok, "")
	ss := decode[[]deploy.ServiceStatus](t, r)
	if len(ss) != 2 || ss[0].Name != "api" || ss[1].LiveSlot != deploy.SlotBlue {
		t.Fatalf("services %+v", ss)
	}

	if r := e.do("POST", "/v1/reload", adminTok, ""); r.status != 200 {
		t.Fatalf("reload: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/v1/reload", viewTok, ""); r.status != 403 {
		t.Fatalf("read-only reload: %d", r.status)
	}
	e.mu.Lock()
	if len(e.reload) != 1 || e.reload[0] != "alice" {
		t.Fatalf("reload calls %v", e.reload)
	}
	e.mu.Unlock()

	// Health endpoints need no token; /readyz follows the Ready func.
	if r := e.do("GET", "/healthz", "", ""); r.status != 200 {
		t.Fatalf("healthz %d", r.status)
	}
	if r := e.do("GET", "/readyz", "", ""); r.status != 200 {
		t.Fatalf("readyz %d", r.status)
	}
	e.ready = errors.New("recovering")
	if r := e.do("GET", "/readyz", "", ""); r.status != 503 || !strings.Contains(r.errBody(t).Message, "recovering") {
		t.Fatalf("readyz not ready: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/metrics", "", "")
	if r.status != 200 || !strings.Contains(string(r.body), "switchyard_http_requests_total") {
		t.Fatalf("metrics: %d", r.status)
	}
	if n := counter(t, e.m, "GET /v1/services", "200"); n != 1 {
		t.Fatalf("http_requests{GET /v1/services,200} = %v", n)
	}
	if n := counter(t, e.m, "POST /v1/reload", "403"); n != 1 {
		t.Fatalf("http_requests{POST /v1/reload,403} = %v", n)
	}
	// One access-log line per request, carrying the actor.
	found := false
	for _, l := range e.logs.FilterMessage("http request").All() {
		f := l.ContextMap()
		if f["route"] == "POST /v1/reload" && f["actor"] == "alice" && f["status"] == int64(200) {
			found = l.Level == zap.InfoLevel
		}
		if f["route"] == "GET /v1/services" && f["status"] == int64(200) && l.Level != zap.DebugLevel {
			t.Errorf("successful read logged at %s, want debug", l.Level)
		}
	}
	if !found {
		t.Fatalf("no access log line for the reload: %v", e.logs.All())
	}
}

func TestMetricsEndpointCanBeDisabled(t *testing.T) {
	srv, err := api.New(api.Options{Controller: apitest.New(), Metrics: metrics.New(), DisableMetricsEndpoint: true})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 404 {
		t.Fatalf("disabled /metrics answered %d", rec.Code)
	}
}

func TestAuth(t *testing.T) {
	e := newEnv(t)
	e.ctl.Put(deploy.Deployment{ID: "d-1", Service: "web", State: deploy.StateShifting})
	cases := []struct {
		name, method, path, token string
		status                    int
		code                      string
	}{
		{"missing token", "GET", "/v1/services", "", 401, "unauthorized"},
		{"wrong token", "GET", "/v1/services", "nope-nope-nope-nope", 401, "unauthorized"},
		{"wrong token on mutation", "POST", "/v1/deployments/d-1/abort", "admin-secret-012345678", 401, "unauthorized"},
		{"read-only mutation", "POST", "/v1/deployments/d-1/abort", viewTok, 403, "forbidden"},
		{"read-only create", "POST", "/v1/services/web/deployments", viewTok, 403, "forbidden"},
		{"read-only get", "GET", "/v1/deployments/d-1", viewTok, 200, ""},
		{"read-only events", "GET", "/v1/deployments/d-1/events", viewTok, 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(c.method, c.path, c.token, `{"image_tag":"v1"}`)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
			}
			if c.code != "" && r.errBody(t).Code != c.code {
				t.Fatalf("code %q, want %q", r.errBody(t).Code, c.code)
			}
			if c.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("401 without WWW-Authenticate: %v", r.header)
			}
		})
	}
	if got := e.ctl.Calls(); len(got) != 0 {
		t.Fatalf("refused requests reached the controller: %+v", got)
	}

	// Replacing the token set takes effect for the next request.
	if err := e.srv.SetTokens([]api.Token{{Name: "bob", Secret: "bob-secret-0123456789"}}); err != nil {
		t.Fatal(err)
	}
	if r := e.do("GET", "/v1/services", adminTok, ""); r.status != 401 {
		t.Fatalf("removed token still accepted: %d", r.status)
	}
	if r := e.do("POST", "/v1/deployments/d-1/abort", "bob-secret-0123456789", ""); r.status != 200 {
		t.Fatalf("new token refused: %d %s", r.status, r.body)
	}
	if c := e.ctl.Calls(); c[len(c)-1].Actor != "bob" {
		t.Fatalf("actor = %q, want bob", c[len(c)-1].Actor)
	}
}

func TestSetTokensRejectsUnsafeSets(t *testing.T) {
	srv, err := api.New(api.Options{Controller: apitest.New()})
	if err != nil {
		t.Fatal(err)
	}
	bad := [][]api.Token{
		{{Name: "a", Secret: "short"}},
		{{Name: "a", Secret: "same-secret-0123456789"}, {Name: "b", Secret: "same-secret-0123456789"}},
		{{Name: "a", Secret: "secret-a-0123456789"}, {Name: "a", Secret: "secret-b-0123456789"}},
		{{Name: "", Secret: "secret-a-0123456789"}},
	}
	for i, ts := range bad {
		if err := srv.SetTokens(ts); err == nil {
			t.Errorf("set %d accepted", i)
		}
	}
}

func TestBadRequests(t *testing.T) {
	e := newEnv(t)
	e.ctl.Put(deploy.Deployment{ID: "d-1", Service: "web", State: deploy.StateShifting})
	cases := []struct {
		name, method, path, body, msg string
	}{
		{"malformed json", "POST", "/v1/services/web/deployments", `{"image_tag":`, "malformed JSON"},
		{"syntax error", "POST", "/v1/services/web/deployments", `{"image_tag" "v1"}`, "malformed JSON"},
		{"unknown field", "POST", "/v1/services/web/deployments", `{"image_tag":"v1","imagetag":"x"}`, `unknown field "imagetag"`},
		{"service in body", "POST", "/v1/services/web/deployments", `{"image_tag":"v1","service":"api"}`, `unknown field "service"`},
		{"trailing data", "POST", "/v1/services/web/deployments", `{"image_tag":"v1"} {}`, "after the JSON object"},
		{"empty body", "POST", "/v1/services/web/deployments", ``, "body is empty"},
		{"wrong type", "POST", "/v1/services/web/deployments", `{"image_tag":5}`, `image_tag: expected a string`},
		{"missing tag", "POST", "/v1/services/web/deployments", `{}`, "image_tag is required"},
		{"bad tag", "POST", "/v1/services/web/deployments", `{"image_tag":"-bad tag"}`, "invalid image tag"},
		{"bad strategy", "POST", "/v1/services/api/deployments", `{"image_tag":"v1","strategy":{"type":"yolo"}}`, "unknown strategy"},
		{"bad service", "POST", "/v1/services/Web_1/deployments", `{"image_tag":"v1"}`, "invalid service name"},
		{"bad service list", "GET", "/v1/services/UPPER/deployments", ``, "invalid service name"},
		{"bad limit", "GET", "/v1/services/web/deployments?limit=0", ``, "limit"},
		{"bad active", "GET", "/v1/services/web/deployments?active=maybe", ``, "active"},
		{"bad after", "GET", "/v1/deployments/d-1/events?after=-1", ``, "after"},
		{"action unknown field", "POST", "/v1/deployments/d-1/abort", `{"why":"x"}`, `unknown field "why"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(c.method, c.path, adminTok, c.body)
			if r.status != 400 {
				t.Fatalf("status %d, want 400: %s", r.status, r.body)
			}
			eb := r.errBody(t)
			if eb.Code != "invalid" || !strings.Contains(eb.Message, c.msg) {
				t.Fatalf("error %+v, want message containing %q", eb, c.msg)
			}
		})
	}
	if got := e.ctl.Calls(); len(got) != 0 {
		// Everything stops at the API, bad strategies included (the API plans them first).
		t.Fatalf("calls %+v", got)
	}
}

func TestUnmatchedRoutesAnswerJSON(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/v1/nothing", adminTok, "")
	if r.status != 404 || r.errBody(t).Code != "not_found" {
		t.Fatalf("404: %d %s", r.status, r.body)
	}
	r = e.do("DELETE", "/v1/services", adminTok, "")
	if r.status != 405 || r.errBody(t).Code != "method_not_allowed" || r.header.Get("Allow") == "" {
		t.Fatalf("405: %d %v %s", r.status, r.header, r.body)
	}
	if n := counter(t, e.m, "unmatched", "404"); n != 1 {
		t.Fatalf("unmatched requests counted under %v", n)
	}
}

func TestErrorMapping(t *testing.T) {
	cases := map[deploy.Kind]int{
		deploy.KindInvalid: 400, deploy.KindNotFound: 404, deploy.KindConflict: 409, deploy.KindUnauthorized: 401,
		deploy.KindForbidden: 403, deploy.KindPrecondition: 409, deploy.KindUnavailable: 503, deploy.KindTimeout: 504,
		deploy.KindInternal: 500, "something-new": 500, deploy.KindGuardFiring: 412, deploy.KindThrottled: 503,
		api.KindTooLarge: 413, api.KindUnsupportedMedia: 415, api.KindMethodNotAllowed: 405,
	}
	for k, want := range cases {
		if got := api.StatusOf(k); got != want {
			t.Errorf("StatusOf(%s) = %d, want %d", k, got, want)
		}
	}

	e := newEnv(t)
	for kind, status := range cases {
		if kind == "something-new" {
			continue
		}
		e.ctl.Fail = deploy.Wrap("controller.Get", kind, errors.New("inner cause"), "store says no")
		r := e.do("GET", "/v1/deployments/x", adminTok, "")
		if r.status != status || r.errBody(t).Code != string(kind) {
			t.Errorf("kind %s: %d %s", kind, r.status, r.body)
		}
		if ra := r.header.Get("Retry-After"); (kind == deploy.KindThrottled) != (ra != "") {
			t.Errorf("kind %s: Retry-After %q", kind, ra)
		}
	}
	// A bare error is internal and its text stays out of the response.
	e.ctl.Fail = errors.New("sqlite: /var/lib/secret/path locked")
	r := e.do("GET", "/v1/services", adminTok, "")
	if r.status != 500 || strings.Contains(string(r.body), "/var/lib") {
		t.Fatalf("internal: %d %s", r.status, r.body)
	}
}

type panicker struct{ *apitest.Controller }

func (panicker) Services(context.Context) ([]deploy.ServiceStatus, error) { panic("boom") }

func TestPanicBecomes500(t *testing.T) {
	srv, err := api.New(api.Options{Controller: panicker{apitest.New()}, Tokens: []api.Token{{Name: "a", Secret: adminTok}}})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/v1/services", nil)
	req.Header.Set("Authorization", "bearer "+adminTok) // scheme is case-insensitive
	srv.ServeHTTP(rec, req)
	if rec.Code != 500 || !bytes.Contains(rec.Body.Bytes(), []byte(`"internal"`)) {
		t.Fatalf("panic: %d %s", rec.Code, rec.Body)
	}
}

func counter(t *testing.T, m *metrics.Metrics, route, code string) float64 {
	t.Helper()
	var out dto.Metric
	if err := m.HTTPRequests.WithLabelValues(route, code).Write(&out); err != nil {
		t.Fatal(err)
	}
	return out.GetCounter().GetValue()
}
