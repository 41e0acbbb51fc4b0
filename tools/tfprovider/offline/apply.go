package offline

import (
	"fmt"
	"os"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// EnvTestApply enables test applies: with it set to 1, ApplyResourceChange "creates" a resource by
// returning its planned state with every unknown filled by a placeholder (identity attributes as at
// plan time, planvalues.go). Nothing reaches AWS. It exists for `tofu test` / `terraform test` runs
// with `command = apply`: data sources that depend on resources (aws_iam_policy_document built from
// ARNs) are only read during apply, and this is how tests see the policy JSON the provider renders.
// Off by default so that a real `tofu apply` in the offline environment still fails loudly.
const EnvTestApply = "SWITCHYARD_TF_OFFLINE_APPLY"

func testApplyEnabled() bool { return os.Getenv(EnvTestApply) == "1" }

func testApply(req *tfprotov6.ApplyResourceChangeRequest, sch *tfprotov6.Schema) (*tfprotov6.ApplyResourceChangeResponse, error) {
	typ := sch.ValueType()
	planned, err := req.PlannedState.Unmarshal(typ)
	if err != nil {
		return &tfprotov6.ApplyResourceChangeResponse{Diagnostics: []*tfprotov6.Diagnostic{
			errorDiag("Invalid planned state", err.Error(), nil)}}, nil
	}
	if planned.IsNull() { // destroy
		return &tfprotov6.ApplyResourceChangeResponse{NewState: req.PlannedState, Private: req.PlannedPrivate}, nil
	}
	r := resourceOf(req.TypeName, sch, planned)
	t := objectTransform{attr: func(a *tfprotov6.SchemaAttribute, v tftypes.Value) (tftypes.Value, error) {
		if v.IsKnown() {
			return v, nil
		}
		if isIdentityAttr(a) {
			return planPlaceholder(req.TypeName, r, a), nil
		}
		return placeholder(req.TypeName, a.Name, a.ValueType()), nil
	}}
	state, err := t.block(sch.Block, planned)
	if err != nil {
		return &tfprotov6.ApplyResourceChangeResponse{Diagnostics: []*tfprotov6.Diagnostic{
			errorDiag("Cannot apply "+req.TypeName, err.Error(), nil)}}, nil
	}
	if !state.IsFullyKnown() {
		return &tfprotov6.ApplyResourceChangeResponse{Diagnostics: []*tfprotov6.Diagnostic{
			errorDiag("Cannot apply "+req.TypeName, "unknown values remain after filling placeholders", nil)}}, nil
	}
	dv, err := tfprotov6.NewDynamicValue(typ, state)
	if err != nil {
		return nil, fmt.Errorf("encode applied state: %w", err)
	}
	return &tfprotov6.ApplyResourceChangeResponse{NewState: &dv, Private: req.PlannedPrivate}, nil
}
