package offline

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// validateConfig checks what tofu leaves to the provider: computed-only
// attributes must not be set (error naming the attribute) and deprecated
// attributes or blocks earn a warning.
func validateConfig(sch *tfprotov6.Schema, config *tfprotov6.DynamicValue) []*tfprotov6.Diagnostic {
	if config == nil {
		return nil
	}
	val, err := config.Unmarshal(sch.ValueType())
	if err != nil {
		return []*tfprotov6.Diagnostic{errorDiag("Invalid configuration value", err.Error(), nil)}
	}
	var diags []*tfprotov6.Diagnostic
	validateBlock(sch.Block, val, tftypes.NewAttributePath(), &diags)
	return diags
}

// ValidateValue runs the configuration checks on an already decoded value.
func ValidateValue(sch *tfprotov6.Schema, val tftypes.Value) []*tfprotov6.Diagnostic {
	var diags []*tfprotov6.Diagnostic
	validateBlock(sch.Block, val, tftypes.NewAttributePath(), &diags)
	return diags
}

func validateBlock(b *tfprotov6.SchemaBlock, v tftypes.Value, path *tftypes.AttributePath, diags *[]*tfprotov6.Diagnostic) {
	m, ok := objectAttrs(v)
	if !ok {
		return
	}
	validateAttributes(b.Attributes, m, path, diags)
	for _, bt := range b.BlockTypes {
		bv, present := m[bt.TypeName]
		if !present {
			continue
		}
		p := path.WithAttributeName(bt.TypeName)
		items := blockElements(bt.Nesting, bv, p)
		// A group block always exists, so only real content counts as use.
		if bt.Block.Deprecated && len(items) > 0 && bt.Nesting != tfprotov6.SchemaNestedBlockNestingModeGroup {
			*diags = append(*diags, warningDiag("Deprecated block",
				fmt.Sprintf("The block %q is deprecated in hashicorp/aws; see the provider documentation for its replacement.", bt.TypeName), p))
		}
		for _, it := range items {
			validateBlock(bt.Block, it.value, it.path, diags)
		}
	}
}

func validateAttributes(attrs []*tfprotov6.SchemaAttribute, m map[string]tftypes.Value, path *tftypes.AttributePath, diags *[]*tfprotov6.Diagnostic) {
	for _, a := range attrs {
		av, present := m[a.Name]
		if !present || av.IsNull() {
			continue
		}
		p := path.WithAttributeName(a.Name)
		if a.Computed && !a.Optional && !a.Required {
			*diags = append(*diags, errorDiag("Value for unconfigurable attribute",
				fmt.Sprintf("Can't configure a value for %q: its value is computed by the provider (read-only attribute).", a.Name), p))
			continue
		}
		if a.Deprecated {
			*diags = append(*diags, warningDiag("Argument is deprecated",
				fmt.Sprintf("The argument %q is deprecated in hashicorp/aws; see the provider documentation for its replacement.", a.Name), p))
		}
		if a.NestedType != nil {
			for _, it := range objectElements(a.NestedType.Nesting, av, p) {
				if im, ok := objectAttrs(it.value); ok {
					validateAttributes(a.NestedType.Attributes, im, it.path, diags)
				}
			}
		}
	}
}
