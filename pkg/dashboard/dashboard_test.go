package dashboard_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/api"
	"github.com/switchyard/switchyard/pkg/api/apitest"
	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/dashboard"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/eventhub"
	"github.com/switchyard/switchyard/pkg/shifter"
)

const (
	adminSecret = "admin-secret-0123456789"
	viewSecret  = "viewer-secret-0123456789"
)

// tokens is a reloadable Authenticator.
type tokens struct {
	mu sync.Mutex
	m  map[string]struct {
		name string
		ro   bool
	}
}

func (t *tokens) Identify(secret string) (string, bool, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.m[secret]
	return e.name, e.ro, ok
}

func (t *tokens) remove(secret string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, secret)
}

type env struct {
	t    *testing.T
	ctl  *apitest.Controller
	auth *tokens
	hub  *eventhub.Hub
	clk  *clock.Fake
	dash *dashboard.Dashboard
	ts   *httptest.Server
	dep  *deploy.Deployment
}

func newEnv(t *testing.T, o dashboard.Options) *env {
	t.Helper()
	e := &env{t: t, ctl: apitest.New("web"), hub: eventhub.New(), clk: clock.NewFake(time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)),
		auth: &tokens{m: map[string]struct {
			name string
			ro   bool
		}{adminSecret: {"alice", false}, viewSecret: {"viewer", true}}}}
	o.Controller, o.Auth, o.Hub, o.Clock = e.ctl, e.auth, e.hub, e.clk
	e.dash = dashboard.New(o)
	e.ts = httptest.NewServer(e.dash)
	t.Cleanup(e.ts.Close)
	d, err := e.ctl.Create(context.Background(), deploy.CreateRequest{Service: "web", ImageTag: "v2", Actor: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	e.dep = d
	return e
}

// browser is an HTTP client with a cookie jar that sends this server's Origin, as the page would.
type browser struct {
	e    *env
	c    *http.Client
	csrf string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, path, body string, hdr map[string]string) (*http.Response, string) {
	b.e.t.Helper()
	req, _ := http.NewRequest(method, b.e.ts.URL+path, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, string(out)
}

// signIn posts the form and reads the session's CSRF token.
func (b *browser) signIn(secret string) *http.Response {
	b.e.t.Helper()
	resp, _ := b.do("POST", "/ui/login", url.Values{"token": {secret}}.Encode(),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": b.e.ts.URL})
	if r, body := b.do("GET", "/ui/api/session", "", nil); r.StatusCode == 200 {
		var s dashboard.SessionInfo
		_ = json.Unmarshal([]byte(body), &s)
		b.csrf = s.CSRFToken
	}
	return resp
}

func (b *browser) act(action, reason string, hdr map[string]string) (int, string) {
	b.e.t.Helper()
	h := map[string]string{"Content-Type": "application/json", "Origin": b.e.ts.URL, dashboard.CSRFHeader: b.csrf}
	for k, v := range hdr {
		if v == "" {
			delete(h, k)
		} else {
			h[k] = v
		}
	}
	body, _ := json.Marshal(map[string]string{"reason": reason})
	resp, out := b.do("POST", "/ui/api/deployments/"+b.e.dep.ID+"/"+action, string(body), h)
	return resp.StatusCode, out
}

func code(t *testing.T, body string) string {
	t.Helper()
	var e api.ErrorResponse
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("not the API's error shape: %s", body)
	}
	return e.Error.Code
}

func TestNoSessionNoData(t *testing.T) {
	e := newEnv(t, dashboard.Options{})
	b := e.browser()
	if r, body := b.do("GET", "/", "", nil); r.StatusCode != 200 || !strings.Contains(body, `action="/ui/login"`) || strings.Contains(body, "v2") {
		t.Fatalf("page: %d %s", r.StatusCode, body)
	}
	for _, p := range []string{"/ui/api/session", "/ui/api/overview", "/ui/api/deployments/" + e.dep.ID, "/ui/stream"} {
		r, body := b.do("GET", p, "", nil)
		if r.StatusCode != 401 || code(t, body) != "unauthorized" || strings.Contains(body, "v2") {
			t.Errorf("GET %s without a session: %d %s", p, r.StatusCode, body)
		}
	}
	b.c.Jar.SetCookies(mustURL(e.ts.URL), []*http.Cookie{{Name: dashboard.CookieName, Value: "forged"}})
	if r, _ := b.do("GET", "/ui/api/overview", "", nil); r.StatusCode != 401 {
		t.Errorf("a made-up session id: %d", r.StatusCode)
	}
	if st, _ := b.act("abort", "x", nil); st != 401 {
		t.Errorf("abort without a session: %d", st)
	}
	if len(e.ctl.Calls()) != 1 { // the create of newEnv only
		t.Fatalf("controller was called: %+v", e.ctl.Calls())
	}
}

func mustURL(s string) *url.URL { u, _ := url.Parse(s); return u }

func TestSignInCookie(t *testing.T) {
	e := newEnv(t, dashboard.Options{})
	b := e.browser()
	resp := b.signIn("wrong-token-0123456789")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/?signin=failed" || len(resp.Cookies()) != 0 {
		t.Fatalf("wrong token: %d %q cookies %v", resp.StatusCode, resp.Header.Get("Location"), resp.Cookies())
	}
	// A sign-in form posted from another site (login CSRF) is refused.
	r, body := b.do("POST", "/ui/login", "token="+adminSecret, map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://evil.example"})
	if r.StatusCode != 403 || len(r.Cookies()) != 0 {
		t.Fatalf("cross-origin sign-in: %d %s", r.StatusCode, body)
	}
	resp = b.signIn(adminSecret)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("sign-in: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	c := resp.Cookies()[0]
	if c.Name != dashboard.CookieName || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure || c.Path != "/" ||
		c.MaxAge != int(dashboard.DefaultSessionTTL/time.Second) || strings.Contains(c.Value, adminSecret) || len(c.Value) < 40 {
		t.Fatalf("cookie %+v", c)
	}
	_, body = b.do("GET", "/ui/api/session", "", nil)
	var s dashboard.SessionInfo
	if err := json.Unmarshal([]byte(body), &s); err != nil || s.Actor != "alice" || s.ReadOnly || len(s.CSRFToken) < 40 || !s.ExpiresAt.Equal(e.clk.Now().Add(dashboard.DefaultSessionTTL)) {
		t.Fatalf("session %s", body)
	}
	// Behind a TLS-terminating proxy the cookie can be made Secure on plain HTTP.
	e2 := newEnv(t, dashboard.Options{SecureCookies: true})
	if c := e2.browser().signIn(adminSecret).Cookies()[0]; !c.Secure {
		t.Fatalf("SecureCookies: %+v", c)
	}
}

func TestSessionOverTLSIsSecure(t *testing.T) {
	e := newEnv(t, dashboard.Options{})
	ts := httptest.NewTLSServer(e.dash)
	defer ts.Close()
	req, _ := http.NewRequest("POST", ts.URL+"/ui/login", strings.NewReader("token="+adminSecret))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", ts.URL)
	c := ts.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(resp.Cookies()) != 1 || !resp.Cookies()[0].Secure {
		t.Fatalf("over TLS: %d %+v", resp.StatusCode, resp.Cookies())
	}
}

// Forged actions are refused before the controller hears of them; the real one goes through the
// same controller call as the API, with the token's name as the actor.
func TestActionsNeedCSRFOriginAndAWritableToken(t *testing.T) {
	e := newEnv(t, dashboard.Options{})
	admin := e.browser()
	admin.signIn(adminSecret)
	viewer := e.browser()
	viewer.signIn(viewSecret)
	for _, c := range []struct {
		name string
		b    *browser
		hdr  map[string]string
		want int
	}{
		{"no CSRF token", admin, map[string]string{dashboard.CSRFHeader: ""}, 403},
		{"wrong CSRF token", admin, map[string]string{dashboard.CSRFHeader: viewer.csrf}, 403},
		{"no Origin", admin, map[string]string{"Origin": ""}, 403},
		{"other Origin", admin, map[string]string{"Origin": "http://evil.example"}, 403},
		{"same host, other port", admin, map[string]string{"Origin": "http://127.0.0.1:1"}, 403},
		{"read-only session", viewer, nil, 403},
		{"not JSON", admin, map[string]string{"Content-Type": "text/plain"}, 415},
	} {
		if st, body := c.b.act("abort", "forged", c.hdr); st != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, st, body, c.want)
		}
	}
	if st, body := admin.act("abort", " ", nil); st != 400 || !strings.Contains(body, "reason") {
		t.Errorf("abort without a reason: %d %s", st, body)
	}
	if st, body := admin.act("reboot", "x", nil); st != 404 {
		t.Errorf("unknown action: %d %s", st, body)
	}
	if calls := e.ctl.Calls(); len(calls) != 1 {
		t.Fatalf("refused requests reached the controller: %+v", calls)
	}
	if st, body := admin.act("pause", "", nil); st != 200 {
		t.Fatalf("pause: %d %s", st, body)
	}
	if st, body := admin.act("abort", "bad canary", nil); st != 200 || !strings.Contains(body, `"rolling_back"`) {
		t.Fatalf("abort: %d %s", st, body)
	}
	calls := e.ctl.Calls()
	if len(calls) != 3 || calls[2].Method != "abort" || calls[2].Actor != "alice" || calls[2].Reason != "bad canary" || calls[1].Actor != "alice" {
		t.Fatalf("calls %+v", calls)
	}
	// Errors keep the API's statuses: aborting a deployment that cannot be aborted is a 409.
	e.ctl.Fail = deploy.Errorf("fake", deploy.KindPrecondition, "finished")
	if st, body := admin.act("abort", "again", nil); st != 409 || code(t, body) != "precondition" {
		t.Fatalf("precondition: %d %s", st, body)
	}
}

func TestSessionsEnd(t *testing.T) {
	e := newEnv(t, dashboard.Options{SessionTTL: time.Hour})
	b := e.browser()
	b.signIn(adminSecret)
	if r, _ := b.do("GET", "/ui/api/overview", "", nil); r.StatusCode != 200 {
		t.Fatalf("overview: %d", r.StatusCode)
	}
	e.clk.Advance(time.Hour)
	if r, _ := b.do("GET", "/ui/api/overview", "", nil); r.StatusCode != 401 {
		t.Fatalf("after the TTL: %d", r.StatusCode)
	}
	// A token removed by a reload ends its sessions at once.
	b.signIn(viewSecret)
	e.auth.remove(viewSecret)
	if r, _ := b.do("GET", "/ui/api/overview", "", nil); r.StatusCode != 401 {
		t.Fatalf("after the token was removed: %d", r.StatusCode)
	}
	// Sign-out ends the session on the server, not just the cookie.
	b.signIn(adminSecret)
	jarCookie := b.c.Jar.Cookies(mustURL(e.ts.URL))
	if r, _ := b.do("POST", "/ui/logout", "", map[string]string{"Origin": e.ts.URL, dashboard.CSRFHeader: b.csrf}); r.StatusCode != 204 {
		t.Fatalf("logout: %d", r.StatusCode)
	}
	b.c.Jar.SetCookies(mustURL(e.ts.URL), jarCookie)
	if r, _ := b.do("GET", "/ui/api/overview", "", nil); r.StatusCode != 401 {
		t.Fatalf("the old cookie after logout: %d", r.StatusCode)
	}
}

func TestOverviewAndDetail(t *testing.T) {
	e := newEnv(t, dashboard.Options{})
	e.ctl.Script(e.dep.ID, apitest.Stage{State: deploy.StateShifting, Step: 0, Weights: deploy.Weights{Blue: 899, Green: 100},
		Events: []deploy.Event{{Actor: "controller", Action: "weights.verified", Detail: map[string]string{"weights": shifter.Describe(deploy.Weights{Blue: 899, Green: 100})}}}})
	b := e.browser()
	b.signIn(viewSecret)
	r, body := b.do("GET", "/ui/api/overview", "", nil)
	var ov dashboard.Overview
	if err := json.Unmarshal([]byte(body), &ov); err != nil || r.StatusCode != 200 {
		t.Fatalf("overview %d %s", r.StatusCode, body)
	}
	if len(ov.Services) != 1 || len(ov.Active) != 1 || ov.Active[0].State != deploy.StateShifting || len(ov.History) != 1 {
		t.Fatalf("overview %s", body)
	}
	_, body = b.do("GET", "/ui/api/deployments/"+e.dep.ID, "", nil)
	var det dashboard.Detail
	if err := json.Unmarshal([]byte(body), &det); err != nil {
		t.Fatal(err)
	}
	if len(det.Events) != 2 || len(det.Weights) != 2 || det.Weights[0].Blue != 999 || det.Weights[1].Green != 100 {
		t.Fatalf("detail %s", body)
	}
	if r, _ := b.do("GET", "/ui/api/deployments/nope", "", nil); r.StatusCode != 404 {
		t.Fatalf("unknown deployment: %d", r.StatusCode)
	}
	if r, _ := b.do("GET", "/ui/nothing", "", nil); r.StatusCode != 404 {
		t.Fatalf("unknown endpoint: %d", r.StatusCode)
	}
}

// The stream delivers what the hub publishes, as server-sent events, and ends at Close.
func TestStream(t *testing.T) {
	e := newEnv(t, dashboard.Options{})
	b := e.browser()
	b.signIn(viewSecret)
	req, _ := http.NewRequest("GET", e.ts.URL+"/ui/stream", nil)
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	rd := bufio.NewReader(resp.Body)
	next := func() (string, string) {
		var ev, data string
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				return "EOF", ""
			}
			line = strings.TrimRight(line, "\n")
			switch {
			case line == "" && ev != "":
				return ev, data
			case strings.HasPrefix(line, "event: "):
				ev = line[7:]
			case strings.HasPrefix(line, "data: "):
				data = line[6:]
			}
		}
	}
	if ev, _ := next(); ev != "hello" {
		t.Fatalf("first event %q", ev)
	}
	if e.hub.Subscribers() == 0 { // it subscribes before it sends hello
		t.Fatal("no subscriber after hello")
	}
	d := *e.dep
	d.Weights = deploy.Weights{Blue: 499, Green: 500}
	e.hub.PublishDeployment(&d)
	e.hub.PublishEvent(deploy.Event{Seq: 7, DeploymentID: d.ID, Service: "web", Action: "weights.verified"})
	ev, data := next()
	var got deploy.Deployment
	if ev != "deployment" || json.Unmarshal([]byte(data), &got) != nil || got.Weights.Green != 500 {
		t.Fatalf("got %s %s", ev, data)
	}
	if ev, data := next(); ev != "event" || !strings.Contains(data, `"seq":7`) {
		t.Fatalf("got %s %s", ev, data)
	}
	e.dash.Close()
	if ev, _ := next(); ev != "EOF" {
		t.Fatalf("after Close: %s", ev)
	}
}

func TestWeightHistoryReadsTheShifterFormat(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d := &deploy.Deployment{From: deploy.SlotGreen, CreatedAt: at}
	evs := []deploy.Event{
		{Action: "weights.intent", Time: at.Add(time.Second), Detail: map[string]string{"weights": shifter.Describe(deploy.Weights{Blue: 1, Green: 1})}},
		{Action: "weights.verified", Time: at.Add(2 * time.Second), Detail: map[string]string{"weights": shifter.Describe(deploy.Weights{Blue: 100, Green: 899})}},
		{Action: "weights.verified", Time: at.Add(3 * time.Second), Detail: map[string]string{"weights": shifter.Describe(deploy.AllOn(deploy.SlotBlue))}},
	}
	got := dashboard.WeightHistory(d, evs)
	want := []dashboard.WeightPoint{{At: at, Green: 999}, {At: at.Add(2 * time.Second), Blue: 100, Green: 899}, {At: at.Add(3 * time.Second), Blue: 999}}
	same(t, got, want)
	// Weights the trail does not show yet end the line, never before its last point.
	d.Weights, d.UpdatedAt = deploy.Weights{Blue: 499, Green: 500}, at.Add(time.Second)
	same(t, dashboard.WeightHistory(d, evs), append(want, dashboard.WeightPoint{At: at.Add(3 * time.Second), Blue: 499, Green: 500}))
}

func same(t *testing.T, got, want []dashboard.WeightPoint) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("point %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestPageHeaders(t *testing.T) {
	e := newEnv(t, dashboard.Options{})
	for _, p := range []string{"/", "/ui/app.js", "/ui/app.css"} {
		r, body := e.browser().do("GET", p, "", nil)
		if r.StatusCode != 200 || len(body) < 100 || !strings.Contains(r.Header.Get("Content-Security-Policy"), "script-src 'self'") ||
			r.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: %d %v", p, r.StatusCode, r.Header)
		}
	}
	// Offline: nothing the page loads comes from another host.
	_, page := e.browser().do("GET", "/", "", nil)
	_, js := e.browser().do("GET", "/ui/app.js", "", nil)
	for _, s := range []string{page, js} {
		if strings.Contains(s, "https://") || strings.Contains(s, "src=\"//") {
			t.Errorf("an external reference in an asset")
		}
	}
}

// A stream outlives the daemon's WriteTimeout (60s for ordinary answers): it clears its deadline.
func TestStreamOutlivesWriteTimeout(t *testing.T) {
	e := newEnv(t, dashboard.Options{})
	ts := httptest.NewUnstartedServer(e.dash)
	ts.Config.WriteTimeout = 200 * time.Millisecond
	ts.Start()
	defer ts.Close()
	defer e.dash.Close()
	e.ts = ts
	b := e.browser()
	b.signIn(viewSecret)
	resp, err := b.c.Get(ts.URL + "/ui/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	if line, _ := rd.ReadString('\n'); line != "event: hello\n" {
		t.Fatalf("first line %q", line)
	}
	time.Sleep(400 * time.Millisecond) // deliberately past the server's write deadline
	e.hub.PublishEvent(deploy.Event{Seq: 1, DeploymentID: "d-1", Service: "web", Action: "late"})
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("the stream ended at the write timeout: %v", err)
		}
		if strings.Contains(line, `"action":"late"`) {
			return
		}
	}
}
