package api

import (
	_ "embed"
	"net/http"
)

// openAPIDocument is the API's contract (OpenAPI 3.0): every endpoint, its parameters, request
// bodies, responses and the error shape. It is generated from the operation table in
// openapi_gen_test.go and the Go types of the bodies (go test ./pkg/api -run TestOpenAPIDocument
// -update), and kept true by openapi_test.go: every route on the mux is in it and every request and
// response of the package's tests validates against it.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPI returns the OpenAPI document served at GET /v1/openapi.json.
func OpenAPI() []byte { return append([]byte(nil), openAPIDocument...) }

// ServeOpenAPI serves the document. It needs no token: it describes the API and holds no data.
func ServeOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(openAPIDocument)
}
