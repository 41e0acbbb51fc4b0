package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/api"
	"github.com/switchyard/switchyard/pkg/client"
	"github.com/switchyard/switchyard/pkg/deploy"
)

// rawResp is an answer read without any client-side interpretation (redirects are not followed).
type rawResp struct {
	status int
	header http.Header
	body   []byte
}

// raw sends one request to the daemon as given: the path is not cleaned and redirects are not followed.
func (e *env) raw(method, path, ctype, body string) rawResp {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, method, e.d.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	noFollow := &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return rawResp{res.StatusCode, res.Header, b}
}

// apiError decodes the documented error shape, failing the test on anything else.
func apiError(t testing.TB, r rawResp) api.ErrorDetail {
	t.Helper()
	var er api.ErrorResponse
	if err := json.Unmarshal(r.body, &er); err != nil || er.Error.Code == "" || er.Error.Message == "" ||
		r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("not the JSON error shape (%d, %q): %v: %s", r.status, r.header.Get("Content-Type"), err, r.body)
	}
	return er.Error
}

func (e *env) history(svc string) []*deploy.Deployment {
	e.t.Helper()
	ds, err := e.c.Deployments(e.ctx, svc, client.ListOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return ds
}

// Bad input through a real daemon: every bad create answers 400 naming the field and stores nothing
// (so a restart reads the store back), bad queries are 400 not 5xx, an unclean path is refused rather
// than redirected, and transport-level refusals keep the JSON error shape.
func TestInputRefusedThroughTheDaemon(t *testing.T) {
	e := newEnv(t, "input", 200*time.Millisecond, "")
	create := "/v1/services/" + e.name + "/deployments"
	steps := func(s string) string { return `{"image_tag":"v2","strategy":{"type":"steps","steps":[` + s + `]}}` }
	bad := []struct{ name, body, field string }{
		{"negative step bake", steps(`{"percent":10,"bake":-5},{"percent":100}`), "strategy.steps[0].bake"},
		{"overflowing bake", steps(`{"percent":10,"bake":"1s"},{"percent":50,"bake":1e300},{"percent":100}`), "strategy.steps[1].bake"},
		{"bake over 24h", `{"image_tag":"v2","strategy":{"type":"canary","bake":"25h"}}`, "strategy.bake"},
		{"weight rounds to 0", steps(`{"percent":0.01},{"percent":100}`), "strategy.steps[0].percent"},
		{"canary rounds to 999", `{"image_tag":"v2","strategy":{"type":"canary","canary_percent":99.99}}`, "strategy.canary_percent"},
		{"percent above 100", steps(`{"percent":10},{"percent":101}`), "strategy.steps[1].percent"},
		{"duplicate key", `{"image_tag":"v2","image_tag":"v3"}`, "image_tag: duplicate key"},
		{"case-variant key", `{"image_tag":"v2","Reason":"x"}`, "Reason: field names are case-sensitive"},
		{"unknown field", `{"image_tag":"v2","strategy":{"type":"canary","pct":5}}`, `unknown field "pct" in strategy`},
		{"force without reason", `{"image_tag":"v2","force":true}`, "force: needs a non-empty reason"},
		{"null tag", `{"image_tag":null}`, "image_tag: null"},
	}
	for _, c := range bad {
		r := e.raw("POST", create, "application/json", c.body)
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400: %s", c.name, r.status, r.body)
			continue
		}
		if eb := apiError(t, r); eb.Code != "invalid" || !strings.Contains(eb.Message, c.field) {
			t.Errorf("%s: error %+v does not name %q", c.name, eb, c.field)
		}
	}

	queries := []struct{ path, field string }{
		{create + "?limit=abc", "limit"}, {create + "?limit=0", "limit"}, {create + "?limit=%zz", "malformed query"},
		{create + "?active=maybe", "active"}, {create + "?after=1", `unknown query parameter "after"`},
		{"/v1/deployments/nope/events?after=x", "after"}, {"/v1/deployments/nope/events?after=-1", "after"},
	}
	for _, q := range queries {
		r := e.raw("GET", q.path, "", "")
		if r.status != http.StatusBadRequest {
			t.Errorf("GET %s: status %d, want 400: %s", q.path, r.status, r.body)
			continue
		}
		if eb := apiError(t, r); !strings.Contains(eb.Message, q.field) {
			t.Errorf("GET %s: error %+v does not name %q", q.path, eb, q.field)
		}
	}

	// POST /v1/services/other/../NAME/deployments would be redirected to NAME by Go's ServeMux.
	for _, p := range []string{"/v1/services/other/../" + e.name + "/deployments", "/v1/services/" + e.name + "/./deployments", "/" + create} {
		r := e.raw("POST", p, "application/json", `{"image_tag":"v2","reason":"must not happen"}`)
		if r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
			t.Errorf("POST %s: %d Location=%q, want 400 without redirect: %s", p, r.status, r.header.Get("Location"), r.body)
		} else if eb := apiError(t, r); !strings.Contains(eb.Message, "not canonical") {
			t.Errorf("POST %s: %+v", p, eb)
		}
	}

	transport := []struct {
		name, method, path, ctype, body string
		status                          int
		code                            string
	}{
		{"unknown path", "GET", "/v1/nothing", "", "", 404, "not_found"},
		{"wrong method", "DELETE", create, "", "", 405, "method_not_allowed"},
		{"wrong content type", "POST", create, "text/plain", `{"image_tag":"v2"}`, 415, "unsupported_media_type"},
		{"body too large", "POST", create, "application/json", `{"image_tag":"v2","reason":"` + strings.Repeat("x", api.MaxBodyBytes) + `"}`, 413, "too_large"},
	}
	for _, c := range transport {
		r := e.raw(c.method, c.path, c.ctype, c.body)
		if eb := apiError(t, r); r.status != c.status || eb.Code != c.code {
			t.Errorf("%s: %d %+v, want %d %s", c.name, r.status, eb, c.status, c.code)
		}
	}
	if status, er := oversizedHeader(t, e.d.URL); status != http.StatusRequestHeaderFieldsTooLarge || er.Code != "too_large" {
		t.Errorf("oversized header: %d %+v", status, er)
	}

	if ds := e.history(e.name); len(ds) != 0 {
		t.Fatalf("bad requests created deployments: %+v", ds)
	}
	e.assertWeights(deploy.AllOn(deploy.SlotBlue))
	// Nothing unreadable was stored: the daemon starts again on the same store and still has no history.
	e.d.Kill()
	e.d = e.start()
	if ds := e.history(e.name); len(ds) != 0 {
		t.Fatalf("after restart: %+v", ds)
	}
}

// oversizedHeader sends a request whose headers exceed api.MaxHeaderBytes and decodes the answer.
func oversizedHeader(t testing.TB, base string) (int, api.ErrorDetail) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	go func() {
		_, _ = fmt.Fprintf(conn, "GET /v1/services HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nX-Big: %s\r\n\r\n",
			adminToken, strings.Repeat("a", api.MaxHeaderBytes+8192))
	}()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("oversized header: %v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, apiError(t, rawResp{res.StatusCode, res.Header, b})
}

// A configuration that two services would fight over never starts: the real binary exits non-zero and
// names both services and the shared resource. Same for the other start-up checks of issue 7.
func TestInputBadConfigurationRefusedAtStart(t *testing.T) {
	const pre = "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
	svc := func(name, tgBlue string) string {
		return fmt.Sprintf(`  %[1]s:
    cluster: main
    blue_service: %[1]s-blue
    green_service: %[1]s-green
    container: app
    image_repository: 123456789012.dkr.ecr.us-east-1.amazonaws.com/%[1]s
    listener_arn: %[2]slistener/app/alb/1/%[1]s
    blue_target_group_arn: %[2]stargetgroup/%[3]s/1
    green_target_group_arn: %[2]stargetgroup/%[1]s-green/2
`, name, pre, tgBlue)
	}
	head := "listen: 127.0.0.1:0\nstore: {path: %q}\naws: {region: us-east-1}\n"
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"shared target group", "services:\n" + svc("web", "shared") + svc("api", "shared"),
			[]string{"services.web.blue_target_group_arn", "services.api.blue_target_group_arn", "targetgroup/shared/1", "services api and web must not share it"}},
		{"bad duration", "poll_interval: 1s\nservices:\n" + strings.Replace(svc("web", "web-blue"), "    container: app\n", "    container: app\n    ready_timeout: 5 minutes\n", 1),
			[]string{`services.web.ready_timeout (line 11): invalid duration "5 minutes"`}},
		{"no services", "services: {}\n", []string{"services: at least one service is required"}},
		{"ARN in another Region", "services:\n" + strings.Replace(svc("web", "web-blue"), "us-east-1:123456789012:targetgroup/web-green", "eu-west-1:123456789012:targetgroup/web-green", 1),
			[]string{`services.web.green_target_group_arn`, `is in region "eu-west-1", not aws.region "us-east-1"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "switchyard.yaml")
			if err := os.WriteFile(cfg, []byte(fmt.Sprintf(head, filepath.Join(dir, "db"))+c.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, binary, "serve", "--config", cfg)
			cmd.Env = append(os.Environ(), "AWS_EC2_METADATA_DISABLED=true", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() == 0 {
				t.Fatalf("serve did not exit non-zero (%v):\n%s", err, out)
			}
			for _, w := range c.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
