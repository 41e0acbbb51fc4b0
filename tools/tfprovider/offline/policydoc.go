package offline

import (
	"encoding/json"
	"hash/crc32"
	"sort"
	"strconv"

	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// minimalPolicy is used when the statements cannot be rendered (unknown
// values); it is valid policy JSON.
const minimalPolicy = `{"Version":"2012-10-17","Statement":[]}`

type policyDocument struct {
	Version   string            `json:"Version"`
	ID        string            `json:"Id,omitempty"`
	Statement []policyStatement `json:"Statement"`
}

type policyStatement struct {
	Sid          string         `json:"Sid,omitempty"`
	Effect       string         `json:"Effect"`
	Action       any            `json:"Action,omitempty"`
	NotAction    any            `json:"NotAction,omitempty"`
	Resource     any            `json:"Resource,omitempty"`
	NotResource  any            `json:"NotResource,omitempty"`
	Principal    any            `json:"Principal,omitempty"`
	NotPrincipal any            `json:"NotPrincipal,omitempty"`
	Condition    map[string]any `json:"Condition,omitempty"`
}

// policyDocumentJSON renders aws_iam_policy_document statements the way the
// provider does (single values collapse to a string, keys in IAM order).
// source/override documents are not merged.
func policyDocumentJSON(state tftypes.Value) (pretty, minified string) {
	doc, ok := buildPolicy(state)
	if !ok {
		return minimalPolicy, minimalPolicy
	}
	p, err1 := json.MarshalIndent(doc, "", "  ")
	m, err2 := json.Marshal(doc)
	if err1 != nil || err2 != nil {
		return minimalPolicy, minimalPolicy
	}
	return string(p), string(m)
}

// policyHash is the document id: a CRC32 of the JSON, like the provider's.
func policyHash(s string) string {
	return strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(s))), 10)
}

func buildPolicy(state tftypes.Value) (policyDocument, bool) {
	doc := policyDocument{Version: "2012-10-17", Statement: []policyStatement{}}
	m, ok := objectAttrs(state)
	if !ok {
		return doc, false
	}
	if v, ok := stringOf(m["version"]); ok && v != "" {
		doc.Version = v
	}
	if v, ok := stringOf(m["policy_id"]); ok {
		doc.ID = v
	}
	stmts := m["statement"]
	if stmts.IsNull() {
		return doc, true
	}
	if !stmts.IsFullyKnown() {
		return doc, false
	}
	var items []tftypes.Value
	if err := stmts.As(&items); err != nil {
		return doc, false
	}
	for _, it := range items {
		sm, ok := objectAttrs(it)
		if !ok {
			return doc, false
		}
		st := policyStatement{Effect: "Allow"}
		if v, ok := stringOf(sm["sid"]); ok {
			st.Sid = v
		}
		if v, ok := stringOf(sm["effect"]); ok && v != "" {
			st.Effect = v
		}
		st.Action = collapse(stringsOf(sm["actions"]))
		st.NotAction = collapse(stringsOf(sm["not_actions"]))
		st.Resource = collapse(stringsOf(sm["resources"]))
		st.NotResource = collapse(stringsOf(sm["not_resources"]))
		st.Principal = principals(sm["principals"])
		st.NotPrincipal = principals(sm["not_principals"])
		st.Condition = conditions(sm["condition"])
		doc.Statement = append(doc.Statement, st)
	}
	return doc, true
}

func stringOf(v tftypes.Value) (string, bool) {
	if v.IsNull() || !v.IsKnown() {
		return "", false
	}
	var s string
	if err := v.As(&s); err != nil {
		return "", false
	}
	return s, true
}

func stringsOf(v tftypes.Value) []string {
	if v.IsNull() || !v.IsKnown() {
		return nil
	}
	var items []tftypes.Value
	if err := v.As(&items); err != nil {
		return nil
	}
	var out []string
	for _, it := range items {
		if s, ok := stringOf(it); ok {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// collapse mirrors the provider: one value is a string, several a list.
func collapse(items []string) any {
	switch len(items) {
	case 0:
		return nil
	case 1:
		return items[0]
	}
	return items
}

func principals(v tftypes.Value) any {
	if v.IsNull() || !v.IsKnown() {
		return nil
	}
	var items []tftypes.Value
	if err := v.As(&items); err != nil || len(items) == 0 {
		return nil
	}
	out := map[string]any{}
	for _, it := range items {
		pm, ok := objectAttrs(it)
		if !ok {
			continue
		}
		typ, _ := stringOf(pm["type"])
		ids := stringsOf(pm["identifiers"])
		if typ == "*" {
			return "*"
		}
		var prev []string
		if p, ok := out[typ].([]string); ok {
			prev = p
		} else if p, ok := out[typ].(string); ok {
			prev = []string{p}
		}
		all := append(prev, ids...)
		sort.Strings(all)
		out[typ] = collapse(all)
	}
	return out
}

func conditions(v tftypes.Value) map[string]any {
	if v.IsNull() || !v.IsKnown() {
		return nil
	}
	var items []tftypes.Value
	if err := v.As(&items); err != nil || len(items) == 0 {
		return nil
	}
	out := map[string]any{}
	for _, it := range items {
		cm, ok := objectAttrs(it)
		if !ok {
			continue
		}
		test, _ := stringOf(cm["test"])
		variable, _ := stringOf(cm["variable"])
		byVar, _ := out[test].(map[string]any)
		if byVar == nil {
			byVar = map[string]any{}
			out[test] = byVar
		}
		byVar[variable] = collapse(stringsOf(cm["values"]))
	}
	return out
}
