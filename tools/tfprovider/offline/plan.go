package offline

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// planState returns the proposed new state with every null computed
// attribute (at any depth) set to unknown, except identity attributes (ARNs,
// IDs: planvalues.go) of a fully known configuration, which get known
// placeholders; and tags_all set to the
// provider default tags merged with the resource tags when both are known.
func planState(typeName string, sch *tfprotov6.Schema, proposed tftypes.Value, defaultTags map[string]tftypes.Value, defaultsKnown bool) (tftypes.Value, error) {
	r := resourceOf(typeName, sch, proposed)
	// Placeholders derive from the configuration, so they are only stable once it is fully known:
	// the plan made again during apply must produce the same values.
	stable := r.stable
	t := objectTransform{attr: func(a *tfprotov6.SchemaAttribute, v tftypes.Value) (tftypes.Value, error) {
		if a.Computed && v.IsNull() {
			if stable && isIdentityAttr(a) {
				return planPlaceholder(typeName, r, a), nil
			}
			return tftypes.NewValue(a.ValueType(), tftypes.UnknownValue), nil
		}
		return v, nil
	}}
	planned, err := t.block(sch.Block, proposed)
	if err != nil {
		return proposed, err
	}
	return withTagsAll(sch.Block, planned, defaultTags, defaultsKnown)
}

// withTagsAll mirrors the provider's tagging: tags_all = default_tags + tags,
// resource tags winning on equal keys.
func withTagsAll(b *tfprotov6.SchemaBlock, v tftypes.Value, defaultTags map[string]tftypes.Value, defaultsKnown bool) (tftypes.Value, error) {
	var tagsAll *tfprotov6.SchemaAttribute
	for _, a := range b.Attributes {
		if a.Name == "tags_all" && a.Computed {
			tagsAll = a
		}
	}
	if tagsAll == nil {
		return v, nil
	}
	m, ok := objectAttrs(v)
	if !ok {
		return v, nil
	}
	mapType, ok := tagsAll.ValueType().(tftypes.Map)
	if !ok {
		return v, fmt.Errorf("tags_all is %s, not a map", tagsAll.ValueType())
	}
	tags := m["tags"]
	if !defaultsKnown || (!tags.IsNull() && !tags.IsFullyKnown()) {
		m["tags_all"] = tftypes.NewValue(mapType, tftypes.UnknownValue)
		return tftypes.NewValue(b.ValueType(), m), nil
	}
	merged := map[string]tftypes.Value{}
	for k, val := range defaultTags {
		merged[k] = val
	}
	if !tags.IsNull() {
		var own map[string]tftypes.Value
		if err := tags.As(&own); err != nil {
			return v, fmt.Errorf("read tags: %w", err)
		}
		for k, val := range own {
			merged[k] = val
		}
	}
	m["tags_all"] = tftypes.NewValue(mapType, merged)
	return tftypes.NewValue(b.ValueType(), m), nil
}
