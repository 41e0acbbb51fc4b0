package api_test

// This file writes pkg/api/openapi.json: the operation table below (what each route takes and
// answers) plus schemas reflected from the Go types the handlers decode and encode, so that a field
// added to deploy.Deployment is in the document the moment the document is regenerated, and
// TestOpenAPIDocumentIsCurrent fails until it is:
//
//	go test ./pkg/api -run TestOpenAPIDocument -update

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/api"
	"github.com/switchyard/switchyard/pkg/calendar"
	"github.com/switchyard/switchyard/pkg/deploy"
)

var update = flag.Bool("update", false, "rewrite openapi.json from the operation table and the Go types")

type obj = map[string]any

// operation is one route of the API as the document states it.
type operation struct {
	method, path, id, summary string
	public                    bool     // no bearer token
	write                     bool     // refused to read-only tokens (403)
	query                     []string // name:type (integer, boolean)
	body                      any      // request body type (a zero value), nil for none
	bodyOptional              bool
	ok                        map[int]any // success status -> response type (nil: no body; string: text/plain)
	errs                      []int       // statuses besides the common ones
}

type textBody string

var (
	deployment   = &deploy.Deployment{}
	events       = []deploy.Event{}
	actionOps    = []string{"abort", "pause", "resume", "promote"}
	freezeRec    = deploy.FreezeRecord{}
	closureRec   = deploy.ClosureRecord{}
	scheduleRec  = deploy.ScheduleRecord{}
	statusResp   = api.StatusResponse{}
	noBody       = map[int]any{204: nil}
	errorsOfBody = []int{413, 415}
)

func operations() []operation {
	ops := []operation{
		{method: "GET", path: "/healthz", id: "health", summary: "Liveness: the process answers.", public: true, ok: map[int]any{200: statusResp}},
		{method: "GET", path: "/readyz", id: "ready", summary: "Readiness: store open and recovery of unfinished deployments done.", public: true,
			ok: map[int]any{200: statusResp, 503: api.ErrorResponse{}}},
		{method: "GET", path: "/metrics", id: "metrics", summary: "Prometheus metrics (text exposition format); removed by serve --metrics-endpoint=false.", public: true,
			ok: map[int]any{200: textBody("")}},
		{method: "GET", path: "/v1/openapi.json", id: "openapi", summary: "This document.", public: true, ok: map[int]any{200: obj{}}},
		{method: "POST", path: "/v1/services/{service}/deployments", id: "createDeployment", write: true,
			summary: "Start a deployment of image_tag (201), or with dry_run answer its timeline and create nothing (200).",
			body:    api.CreateDeploymentBody{}, ok: map[int]any{201: deployment, 200: deploy.DryRun{}}, errs: []int{409, 412}},
		{method: "GET", path: "/v1/services/{service}/deployments", id: "listDeployments", summary: "A service's deployments, newest first.",
			query: []string{"active:boolean", "limit:integer"}, ok: map[int]any{200: []*deploy.Deployment{}}},
		{method: "GET", path: "/v1/services", id: "listServices", summary: "Every configured service with its live weights per route and its active deployment.",
			ok: map[int]any{200: []deploy.ServiceStatus{}}},
		{method: "GET", path: "/v1/deployments/{id}", id: "getDeployment", summary: "One deployment; while active with its live guard states, route weights and analysis.",
			ok: map[int]any{200: deployment}},
		{method: "GET", path: "/v1/deployments/{id}/events", id: "deploymentEvents", summary: "A deployment's audit trail, oldest first.",
			query: []string{"after:integer"}, ok: map[int]any{200: events}},
		{method: "GET", path: "/v1/deployments/{id}/analysis", id: "deploymentAnalysis", summary: "A deployment's analysis: verdicts, measurements and why (404 when it has none).",
			ok: map[int]any{200: deploy.AnalysisRun{}}},
		{method: "POST", path: "/v1/reload", id: "reload", write: true, summary: "Re-read the configuration (services, tokens).",
			body: api.ActionBody{}, bodyOptional: true, ok: map[int]any{200: statusResp}},
	}
	for _, a := range actionOps {
		ops = append(ops, operation{method: "POST", path: "/v1/deployments/{id}/" + a, id: a + "Deployment", write: true,
			summary: map[string]string{"abort": "Abort: roll back to the previous colour.", "pause": "Pause: hold the weights, still guarded.",
				"resume": "Resume a paused deployment.", "promote": "Promote: skip the remaining steps."}[a],
			body: api.ActionBody{}, bodyOptional: true, ok: map[int]any{200: deployment}, errs: []int{409}})
	}
	for _, k := range []struct {
		plural, one string
		body, rec   any
	}{{"freezes", "freeze", api.FreezeBody{}, freezeRec}, {"closures", "closure", api.ClosureBody{}, closureRec}, {"schedules", "schedule", api.ScheduleBody{}, scheduleRec}} {
		list := reflect.New(reflect.SliceOf(reflect.TypeOf(k.rec))).Elem().Interface()
		ops = append(ops,
			operation{method: "GET", path: "/v1/" + k.plural, id: "list" + title(k.plural), summary: "Every stored " + k.one + ".", ok: map[int]any{200: list}},
			operation{method: "POST", path: "/v1/" + k.plural, id: "add" + title(k.one), write: true, summary: "Store a " + k.one + " (audited).",
				body: k.body, ok: map[int]any{201: k.rec}, errs: []int{409}},
			operation{method: "DELETE", path: "/v1/" + k.plural + "/{id}", id: "delete" + title(k.one), write: true, summary: "Delete a " + k.one + " (audited).",
				body: api.ActionBody{}, bodyOptional: true, ok: noBody},
			operation{method: "GET", path: "/v1/" + k.plural + "/{id}/events", id: k.one + "Events", summary: "The " + k.one + "'s audit trail, oldest first.",
				ok: map[int]any{200: events}},
		)
	}
	for _, v := range []string{"pause", "resume"} {
		ops = append(ops, operation{method: "POST", path: "/v1/schedules/{id}/" + v, id: v + "Schedule", write: true,
			summary: title(v) + " a recurring schedule (audited).", body: api.ActionBody{}, bodyOptional: true, ok: map[int]any{200: scheduleRec}})
	}
	return ops
}

func title(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// Common error statuses. Every error has the same body; its status comes from its code through
// api.StatusOf, so "default" covers the rarer ones (e.g. 504 when the store times out).
var errorText = map[int]string{
	400: "Invalid input: a malformed or unknown field, parameter or path; the message names it.",
	401: "Missing or unknown bearer token.",
	403: "The token is read-only.",
	404: "No such service, deployment or object.",
	409: "Conflicts with the current state (another active deployment: active_deployment names it).",
	412: "A guarding alarm is already in ALARM: repeat with force and a reason.",
	413: "Body or headers too large.",
	415: "The body is not application/json.",
	500: "Internal error (details in the daemon log).",
	503: "Unavailable or throttled (Retry-After).",
}

// document builds the whole OpenAPI document.
func document() obj {
	g := &schemaGen{schemas: obj{}, names: map[reflect.Type]string{}}
	errRef := g.ref(reflect.TypeOf(api.ErrorResponse{}))
	paths := obj{}
	for _, op := range operations() {
		item, _ := paths[op.path].(obj)
		if item == nil {
			item = obj{}
			paths[op.path] = item
		}
		o := obj{"operationId": op.id, "summary": op.summary}
		if op.public {
			o["security"] = []any{}
		}
		var params []any
		for _, seg := range strings.Split(op.path, "/") {
			if strings.HasPrefix(seg, "{") {
				params = append(params, obj{"name": strings.Trim(seg, "{}"), "in": "path", "required": true,
					"schema": obj{"type": "string", "minLength": 1, "maxLength": 128}})
			}
		}
		for _, q := range op.query {
			name, typ, _ := strings.Cut(q, ":")
			s := obj{"type": typ}
			if typ == "integer" {
				s["minimum"] = 0
			}
			params = append(params, obj{"name": name, "in": "query", "required": false, "schema": s})
		}
		if params != nil {
			o["parameters"] = params
		}
		if op.body != nil {
			o["requestBody"] = obj{"required": !op.bodyOptional, "content": obj{"application/json": obj{"schema": g.ref(reflect.TypeOf(op.body))}}}
		}
		resps := obj{}
		for status, body := range op.ok {
			r := obj{"description": "OK"}
			switch b := body.(type) {
			case nil:
				r["description"] = "Done (no body)."
			case textBody:
				r["content"] = obj{"text/plain": obj{"schema": obj{"type": "string"}}}
			case obj:
				r["content"] = obj{"application/json": obj{"schema": obj{"type": "object"}}}
			default:
				r["content"] = obj{"application/json": obj{"schema": g.schema(reflect.TypeOf(b))}}
			}
			if status >= 400 {
				r["description"] = errorText[status]
			}
			resps[itoa(int64(status))] = r
		}
		if !op.public {
			codes := []int{400, 401, 404, 500, 503}
			if op.write {
				codes = append(codes, 403)
			}
			if op.body != nil {
				codes = append(codes, errorsOfBody...)
			}
			codes = append(codes, op.errs...)
			for _, c := range codes {
				resps[itoa(int64(c))] = obj{"description": errorText[c], "content": obj{"application/json": obj{"schema": errRef}}}
			}
			resps["default"] = obj{"description": "Any other error: the status is chosen by the error code (api.StatusOf).",
				"content": obj{"application/json": obj{"schema": errRef}}}
		}
		o["responses"] = resps
		item[strings.ToLower(op.method)] = o
	}
	return obj{
		"openapi": "3.0.3",
		"info": obj{"title": "switchyard API", "version": "1",
			"description": "The switchyard daemon's HTTP API. Every /v1 route needs a bearer token; read-only tokens get 403 on writes. " +
				"Input is strict: unknown or duplicate keys, nulls and unknown query parameters are refused (400); " +
				"a body without a Content-Type is read as JSON. " +
				"Every error is an ErrorResponse whose HTTP status is chosen by its code."},
		"paths":      paths,
		"components": obj{"schemas": g.schemas, "securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer"}}},
		"security":   []any{obj{"bearer": []any{}}},
	}
}

// schemaGen turns Go types into OpenAPI schemas the way encoding/json encodes them: every named
// struct a component with additionalProperties false, fields without omitempty required, nil
// slices and maps null.
type schemaGen struct {
	schemas obj
	names   map[reflect.Type]string
}

var (
	timeType     = reflect.TypeOf(time.Time{})
	durationType = reflect.TypeOf(deploy.Duration(0))
	dateType     = reflect.TypeOf(calendar.Date{})
	rawType      = reflect.TypeOf(json.RawMessage{})
)

// enums lists the values of the closed string types a client switches on and that are never empty
// where they appear (a slot is empty before a deployment has read the live one, so it is only
// described).
var enums = map[reflect.Type][]string{
	reflect.TypeOf(deploy.State("")):   {"pending", "preparing", "shifting", "paused", "finalizing", "succeeded", "rolling_back", "rolled_back", "failed"},
	reflect.TypeOf(deploy.Verdict("")): {"inconclusive", "pass", "fail"},
}

func (g *schemaGen) ref(t reflect.Type) obj {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	name, ok := g.names[t]
	if !ok {
		name = t.Name()
		for other, n := range g.names {
			if n == name && other != t { // two packages' types of one name: qualify the newcomer
				name = title(path.Base(t.PkgPath())) + name
			}
		}
		g.names[t] = name
		g.schemas[name] = obj{} // placeholder: recursion stops here
		g.schemas[name] = g.structSchema(t)
	}
	return obj{"$ref": "#/components/schemas/" + name}
}

func (g *schemaGen) schema(t reflect.Type) obj {
	switch t {
	case timeType:
		return obj{"type": "string", "format": "date-time"}
	case durationType:
		return obj{"description": "A Go duration string (\"30s\", \"1m30s\"); requests may give seconds as a number.",
			"anyOf": []any{obj{"type": "string"}, obj{"type": "number", "minimum": 0}}}
	case dateType:
		return obj{"type": "string", "format": "date"}
	case rawType:
		return obj{"description": "Opaque JSON (a judge's own state)."}
	}
	if vals, ok := enums[t]; ok {
		return obj{"type": "string", "enum": vals}
	}
	switch t {
	case reflect.TypeOf(deploy.Slot("")):
		return obj{"type": "string", "description": "blue or green (empty until known)"}
	case reflect.TypeOf(deploy.StrategyType("")):
		return obj{"type": "string", "description": "canary, linear, all-at-once or steps"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.schema(t.Elem())
	case reflect.Struct:
		return g.ref(t)
	case reflect.Slice, reflect.Array:
		return obj{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return obj{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.String:
		return obj{"type": "string"}
	case reflect.Bool:
		return obj{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return obj{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return obj{"type": "number"}
	}
	return obj{}
}

// fields lists t's JSON fields as encoding/json sees them (embedded structs promoted).
func fields(t reflect.Type) []reflect.StructField {
	var out []reflect.StructField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if f.Anonymous && tag == "" && f.Type.Kind() == reflect.Struct {
			out = append(out, fields(f.Type)...)
			continue
		}
		out = append(out, f)
	}
	return out
}

func jsonName(f reflect.StructField) (string, bool) {
	name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		name = f.Name
	}
	optional := strings.Contains(","+opts+",", ",omitempty,") || strings.Contains(","+opts+",", ",omitzero,")
	return name, optional
}

func (g *schemaGen) structSchema(t reflect.Type) obj {
	props := obj{}
	var required []string
	for _, f := range fields(t) {
		name, optional := jsonName(f)
		s := g.schema(f.Type)
		if !optional {
			required = append(required, name)
			// encoding/json writes a nil slice, map or pointer as null.
			switch f.Type.Kind() {
			case reflect.Slice, reflect.Map:
				s["nullable"] = true
			case reflect.Pointer:
				s = obj{"nullable": true, "allOf": []any{s}}
			}
		}
		props[name] = s
	}
	out := obj{"type": "object", "additionalProperties": false, "properties": props}
	if required != nil {
		sort.Strings(required)
		out["required"] = required
	}
	return out
}

func encodeDocument(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(document()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The served document is the one the table and the Go types give; -update rewrites it.
func TestOpenAPIDocumentIsCurrent(t *testing.T) {
	want := encodeDocument(t)
	if *update {
		if err := os.WriteFile("openapi.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(api.OpenAPI(), want) {
		t.Fatal("pkg/api/openapi.json is not what the operation table and the Go types give: " +
			"run `go test ./pkg/api -run TestOpenAPIDocument -update` and review the diff")
	}
}
