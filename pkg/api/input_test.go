package api_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/pkg/api"
	"github.com/switchyard/switchyard/pkg/api/apitest"
	"github.com/switchyard/switchyard/pkg/deploy"
)

// Every bad create body is refused with 400 naming the field, before the controller is asked.
func TestCreateRefusesBadBodiesNamingTheField(t *testing.T) {
	e := newEnv(t)
	steps := func(s string) string { return `{"image_tag":"v1","strategy":{"type":"steps","steps":[` + s + `]}}` }
	cases := []struct{ name, body, msg string }{
		{"duplicate key", `{"image_tag":"v1","image_tag":"v2"}`, "image_tag: duplicate key"},
		{"duplicate nested key", `{"image_tag":"v1","strategy":{"type":"canary","type":"linear"}}`, "strategy.type: duplicate key"},
		{"case variant", `{"image_tag":"v1","Image_Tag":"v2"}`, `Image_Tag: field names are case-sensitive; did you mean "image_tag"`},
		{"case variant only", `{"IMAGE_TAG":"v1"}`, `IMAGE_TAG: field names are case-sensitive`},
		{"case variant nested", `{"image_tag":"v1","strategy":{"Type":"canary"}}`, `strategy.Type: field names are case-sensitive`},
		{"unknown nested", `{"image_tag":"v1","strategy":{"type":"canary","percent":5}}`, `unknown field "percent" in strategy`},
		{"null tag", `{"image_tag":null}`, "image_tag: null is not allowed"},
		{"force not bool", `{"image_tag":"v1","force":"yes"}`, "force: expected true or false"},
		{"force without reason", `{"image_tag":"v1","force":true}`, "force: needs a non-empty reason"},
		{"force blank reason", `{"image_tag":"v1","force":true,"reason":"  "}`, "force: needs a non-empty reason"},
		{"reason too long", `{"image_tag":"v1","reason":"` + strings.Repeat("r", api.MaxReasonLen+1) + `"}`, "reason: 1025 bytes"},
		{"negative bake number", steps(`{"percent":10,"bake":-5},{"percent":100}`), "strategy.steps[0].bake: must not be negative"},
		{"negative bake string", steps(`{"percent":10,"bake":"1s"},{"percent":20,"bake":"-5s"},{"percent":100}`), "strategy.steps[1].bake: must not be negative"},
		{"overflowing bake", steps(`{"percent":10,"bake":"1s"},{"percent":20,"bake":1e300},{"percent":100}`), "strategy.steps[1].bake: 1e300 seconds is out of range"},
		{"absurd bake", steps(`{"percent":10,"bake":"25h"},{"percent":100}`), "strategy.steps[0].bake: 25h0m0s is longer than the maximum bake of 24h"},
		{"absurd bake seconds", `{"image_tag":"v1","strategy":{"type":"canary","bake":86401}}`, "strategy.bake: 24h0m1s is longer than the maximum"},
		{"bad bake string", `{"image_tag":"v1","strategy":{"type":"canary","bake":"5 minutes"}}`, `strategy.bake: invalid duration "5 minutes"`},
		{"bake wrong type", `{"image_tag":"v1","strategy":{"type":"canary","bake":true}}`, `strategy.bake: expected a duration`},
		{"weight rounds to 0", steps(`{"percent":0.01},{"percent":100}`), "strategy.steps[0].percent: 0.01% rounds to ALB weight 0"},
		{"canary rounds to 999", `{"image_tag":"v1","strategy":{"type":"canary","canary_percent":99.97}}`, "strategy.canary_percent: 99.97% rounds to the full weight 999"},
		{"step rounds to 999", steps(`{"percent":50},{"percent":99.99},{"percent":100}`), "strategy.steps[1].percent: 99.99% rounds to the full weight"},
		{"percent above 100", steps(`{"percent":150}`), "strategy.steps[0].percent: must be within (0, 100]"},
		{"percent negative", `{"image_tag":"v1","strategy":{"type":"canary","canary_percent":-1}}`, "strategy.canary_percent: must be within (0, 100]"},
		{"percent overflow", steps(`{"percent":1e400}`), "strategy.steps[0].percent: number 1e400 is out of range"},
		{"percent string", steps(`{"percent":"10"}`), "strategy.steps[0].percent: expected a number"},
		{"linear steps fraction", `{"image_tag":"v1","strategy":{"type":"linear","linear_steps":2.5}}`, "strategy.linear_steps: 2.5 is not an integer"},
		{"linear steps huge", `{"image_tag":"v1","strategy":{"type":"linear","linear_steps":1e20}}`, "strategy.linear_steps: 1e20 is not an integer"},
		{"steps not an array", `{"image_tag":"v1","strategy":{"type":"steps","steps":{}}}`, "strategy.steps: expected a JSON array"},
		{"strategy not an object", `{"image_tag":"v1","strategy":"canary"}`, "strategy: expected a JSON object"},
		{"body not an object", `["v1"]`, "request body: expected a JSON object"},
		{"ignored field", `{"image_tag":"v1","strategy":{"type":"all-at-once","canary_percent":5}}`, "strategy.canary_percent: applies only to the canary"},
		{"unterminated", `{"image_tag":"v1","strategy":{"type":"canary"`, "body ends early"},
		{"query on create", ``, "unknown query parameter"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := "/v1/services/web/deployments"
			if c.body == "" {
				path, c.body = path+"?dry_run=1", `{"image_tag":"v1"}`
			}
			r := e.do("POST", path, adminTok, c.body)
			if r.status != 400 {
				t.Fatalf("status %d, want 400: %s", r.status, r.body)
			}
			if eb := r.errBody(t); eb.Code != "invalid" || !strings.Contains(eb.Message, c.msg) {
				t.Fatalf("error %+v, want message containing %q", eb, c.msg)
			}
		})
	}
	if got := e.ctl.Calls(); len(got) != 0 {
		t.Fatalf("the controller was asked: %+v", got)
	}
}

func TestCreatePassesForceWithReason(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/v1/services/web/deployments", adminTok, `{"image_tag":"v1","force":true,"reason":"alarm is the old release"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if c := e.ctl.Calls(); len(c) != 1 || !c[0].Create.Force || c[0].Create.Reason != "alarm is the old release" {
		t.Fatalf("calls %+v", c)
	}
	// Durations as numbers of seconds still work, within the bounds.
	r = e.do("POST", "/v1/services/api/deployments", adminTok, `{"image_tag":"v1","strategy":{"type":"steps","steps":[{"percent":0.1,"bake":86400},{"percent":100}]}}`)
	if r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

func TestBadQueriesAndBodiesAnswer4xxJSON(t *testing.T) {
	e := newEnv(t)
	e.ctl.Put(deploy.Deployment{ID: "d-1", Service: "web", State: deploy.StateShifting})
	cases := []struct {
		method, path, ctype, body string
		status                    int
		code, msg                 string
	}{
		{"GET", "/v1/services/web/deployments?limit=abc", "", "", 400, "invalid", `limit="abc"`},
		{"GET", "/v1/services/web/deployments?limit=%2B5", "", "", 400, "invalid", `limit="+5"`},
		{"GET", "/v1/services/web/deployments?limit=99999999999999999999999", "", "", 400, "invalid", `limit=`},
		{"GET", "/v1/services/web/deployments?limit=1&limit=2", "", "", 400, "invalid", `"limit" given 2 times`},
		{"GET", "/v1/services/web/deployments?active=maybe", "", "", 400, "invalid", `active="maybe"`},
		{"GET", "/v1/services/web/deployments?active=1", "", "", 400, "invalid", `active="1"`},
		{"GET", "/v1/services/web/deployments?Limit=5", "", "", 400, "invalid", `unknown query parameter "Limit"`},
		{"GET", "/v1/services/web/deployments?limit=%zz", "", "", 400, "invalid", "malformed query string"},
		{"GET", "/v1/deployments/d-1/events?after=x", "", "", 400, "invalid", `after="x"`},
		{"GET", "/v1/deployments/d-1/events?after=-1", "", "", 400, "invalid", `after="-1"`},
		{"GET", "/v1/deployments/d-1/events?after=1e3", "", "", 400, "invalid", `after="1e3"`},
		{"GET", "/v1/deployments/d-1?verbose=true", "", "", 400, "invalid", `unknown query parameter "verbose"`},
		{"GET", "/v1/services?x", "", "", 400, "invalid", `unknown query parameter "x"`},
		{"POST", "/v1/deployments/d-1/abort", "text/plain", `{"reason":"x"}`, 415, "unsupported_media_type", "application/json"},
		{"POST", "/v1/deployments/d-1/abort", "application/json; charset=utf-8", `{"reason":"x","Reason":"y"}`, 400, "invalid", "case-sensitive"},
		{"POST", "/v1/deployments/d-1/abort", "", `{"reason":"` + strings.Repeat("x", api.MaxBodyBytes) + `"}`, 413, "too_large", "larger than"},
		{"POST", "/v1/deployments/d-1/pause", "", `{"reason":"` + strings.Repeat("x", api.MaxReasonLen+1) + `"}`, 400, "invalid", "reason: 1025 bytes"},
		{"PUT", "/v1/deployments/d-1", "", "", 405, "method_not_allowed", "method PUT not allowed"},
		{"GET", "/v2/anything", "", "", 404, "not_found", "no such endpoint"},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, e.ts.URL+c.path, strings.NewReader(c.body))
			req.Header.Set("Authorization", "Bearer "+adminTok)
			if c.ctype != "" {
				req.Header.Set("Content-Type", c.ctype)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			r := resp{status: res.StatusCode, header: res.Header, body: b}
			if r.status != c.status || r.header.Get("Content-Type") != "application/json" {
				t.Fatalf("status %d %q, want %d JSON: %s", r.status, r.header.Get("Content-Type"), c.status, r.body)
			}
			if eb := r.errBody(t); eb.Code != c.code || !strings.Contains(eb.Message, c.msg) {
				t.Fatalf("error %+v, want %s containing %q", eb, c.code, c.msg)
			}
		})
	}
	if got := e.ctl.Calls(); len(got) != 0 {
		t.Fatalf("the controller was asked: %+v", got)
	}
}

// An unclean path is refused, never redirected: POST /v1/services/web/../api/deployments must not
// create anything on api (or web).
func TestUncleanPathsAreRefusedNotRedirected(t *testing.T) {
	e := newEnv(t)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range []string{
		"/v1/services/web/../api/deployments", "/v1/services/./api/deployments", "//v1/services/api/deployments",
		"/v1/services/api/deployments/", "/v1/services/web/%2E%2E/api/deployments", "/v1/deployments/d-1/../d-2/abort",
	} {
		for _, method := range []string{"POST", "GET"} {
			req, _ := http.NewRequest(method, e.ts.URL+p, strings.NewReader(`{"image_tag":"v1"}`))
			req.Header.Set("Authorization", "Bearer "+adminTok)
			res, err := noFollow.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			r := resp{status: res.StatusCode, header: res.Header, body: b}
			if r.status != 400 || r.header.Get("Location") != "" || !strings.Contains(r.errBody(t).Message, "not canonical") {
				t.Errorf("%s %s: %d Location=%q %s", method, p, r.status, r.header.Get("Location"), r.body)
			}
		}
	}
	if got := e.ctl.Calls(); len(got) != 0 {
		t.Fatalf("the controller was asked: %+v", got)
	}
}

// The daemon's http.Server refuses oversized headers and malformed requests itself; through
// JSONErrorListener those answers are JSON too, and none is a 5xx.
func TestServerLevelRefusalsAreJSON(t *testing.T) {
	srv, err := api.New(api.Options{Controller: apitest.New("web"), Tokens: []api.Token{{Name: "a", Secret: adminTok}}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := api.NewHTTPServer(srv)
	go func() { _ = hs.Serve(api.JSONErrorListener(ln)) }()
	t.Cleanup(func() { _ = hs.Close() })

	cases := []struct {
		name, raw string
		status    int
		code, msg string
	}{
		{"oversized header", "GET /v1/services HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", api.MaxHeaderBytes+8192) + "\r\n\r\n",
			431, "too_large", "request headers larger than"},
		{"unknown transfer encoding", "POST /v1/reload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400, "invalid", "Unsupported transfer encoding"},
		{"no host", "GET /v1/services HTTP/1.1\r\n\r\n", 400, "invalid", "missing required Host header"},
		{"garbage", "NOT HTTP\r\n\r\n", 400, "invalid", "Bad Request"},
		{"unknown expectation", "POST /v1/reload HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nContent-Length: 2\r\n\r\n{}", 417, "invalid", "unsupported Expect header"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			go func() { _, _ = io.WriteString(conn, c.raw) }()
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var er api.ErrorResponse
			b, _ := io.ReadAll(res.Body)
			if err := json.Unmarshal(b, &er); err != nil || res.StatusCode != c.status || res.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("%d %q %v: %s", res.StatusCode, res.Header.Get("Content-Type"), err, b)
			}
			if er.Error.Code != c.code || !strings.Contains(er.Error.Message, c.msg) {
				t.Fatalf("error %+v, want %s containing %q", er.Error, c.code, c.msg)
			}
		})
	}
	// A normal request on the same server is untouched.
	res, err := http.Get(fmt.Sprintf("http://%s/healthz", ln.Addr()))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", res, err)
	}
	res.Body.Close()
}
