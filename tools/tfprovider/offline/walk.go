package offline

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// element is one item of a nested block or nested attribute collection,
// with the path step that addresses it in diagnostics.
type element struct {
	path  *tftypes.AttributePath
	value tftypes.Value
}

// objectAttrs returns the attributes of a known, non-null object value.
func objectAttrs(v tftypes.Value) (map[string]tftypes.Value, bool) {
	if v.IsNull() || !v.IsKnown() {
		return nil, false
	}
	var m map[string]tftypes.Value
	if err := v.As(&m); err != nil {
		return nil, false
	}
	return m, true
}

// blockElements lists the objects held by a nested block value according to
// its nesting mode. Null or unknown collections hold nothing we can inspect.
func blockElements(nesting tfprotov6.SchemaNestedBlockNestingMode, v tftypes.Value, path *tftypes.AttributePath) []element {
	switch nesting {
	case tfprotov6.SchemaNestedBlockNestingModeSingle, tfprotov6.SchemaNestedBlockNestingModeGroup:
		if v.IsNull() || !v.IsKnown() {
			return nil
		}
		return []element{{path, v}}
	case tfprotov6.SchemaNestedBlockNestingModeList:
		return listElements(v, path)
	case tfprotov6.SchemaNestedBlockNestingModeSet:
		return setElements(v, path)
	case tfprotov6.SchemaNestedBlockNestingModeMap:
		return mapElements(v, path)
	}
	return nil
}

// objectElements is blockElements for nested attributes.
func objectElements(nesting tfprotov6.SchemaObjectNestingMode, v tftypes.Value, path *tftypes.AttributePath) []element {
	switch nesting {
	case tfprotov6.SchemaObjectNestingModeSingle:
		if v.IsNull() || !v.IsKnown() {
			return nil
		}
		return []element{{path, v}}
	case tfprotov6.SchemaObjectNestingModeList:
		return listElements(v, path)
	case tfprotov6.SchemaObjectNestingModeSet:
		return setElements(v, path)
	case tfprotov6.SchemaObjectNestingModeMap:
		return mapElements(v, path)
	}
	return nil
}

func listElements(v tftypes.Value, path *tftypes.AttributePath) []element {
	var items []tftypes.Value
	if v.IsNull() || !v.IsKnown() || v.As(&items) != nil {
		return nil
	}
	out := make([]element, len(items))
	for i, item := range items {
		out[i] = element{path.WithElementKeyInt(i), item}
	}
	return out
}

func setElements(v tftypes.Value, path *tftypes.AttributePath) []element {
	var items []tftypes.Value
	if v.IsNull() || !v.IsKnown() || v.As(&items) != nil {
		return nil
	}
	out := make([]element, len(items))
	for i, item := range items {
		out[i] = element{path.WithElementKeyValue(item), item}
	}
	return out
}

func mapElements(v tftypes.Value, path *tftypes.AttributePath) []element {
	var items map[string]tftypes.Value
	if v.IsNull() || !v.IsKnown() || v.As(&items) != nil {
		return nil
	}
	out := make([]element, 0, len(items))
	for _, k := range sortedKeys(items) {
		out = append(out, element{path.WithElementKeyString(k), items[k]})
	}
	return out
}

// transformObject rebuilds a known object value by applying fn to each
// attribute and block of schema b; fn results replace the attribute values.
// It is the shared skeleton of planning and data source placeholders.
type objectTransform struct {
	// attr returns the new value of an attribute (after nested recursion).
	attr func(a *tfprotov6.SchemaAttribute, v tftypes.Value) (tftypes.Value, error)
}

func (t objectTransform) block(b *tfprotov6.SchemaBlock, v tftypes.Value) (tftypes.Value, error) {
	m, ok := objectAttrs(v)
	if !ok {
		return v, nil
	}
	out := make(map[string]tftypes.Value, len(m))
	for k, val := range m {
		out[k] = val
	}
	for _, a := range b.Attributes {
		cur, present := m[a.Name]
		if !present {
			cur = tftypes.NewValue(a.ValueType(), nil)
		}
		if a.NestedType != nil {
			nested, err := t.nested(a.NestedType, cur)
			if err != nil {
				return v, fmt.Errorf("%s: %w", a.Name, err)
			}
			cur = nested
		}
		nv, err := t.attr(a, cur)
		if err != nil {
			return v, fmt.Errorf("%s: %w", a.Name, err)
		}
		out[a.Name] = nv
	}
	for _, bt := range b.BlockTypes {
		cur, present := m[bt.TypeName]
		if !present || cur.IsNull() || !cur.IsKnown() {
			continue
		}
		nv, err := t.collection(bt.ValueType(), cur, func(item tftypes.Value) (tftypes.Value, error) {
			return t.block(bt.Block, item)
		})
		if err != nil {
			return v, fmt.Errorf("%s: %w", bt.TypeName, err)
		}
		out[bt.TypeName] = nv
	}
	return tftypes.NewValue(b.ValueType(), out), nil
}

func (t objectTransform) nested(o *tfprotov6.SchemaObject, v tftypes.Value) (tftypes.Value, error) {
	if v.IsNull() || !v.IsKnown() {
		return v, nil
	}
	inner := &tfprotov6.SchemaBlock{Attributes: o.Attributes}
	return t.collection(o.ValueType(), v, func(item tftypes.Value) (tftypes.Value, error) {
		return t.block(inner, item)
	})
}

// collection applies fn to every element of a list/set/map value, or to the
// value itself when typ is an object (single/group nesting).
func (t objectTransform) collection(typ tftypes.Type, v tftypes.Value, fn func(tftypes.Value) (tftypes.Value, error)) (tftypes.Value, error) {
	switch typ.(type) {
	case tftypes.List, tftypes.Set:
		var items []tftypes.Value
		if err := v.As(&items); err != nil {
			return v, err
		}
		for i := range items {
			nv, err := fn(items[i])
			if err != nil {
				return v, err
			}
			items[i] = nv
		}
		return tftypes.NewValue(typ, items), nil
	case tftypes.Map:
		var items map[string]tftypes.Value
		if err := v.As(&items); err != nil {
			return v, err
		}
		for k := range items {
			nv, err := fn(items[k])
			if err != nil {
				return v, err
			}
			items[k] = nv
		}
		return tftypes.NewValue(typ, items), nil
	}
	return fn(v)
}
