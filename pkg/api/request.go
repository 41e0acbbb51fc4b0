package api

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// MaxReasonLen bounds the reason of a create or an operator action (it goes into every audit event).
const MaxReasonLen = 1024

// decodeBody reads one JSON object into v: at most MaxBodyBytes, application/json when a type is
// given, and strict (see checkJSON). An empty body is accepted when optional is true (actions whose
// only field is an optional reason).
func decodeBody(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	const op = "api.decode"
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return deploy.Errorf(op, KindTooLarge, "request body larger than %d bytes", MaxBodyBytes)
		}
		return deploy.Errorf(op, deploy.KindInvalid, "reading the request body: %v", err)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		if optional {
			return nil
		}
		return deploy.Errorf(op, deploy.KindInvalid, "request body is empty: a JSON object is required")
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return deploy.Errorf(op, KindUnsupportedMedia, "Content-Type %q: the body must be application/json", ct)
		}
	}
	if err := checkJSON(b, reflect.TypeOf(v).Elem()); err != nil {
		return err
	}
	if err := jsonUnmarshal(b, v); err != nil { // checkJSON accepted it: this is a bug, not bad input
		return deploy.Wrap(op, deploy.KindInternal, err, "decoding a checked request body")
	}
	return nil
}

// checkReason bounds a free-text reason.
func checkReason(reason string) error {
	if len(reason) > MaxReasonLen {
		return deploy.Errorf("api.decode", deploy.KindInvalid, "reason: %d bytes, at most %d", len(reason), MaxReasonLen)
	}
	if !utf8.ValidString(reason) {
		return deploy.Errorf("api.decode", deploy.KindInvalid, "reason: not valid UTF-8")
	}
	return nil
}

// query parses the query string strictly: only the given parameters, each at most once.
func query(r *http.Request, allowed ...string) (url.Values, error) {
	const op = "api.query"
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, deploy.Errorf(op, deploy.KindInvalid, "malformed query string: %v", err)
	}
	for k, vs := range q {
		if !contains(allowed, k) {
			if len(allowed) == 0 {
				return nil, deploy.Errorf(op, deploy.KindInvalid, "unknown query parameter %q: this endpoint takes none", k)
			}
			return nil, deploy.Errorf(op, deploy.KindInvalid, "unknown query parameter %q (accepted: %s)", k, strings.Join(allowed, ", "))
		}
		if len(vs) > 1 {
			return nil, deploy.Errorf(op, deploy.KindInvalid, "query parameter %q given %d times", k, len(vs))
		}
	}
	return q, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

var digitsRE = regexp.MustCompile(`^[0-9]{1,19}$`)

// queryInt parses a decimal parameter within [min, max]; absent gives def.
func queryInt(q url.Values, name string, min, max, def int64) (int64, error) {
	v, ok := q[name]
	if !ok {
		return def, nil
	}
	n, err := strconv.ParseInt(v[0], 10, 64)
	if !digitsRE.MatchString(v[0]) || err != nil || n < min || n > max {
		return 0, deploy.Errorf("api.query", deploy.KindInvalid, "%s=%q: must be an integer from %d to %d", name, v[0], min, max)
	}
	return n, nil
}

// queryBool accepts exactly true or false.
func queryBool(q url.Values, name string) (bool, error) {
	v, ok := q[name]
	if !ok {
		return false, nil
	}
	switch v[0] {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, deploy.Errorf("api.query", deploy.KindInvalid, "%s=%q: must be true or false", name, v[0])
}

// canonicalPath refuses a path that the ServeMux would clean and redirect ("/v1/services/a/../b",
// "//v1", a trailing slash, "%2E%2E"): a redirect must never change what a request acts on, so such a
// request is answered 400 and not acted upon, whatever its method.
func canonicalPath(r *http.Request) error {
	p := r.URL.Path
	if p == "" || p[0] != '/' || path.Clean(p) != p {
		clean := path.Clean("/" + p)
		return deploy.Errorf("api.path", deploy.KindInvalid,
			"path %q is not canonical (., .., // or a trailing /); it is refused, not redirected: the canonical form would be %q", p, clean)
	}
	return nil
}
