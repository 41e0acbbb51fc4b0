package api_test

// The document is kept true three ways:
//   - TestOpenAPIHasEveryRoute: the routes registered on the server's mux and the document's
//     operations are the same set;
//   - TestMain puts a validating transport under http.DefaultClient, which every test of this package
//     uses, so that EVERY exchange of EVERY test here is checked against the document: a request the
//     server accepted must validate, and every response (status, content type, body) must validate,
//     the error bodies included; a full run also fails when a documented success response was never
//     seen;
//   - TestOpenAPIDocumentIsCurrent (openapi_gen_test.go): the schemas are those of the Go types.

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/switchyard/switchyard/pkg/api"
	"github.com/switchyard/switchyard/pkg/deploy"
)

func TestMain(m *testing.M) {
	flag.Parse()
	if *update { // the document is being rewritten: nothing to validate against yet
		os.Exit(m.Run())
	}
	v, err := newValidator(api.OpenAPI())
	if err != nil {
		fmt.Fprintln(os.Stderr, "openapi.json:", err)
		os.Exit(1)
	}
	http.DefaultTransport = v
	code := m.Run()
	full := flag.Lookup("test.run").Value.String() == "" && flag.Lookup("test.skip").Value.String() == ""
	if problems := v.problems(full && code == 0); len(problems) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d exchanges disagree with pkg/api/openapi.json:\n  %s\n", len(problems), strings.Join(problems, "\n  "))
		code = 1
	}
	os.Exit(code)
}

type docRoute struct {
	re     *regexp.Regexp
	path   string
	item   *openapi3.PathItem
	params []string
	lits   int // literal segments: the most literal match wins, as in the mux
}

// validator checks every exchange that goes through it against the document.
type validator struct {
	next   http.RoundTripper
	doc    *openapi3.T
	routes []docRoute
	errRef *openapi3.SchemaRef

	mu    sync.Mutex
	bad   []string
	seen  map[string]int // "operationId status" -> exchanges validated
	count int
}

func newValidator(b []byte) (*validator, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(b)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("not a valid OpenAPI document: %w", err)
	}
	v := &validator{next: http.DefaultTransport, doc: doc, seen: map[string]int{}, errRef: doc.Components.Schemas["ErrorResponse"]}
	for path, item := range doc.Paths.Map() {
		r := docRoute{path: path, item: item}
		expr := "^"
		for _, seg := range strings.Split(path, "/")[1:] {
			if strings.HasPrefix(seg, "{") {
				r.params = append(r.params, strings.Trim(seg, "{}"))
				expr += "/([^/]+)"
			} else {
				r.lits++
				expr += "/" + regexp.QuoteMeta(seg)
			}
		}
		r.re = regexp.MustCompile(expr + "$")
		v.routes = append(v.routes, r)
	}
	sort.Slice(v.routes, func(i, j int) bool { return v.routes[i].lits > v.routes[j].lits })
	return v, nil
}

func (v *validator) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := v.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if err != nil {
		return resp, nil
	}
	if problem := v.check(req, reqBody, resp, respBody); problem != "" {
		v.mu.Lock()
		v.bad = append(v.bad, fmt.Sprintf("%s %s -> %d: %s", req.Method, req.URL.RequestURI(), resp.StatusCode, problem))
		v.mu.Unlock()
	}
	return resp, nil
}

func (v *validator) find(method, path string) (*docRoute, *openapi3.Operation, map[string]string) {
	for i := range v.routes {
		r := &v.routes[i]
		m := r.re.FindStringSubmatch(path)
		if m == nil {
			continue
		}
		op := r.item.GetOperation(method)
		if op == nil {
			continue
		}
		params := map[string]string{}
		for j, name := range r.params {
			params[name] = m[j+1]
		}
		return r, op, params
	}
	return nil, nil, nil
}

// check returns what is wrong with one exchange, or "".
func (v *validator) check(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) string {
	ctx := context.Background()
	method := req.Method
	if method == http.MethodHead {
		method = http.MethodGet
		respBody = nil
	}
	r, op, params := v.find(method, req.URL.Path)
	if op == nil {
		// Not an operation (an unknown path or method, an unclean path): it must be an error in the
		// documented shape.
		if resp.StatusCode < 400 {
			return "succeeded on a route the document does not have"
		}
		return v.errorBody(respBody)
	}
	in := &openapi3filter.RequestValidationInput{
		Request: req.Clone(ctx), PathParams: params,
		Route:   &routers.Route{Spec: v.doc, Path: r.path, PathItem: r.item, Method: method, Operation: op},
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	in.Request.Body = io.NopCloser(bytes.NewReader(reqBody))
	if len(reqBody) > 0 && in.Request.Header.Get("Content-Type") == "" {
		in.Request.Header.Set("Content-Type", "application/json") // the server reads such a body as JSON
	}
	if resp.StatusCode < 300 {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			return "the server accepted a request the document refuses: " + err.Error()
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(respBody)), Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	if req.Method == http.MethodHead {
		out.Options.ExcludeResponseBody = true
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return "response: " + err.Error()
	}
	if resp.StatusCode >= 400 {
		if p := v.errorBody(respBody); p != "" {
			return p
		}
	}
	v.mu.Lock()
	v.seen[op.OperationID+" "+fmt.Sprint(resp.StatusCode)]++
	v.count++
	v.mu.Unlock()
	return ""
}

func (v *validator) errorBody(b []byte) string {
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		return "error body is not JSON: " + string(b)
	}
	if err := v.errRef.Value.VisitJSON(doc); err != nil {
		return "error body is not an ErrorResponse: " + err.Error()
	}
	return ""
}

// problems lists the disagreements and, for a full run, the documented success responses that no
// test produced (a document that promises what nobody checked is not kept true).
func (v *validator) problems(full bool) []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := append([]string(nil), v.bad...)
	if !full {
		return out
	}
	for path, item := range v.doc.Paths.Map() {
		for method, op := range item.Operations() {
			for status := range op.Responses.Map() {
				if status == "default" || status[0] >= '4' && status != "503" || v.seen[op.OperationID+" "+status] > 0 {
					continue
				}
				if status == "503" && op.OperationID != "ready" {
					continue
				}
				out = append(out, fmt.Sprintf("%s %s: documented response %s was never exercised", method, path, status))
			}
		}
	}
	sort.Strings(out)
	return out
}

// muxPatterns reads the patterns registered on the server's ServeMux. ServeMux has no listing, so
// this walks its routing tree by reflection, collecting every net/http pattern's text; a Go release
// that changes those internals makes this test fail loudly (no patterns found), never pass vacuously.
func muxPatterns(t *testing.T, srv *api.Server) []string {
	t.Helper()
	mux := reflect.ValueOf(srv).Elem().FieldByName("mux")
	found := map[string]bool{}
	seen := map[uintptr]bool{}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() || seen[v.Pointer()] {
				return
			}
			seen[v.Pointer()] = true
			if e := v.Type().Elem(); e.Name() == "pattern" && e.PkgPath() == "net/http" {
				found[v.Elem().FieldByName("str").String()] = true
				return
			}
			walk(v.Elem())
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				walk(v.Field(i))
			}
		case reflect.Slice, reflect.Array:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		case reflect.Map:
			it := v.MapRange()
			for it.Next() {
				walk(it.Value())
			}
		}
	}
	walk(mux)
	out := make([]string, 0, len(found))
	for p := range found {
		out = append(out, p)
	}
	sort.Strings(out)
	if len(out) < 10 {
		t.Fatalf("found only %v on the mux: has net/http's ServeMux changed? Update muxPatterns", out)
	}
	return out
}

func TestOpenAPIHasEveryRoute(t *testing.T) {
	e := newEnv(t)
	routes := muxPatterns(t, e.srv)
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	for _, r := range routes {
		if !documented[r] {
			t.Errorf("route %q is registered on the mux but not in openapi.json", r)
		}
		delete(documented, r)
	}
	for r := range documented {
		t.Errorf("openapi.json documents %q but the server has no such route", r)
	}
}

// Every documented success answer, produced once through the fakes (most are produced by the other
// tests of this package too; these are the ones no other test needs).
func TestOpenAPIEveryOperation(t *testing.T) {
	e := newEnv(t)
	ok := func(r resp, status int) {
		t.Helper()
		if r.status != status {
			t.Fatalf("%d %s, want %d", r.status, r.body, status)
		}
	}
	ok(e.do("GET", "/v1/openapi.json", "", ""), 200)
	ok(e.do("GET", "/metrics", "", ""), 200)
	ok(e.do("GET", "/readyz", "", ""), 200)
	e.ready = deploy.Errorf("test", deploy.KindUnavailable, "recovering")
	ok(e.do("GET", "/readyz", "", ""), 503)
	r := e.do("POST", "/v1/services/web/deployments", adminTok, `{"image_tag":"v2","strategy":{"type":"steps","steps":[{"percent":10,"bake":"30s"},{"percent":100}]},"reason":"r"}`)
	ok(r, 201)
	id := decode[deploy.Deployment](t, r).ID
	ok(e.do("GET", "/v1/services/web/deployments?active=true&limit=5", viewTok, ""), 200)
	ok(e.do("GET", "/v1/deployments/"+id+"/events?after=0", viewTok, ""), 200)
	ok(e.do("GET", "/v1/deployments/"+id+"/analysis", viewTok, ""), 404)
	e.ctl.Put(deploy.Deployment{ID: "with-analysis", Service: "web", State: deploy.StateSucceeded,
		Analysis: &deploy.AnalysisRun{Verdict: deploy.VerdictPass, Metrics: []deploy.MetricStatus{{Name: "errors", Verdict: deploy.VerdictPass,
			Stats: map[string]float64{"ratio": 0.9}, Judge: json.RawMessage(`{"k":1}`)}},
			Points: []deploy.AnalysisPoint{{Metric: "errors", BaseRequests: 10, CanaryRequests: 2, Verdict: deploy.VerdictInconclusive}}}})
	ok(e.do("GET", "/v1/deployments/with-analysis/analysis", viewTok, ""), 200)
	for _, a := range []string{"pause", "resume", "promote"} {
		ok(e.do("POST", "/v1/deployments/"+id+"/"+a, adminTok, `{"reason":"openapi"}`), 200)
	}
	ok(e.do("POST", "/v1/deployments/"+id+"/abort", adminTok, ""), 200)
	ok(e.do("POST", "/v1/reload", adminTok, `{}`), 200)

	ctl := &calCtl{Controller: e.ctl}
	srv, err := api.New(api.Options{Controller: ctl, Tokens: []api.Token{{Name: "alice", Secret: adminTok}}})
	if err != nil {
		t.Fatal(err)
	}
	e.ts.Config.Handler = srv
	ok(e.do("POST", "/v1/closures", adminTok, `{"start":"2026-07-03T13:00:00Z","end":"2026-07-03T20:00:00Z","reason":"storm"}`), 201)
	ok(e.do("GET", "/v1/closures", adminTok, ""), 200)
	ok(e.do("GET", "/v1/closures/cls-1/events", adminTok, ""), 200)
	ok(e.do("DELETE", "/v1/closures/cls-1", adminTok, ""), 204)
	ok(e.do("GET", "/v1/freezes/frz-1/events", adminTok, ""), 200)
	ok(e.do("POST", "/v1/schedules", adminTok, `{"name":"nightly","service":"web","cron":"0 2 * * *","tz":"UTC","tags":"^v"}`), 201)
	ok(e.do("GET", "/v1/schedules", adminTok, ""), 200)
	ok(e.do("POST", "/v1/schedules/nightly/pause", adminTok, ""), 200)
	ok(e.do("POST", "/v1/schedules/nightly/resume", adminTok, `{"reason":"back"}`), 200)
	ok(e.do("DELETE", "/v1/schedules/nightly", adminTok, `{"reason":"gone"}`), 204)
}
