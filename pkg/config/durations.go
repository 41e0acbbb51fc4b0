package config

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/switchyard/switchyard/pkg/deploy"
)

var durationType = reflect.TypeFor[deploy.Duration]()

// checkDurations walks the YAML tree alongside the Go type t and reports every deploy.Duration value
// that does not parse, with its key and line: yaml.v3 reports a failed UnmarshalText with neither.
// Keys that t does not know are left to the decoder's KnownFields check.
func checkDurations(n *yaml.Node, t reflect.Type, path string, errs *[]string) {
	if n == nil {
		return
	}
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode {
		for _, c := range n.Content {
			checkDurations(c, t, path, errs)
		}
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			return // the decoder reports non-scalars
		}
		d, err := time.ParseDuration(strings.TrimSpace(n.Value))
		switch {
		case err != nil:
			*errs = append(*errs, fmt.Sprintf("%s (line %d): invalid duration %q (use e.g. 30s, 2m, 1h)", path, n.Line, n.Value))
		case d < 0:
			*errs = append(*errs, fmt.Sprintf("%s (line %d): duration %q must not be negative", path, n.Line, n.Value))
		}
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			if f, ok := yamlField(t, key); ok {
				checkDurations(n.Content[i+1], f.Type, join(path, key), errs)
			}
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			checkDurations(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value), errs)
		}
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, c := range n.Content {
			checkDurations(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), errs)
		}
	}
}

func yamlField(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if opts == "inline" && f.Type.Kind() == reflect.Struct {
			if sub, ok := yamlField(f.Type, key); ok {
				return sub, true
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		if name == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
