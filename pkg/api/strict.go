package api

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// checkJSON walks the JSON document b token by token against the Go type t it is about to be decoded
// into, and reports the first problem with the path of the field: malformed JSON, duplicate keys, keys
// that differ from a field only in case (encoding/json would match them silently), unknown fields,
// values of the wrong JSON type (null included) and numbers that do not fit the field — notably a
// numeric deploy.Duration (seconds) that would overflow. After it passes, json.Unmarshal cannot fail.
func checkJSON(b []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	w := walker{dec: dec}
	if err := w.value(t, ""); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return invalidf("unexpected data after the JSON object in the request body")
	}
	return nil
}

type walker struct{ dec *json.Decoder }

var durationType = reflect.TypeFor[deploy.Duration]()

func invalidf(format string, args ...any) error {
	return deploy.Errorf("api.decode", deploy.KindInvalid, format, args...)
}

// field names path in messages; the top level is "request body".
func field(path string) string {
	if path == "" {
		return "request body"
	}
	return path
}

func (w *walker) token() (json.Token, error) {
	tok, err := w.dec.Token()
	var syn *json.SyntaxError
	switch {
	case err == nil:
		return tok, nil
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return nil, invalidf("malformed JSON: body ends early")
	case errors.As(err, &syn):
		return nil, invalidf("malformed JSON at byte %d: %v", syn.Offset, syn)
	default:
		return nil, invalidf("malformed JSON: %v", err)
	}
}

func (w *walker) value(t reflect.Type, path string) error {
	tok, err := w.token()
	if err != nil {
		return err
	}
	if t.Kind() == reflect.Pointer {
		if tok == nil {
			return nil
		}
		t = t.Elem()
	}
	if tok == nil {
		return invalidf("%s: null is not allowed (leave the field out instead)", field(path))
	}
	if t == durationType {
		return durationToken(tok, path)
	}
	if t == timeType {
		v, ok := tok.(string)
		if _, err := time.Parse(time.RFC3339Nano, v); !ok || err != nil {
			return invalidf("%s: expected an RFC 3339 time such as 2026-12-03T07:00:00-05:00, got %s", field(path), describe(tok))
		}
		return nil
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) && t.Kind() == reflect.Struct {
		if _, ok := tok.(string); !ok {
			return invalidf("%s: expected a string, got %s", field(path), describe(tok))
		}
		return nil // its own decoding checks it (e.g. a date)
	}
	switch t.Kind() {
	case reflect.Struct:
		if tok != json.Delim('{') {
			return invalidf("%s: expected a JSON object, got %s", field(path), describe(tok))
		}
		return w.object(t, path)
	case reflect.Slice:
		if tok != json.Delim('[') {
			return invalidf("%s: expected a JSON array, got %s", field(path), describe(tok))
		}
		for i := 0; w.dec.More(); i++ {
			if err := w.value(t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		_, err := w.token() // ']'
		return err
	case reflect.String:
		if _, ok := tok.(string); !ok {
			return invalidf("%s: expected a string, got %s", field(path), describe(tok))
		}
	case reflect.Bool:
		if _, ok := tok.(bool); !ok {
			return invalidf("%s: expected true or false, got %s", field(path), describe(tok))
		}
	case reflect.Float64:
		n, ok := tok.(json.Number)
		if !ok {
			return invalidf("%s: expected a number, got %s", field(path), describe(tok))
		}
		if f, err := strconv.ParseFloat(string(n), 64); err != nil || math.IsInf(f, 0) {
			return invalidf("%s: number %s is out of range", field(path), n)
		}
	case reflect.Int:
		n, ok := tok.(json.Number)
		if !ok {
			return invalidf("%s: expected an integer, got %s", field(path), describe(tok))
		}
		if _, err := strconv.ParseInt(string(n), 10, 32); err != nil {
			return invalidf("%s: %s is not an integer in range", field(path), n)
		}
	default:
		return invalidf("%s: unsupported field type %s", field(path), t) // a wire type this walker does not know
	}
	return nil
}

// object checks the members of a JSON object against struct t (the '{' is consumed).
func (w *walker) object(t reflect.Type, path string) error {
	fields := map[string]reflect.Type{}
	collectFields(t, fields)
	seen := map[string]bool{}
	for w.dec.More() {
		tok, err := w.token()
		if err != nil {
			return err
		}
		key := tok.(string) // object keys are always strings
		sub := key
		if path != "" {
			sub = path + "." + key
		}
		ft, known := fields[key]
		if !known {
			for name := range fields {
				if strings.EqualFold(name, key) {
					return invalidf("%s: field names are case-sensitive; did you mean %q?", sub, name)
				}
			}
			return invalidf("unknown field %q in %s", key, field(path))
		}
		if seen[key] {
			return invalidf("%s: duplicate key", sub)
		}
		seen[key] = true
		if err := w.value(ft, sub); err != nil {
			return err
		}
	}
	_, err := w.token() // '}'
	return err
}

// collectFields lists t's JSON members, with the members of embedded structs promoted as
// encoding/json does (a step's timing is embedded in deploy.Step).
func collectFields(t reflect.Type, fields map[string]reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			collectFields(f.Type, fields)
			continue
		}
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f.Type
	}
}

var (
	timeType        = reflect.TypeFor[time.Time]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// durationToken accepts a Go duration string ("30s") or a number of seconds that is not negative and
// fits a time.Duration (deploy.Duration would overflow silently on 1e300).
func durationToken(tok json.Token, path string) error {
	switch v := tok.(type) {
	case string:
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			return invalidf("%s: invalid duration %q (use e.g. 30s, 2m, 1h)", field(path), v)
		}
		if d < 0 {
			return invalidf("%s: must not be negative, got %s", field(path), v)
		}
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		switch {
		case err != nil || math.IsInf(f, 0) || f > float64(math.MaxInt64)/float64(time.Second):
			return invalidf("%s: %s seconds is out of range (at most %s)", field(path), v, deploy.MaxBake)
		case f < 0:
			return invalidf("%s: must not be negative, got %s seconds", field(path), v)
		}
	default:
		return invalidf("%s: expected a duration such as \"30s\", got %s", field(path), describe(tok))
	}
	return nil
}

func describe(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

func jsonUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
