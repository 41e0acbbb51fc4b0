package offline

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/switchyard/switchyard/tools/tfprovider/schemajson"
)

const testDoc = `{"format_version":"1.0","provider_schemas":{"registry.terraform.io/hashicorp/aws":{
 "resource_schemas":{"aws_widget":{"version":0,"block":{
   "attributes":{
     "name":{"type":"string","required":true},
     "arn":{"type":"string","computed":true},
     "status":{"type":"string","computed":true},
     "id":{"type":"string","optional":true,"computed":true},
     "legacy":{"type":"string","optional":true,"deprecated":true},
     "tags":{"type":["map","string"],"optional":true},
     "tags_all":{"type":["map","string"],"optional":true,"computed":true}},
   "block_types":{"rule":{"nesting_mode":"list","block":{"attributes":{
     "priority":{"type":"number","required":true},
     "rule_id":{"type":"string","computed":true}}}}}}}},
 "data_source_schemas":{
   "aws_caller_identity":{"version":0,"block":{"attributes":{
     "account_id":{"type":"string","computed":true},"arn":{"type":"string","computed":true},
     "id":{"type":"string","optional":true,"computed":true},"user_id":{"type":"string","computed":true}}}},
   "aws_vpc":{"version":0,"block":{"attributes":{
     "id":{"type":"string","optional":true,"computed":true},
     "cidr_block":{"type":"string","optional":true,"computed":true},
     "enable_dns":{"type":"bool","computed":true},
     "owner_id":{"type":"string","computed":true},
     "ipv6_pools":{"type":["list","string"],"computed":true},
     "count_n":{"type":"number","computed":true}}}},
   "aws_iam_policy_document":{"version":0,"block":{
     "attributes":{"id":{"type":"string","optional":true,"computed":true},
       "json":{"type":"string","computed":true},"minified_json":{"type":"string","computed":true},
       "version":{"type":"string","optional":true},"policy_id":{"type":"string","optional":true}},
     "block_types":{"statement":{"nesting_mode":"list","block":{
       "attributes":{"sid":{"type":"string","optional":true},"effect":{"type":"string","optional":true},
         "actions":{"type":["set","string"],"optional":true},"resources":{"type":["set","string"],"optional":true}},
       "block_types":{
         "principals":{"nesting_mode":"set","block":{"attributes":{"type":{"type":"string","required":true},"identifiers":{"type":["set","string"],"required":true}}}},
         "condition":{"nesting_mode":"set","block":{"attributes":{"test":{"type":"string","required":true},"variable":{"type":"string","required":true},"values":{"type":["list","string"],"required":true}}}}}}}}}}}}}}`

func testServer(t *testing.T) *Server {
	t.Helper()
	doc, err := schemajson.Parse([]byte(testDoc))
	if err != nil {
		t.Fatal(err)
	}
	set := &schemajson.Set{Resources: map[string]*tfprotov6.Schema{}, DataSources: map[string]*tfprotov6.Schema{}, EphemeralResources: map[string]*tfprotov6.Schema{}}
	if err := set.Merge(doc); err != nil {
		t.Fatal(err)
	}
	s := NewFromSet(set)
	if _, diags := s.schemaSet(); diags != nil {
		t.Fatal(diags)
	}
	return s
}

// obj builds a value of the schema's type from a partial attribute map;
// missing attributes are null.
func obj(t *testing.T, sch *tfprotov6.Schema, attrs map[string]tftypes.Value) tftypes.Value {
	t.Helper()
	typ := sch.ValueType().(tftypes.Object)
	full := map[string]tftypes.Value{}
	for name, at := range typ.AttributeTypes {
		if v, ok := attrs[name]; ok {
			full[name] = v
		} else {
			full[name] = tftypes.NewValue(at, nil)
		}
	}
	return tftypes.NewValue(typ, full)
}

func dyn(t *testing.T, sch *tfprotov6.Schema, v tftypes.Value) *tfprotov6.DynamicValue {
	t.Helper()
	dv, err := tfprotov6.NewDynamicValue(sch.ValueType(), v)
	if err != nil {
		t.Fatal(err)
	}
	return &dv
}

func ruleType(sch *tfprotov6.Schema) tftypes.List {
	return sch.ValueType().(tftypes.Object).AttributeTypes["rule"].(tftypes.List)
}

func TestValidateRejectsComputedOnlyAndWarnsOnDeprecated(t *testing.T) {
	s := testServer(t)
	sch := s.schemas.Resources["aws_widget"]
	rt := ruleType(sch)
	elem := rt.ElementType.(tftypes.Object)
	cfg := obj(t, sch, map[string]tftypes.Value{
		"name":   tftypes.NewValue(tftypes.String, "w"),
		"arn":    tftypes.NewValue(tftypes.String, "arn:x"),
		"legacy": tftypes.NewValue(tftypes.String, "old"),
		"id":     tftypes.NewValue(tftypes.String, "settable"),
		"rule": tftypes.NewValue(rt, []tftypes.Value{tftypes.NewValue(elem, map[string]tftypes.Value{
			"priority": tftypes.NewValue(tftypes.Number, 1),
			"rule_id":  tftypes.NewValue(tftypes.String, "nope"),
		})}),
	})
	resp, err := s.ValidateResourceConfig(context.Background(), &tfprotov6.ValidateResourceConfigRequest{TypeName: "aws_widget", Config: dyn(t, sch, cfg)})
	if err != nil {
		t.Fatal(err)
	}
	var errs, warns []string
	for _, d := range resp.Diagnostics {
		entry := d.Detail + " @" + d.Attribute.String()
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			errs = append(errs, entry)
		} else {
			warns = append(warns, entry)
		}
	}
	if len(errs) != 2 || !strings.Contains(errs[0], `"arn"`) || !strings.Contains(errs[1], `"rule_id"`) ||
		!strings.Contains(errs[1], "rule") {
		t.Errorf("errors = %q, want arn and rule[0].rule_id", errs)
	}
	if len(warns) != 1 || !strings.Contains(warns[0], `"legacy"`) {
		t.Errorf("warnings = %q, want one for legacy", warns)
	}

	clean := obj(t, sch, map[string]tftypes.Value{"name": tftypes.NewValue(tftypes.String, "w")})
	resp, _ = s.ValidateResourceConfig(context.Background(), &tfprotov6.ValidateResourceConfigRequest{TypeName: "aws_widget", Config: dyn(t, sch, clean)})
	if len(resp.Diagnostics) != 0 {
		t.Errorf("clean config diagnostics = %v", resp.Diagnostics)
	}
	resp, _ = s.ValidateResourceConfig(context.Background(), &tfprotov6.ValidateResourceConfigRequest{TypeName: "aws_nope", Config: dyn(t, sch, clean)})
	if len(resp.Diagnostics) != 1 || resp.Diagnostics[0].Severity != tfprotov6.DiagnosticSeverityError {
		t.Errorf("unknown type diagnostics = %v", resp.Diagnostics)
	}
}

func TestValidateProviderConfigUsesDocumentedSchema(t *testing.T) {
	s := testServer(t)
	if _, diags := s.schemaSet(); diags != nil {
		t.Fatal(diags)
	}
	sch := s.schemas.Provider
	typ := sch.ValueType().(tftypes.Object)
	for _, name := range []string{"region", "access_key", "secret_key", "profile", "skip_credentials_validation",
		"skip_requesting_account_id", "skip_metadata_api_check", "default_tags", "ignore_tags", "assume_role", "endpoints"} {
		if _, ok := typ.AttributeTypes[name]; !ok {
			t.Errorf("provider schema lacks %q", name)
		}
	}
	dt := typ.AttributeTypes["default_tags"].(tftypes.List).ElementType.(tftypes.Object)
	if !dt.AttributeTypes["tags"].Equal(tftypes.Map{ElementType: tftypes.String}) {
		t.Errorf("default_tags.tags = %s", dt.AttributeTypes["tags"])
	}
	it := typ.AttributeTypes["ignore_tags"].(tftypes.List).ElementType.(tftypes.Object)
	if _, ok := it.AttributeTypes["key_prefixes"]; !ok {
		t.Error("ignore_tags lacks key_prefixes")
	}
	resp, err := s.ValidateProviderConfig(context.Background(), &tfprotov6.ValidateProviderConfigRequest{
		Config: dyn(t, sch, obj(t, sch, map[string]tftypes.Value{"region": tftypes.NewValue(tftypes.String, "us-east-1")}))})
	if err != nil || len(resp.Diagnostics) != 0 {
		t.Errorf("ValidateProviderConfig = %v, %v", resp.Diagnostics, err)
	}
}

func configureDefaultTags(t *testing.T, s *Server, tags map[string]string) {
	t.Helper()
	sch := s.schemas.Provider
	dtList := sch.ValueType().(tftypes.Object).AttributeTypes["default_tags"].(tftypes.List)
	m := map[string]tftypes.Value{}
	for k, v := range tags {
		m[k] = tftypes.NewValue(tftypes.String, v)
	}
	cfg := obj(t, sch, map[string]tftypes.Value{
		"default_tags": tftypes.NewValue(dtList, []tftypes.Value{tftypes.NewValue(dtList.ElementType, map[string]tftypes.Value{
			"tags": tftypes.NewValue(tftypes.Map{ElementType: tftypes.String}, m)})}),
	})
	resp, err := s.ConfigureProvider(context.Background(), &tfprotov6.ConfigureProviderRequest{Config: dyn(t, sch, cfg)})
	if err != nil || len(resp.Diagnostics) != 0 {
		t.Fatalf("ConfigureProvider: %v %v", resp.Diagnostics, err)
	}
}

func TestPlanFillsIdentitiesAndMergesTags(t *testing.T) {
	s := testServer(t)
	s.schemaSet()
	configureDefaultTags(t, s, map[string]string{"Project": "switchyard", "Owner": "default"})
	sch := s.schemas.Resources["aws_widget"]
	rt := ruleType(sch)
	elem := rt.ElementType.(tftypes.Object)
	proposed := obj(t, sch, map[string]tftypes.Value{
		"name": tftypes.NewValue(tftypes.String, "w"),
		"tags": tftypes.NewValue(tftypes.Map{ElementType: tftypes.String}, map[string]tftypes.Value{
			"Owner": tftypes.NewValue(tftypes.String, "team")}),
		"rule": tftypes.NewValue(rt, []tftypes.Value{tftypes.NewValue(elem, map[string]tftypes.Value{
			"priority": tftypes.NewValue(tftypes.Number, 1),
			"rule_id":  tftypes.NewValue(tftypes.String, nil),
		})}),
	})
	resp, err := s.PlanResourceChange(context.Background(), &tfprotov6.PlanResourceChangeRequest{
		TypeName: "aws_widget", ProposedNewState: dyn(t, sch, proposed), Config: dyn(t, sch, proposed)})
	if err != nil || len(resp.Diagnostics) != 0 {
		t.Fatalf("plan: %v %v", resp.Diagnostics, err)
	}
	planned, err := resp.PlannedState.Unmarshal(sch.ValueType())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]tftypes.Value
	if err := planned.As(&m); err != nil {
		t.Fatal(err)
	}
	// Identity attributes are known placeholders (so policies built from them render at plan
	// time); other computed attributes stay unknown.
	if got := asString(t, m["arn"]); !strings.HasPrefix(got, "arn:aws:widget:us-east-1:123456789012:") {
		t.Errorf("arn = %q, want a known placeholder ARN", got)
	}
	if got := asString(t, m["id"]); got != "w" {
		t.Errorf("id = %q, want the resource name", got)
	}
	if m["status"].IsKnown() {
		t.Errorf("computed non-identity status should be unknown, got %v", m["status"])
	}
	if !m["legacy"].IsNull() {
		t.Errorf("optional non-computed legacy should stay null, got %v", m["legacy"])
	}
	var name string
	if err := m["name"].As(&name); err != nil || name != "w" {
		t.Errorf("name = %q", name)
	}
	var rules []tftypes.Value
	if err := m["rule"].As(&rules); err != nil || len(rules) != 1 {
		t.Fatalf("rules = %v %v", rules, err)
	}
	var rm map[string]tftypes.Value
	if err := rules[0].As(&rm); err != nil {
		t.Fatal(err)
	}
	if !rm["rule_id"].IsKnown() {
		t.Errorf("nested computed-only rule_id is an identity attribute and should be known")
	}
	var tagVals map[string]tftypes.Value
	if err := m["tags_all"].As(&tagVals); err != nil || !m["tags_all"].IsFullyKnown() {
		t.Fatalf("tags_all not a known map: %v %v", m["tags_all"], err)
	}
	tagsAll := map[string]string{}
	for k, v := range tagVals {
		tagsAll[k] = asString(t, v)
	}
	want := map[string]string{"Project": "switchyard", "Owner": "team"}
	if len(tagsAll) != len(want) || tagsAll["Project"] != want["Project"] || tagsAll["Owner"] != want["Owner"] {
		t.Errorf("tags_all = %v, want %v", tagsAll, want)
	}

	// With part of the configuration unknown the placeholders would change in the plan made again
	// during apply (an inconsistent final plan), so identities stay unknown until it is known.
	partial := obj(t, sch, map[string]tftypes.Value{
		"name": tftypes.NewValue(tftypes.String, "w"),
		"tags": tftypes.NewValue(tftypes.Map{ElementType: tftypes.String}, tftypes.UnknownValue),
	})
	resp, err = s.PlanResourceChange(context.Background(), &tfprotov6.PlanResourceChangeRequest{
		TypeName: "aws_widget", ProposedNewState: dyn(t, sch, partial), Config: dyn(t, sch, partial)})
	if err != nil || len(resp.Diagnostics) != 0 {
		t.Fatalf("plan partial: %v %v", resp.Diagnostics, err)
	}
	pp, _ := resp.PlannedState.Unmarshal(sch.ValueType())
	var pm map[string]tftypes.Value
	_ = pp.As(&pm)
	if pm["arn"].IsKnown() {
		t.Errorf("arn of a partly unknown configuration should stay unknown, got %v", pm["arn"])
	}

	// Destroy: a null proposal plans null.
	null := tftypes.NewValue(sch.ValueType(), nil)
	resp, err = s.PlanResourceChange(context.Background(), &tfprotov6.PlanResourceChangeRequest{
		TypeName: "aws_widget", PriorState: dyn(t, sch, proposed), ProposedNewState: dyn(t, sch, null)})
	if err != nil || len(resp.Diagnostics) != 0 {
		t.Fatalf("destroy plan: %v %v", resp.Diagnostics, err)
	}
	if isNull, err := resp.PlannedState.IsNull(); err != nil || !isNull {
		t.Errorf("destroy planned state null = %v, %v", isNull, err)
	}
}

func TestApplyImportAndReadResource(t *testing.T) {
	s := testServer(t)
	sch := s.schemas.Resources["aws_widget"]
	state := dyn(t, sch, obj(t, sch, map[string]tftypes.Value{"name": tftypes.NewValue(tftypes.String, "w")}))
	apply, _ := s.ApplyResourceChange(context.Background(), &tfprotov6.ApplyResourceChangeRequest{TypeName: "aws_widget", PlannedState: state})
	if len(apply.Diagnostics) != 1 || apply.Diagnostics[0].Summary != "offline schema provider cannot apply" {
		t.Errorf("apply diagnostics = %v", apply.Diagnostics)
	}
	// With test applies enabled the planned state comes back with its unknowns filled in.
	t.Setenv(EnvTestApply, "1")
	sch2 := s.schemas.Resources["aws_widget"]
	planned := obj(t, sch2, map[string]tftypes.Value{
		"name":   tftypes.NewValue(tftypes.String, "w"),
		"arn":    tftypes.NewValue(tftypes.String, tftypes.UnknownValue),
		"status": tftypes.NewValue(tftypes.String, tftypes.UnknownValue),
	})
	apply, _ = s.ApplyResourceChange(context.Background(), &tfprotov6.ApplyResourceChangeRequest{TypeName: "aws_widget", PlannedState: dyn(t, sch2, planned)})
	if len(apply.Diagnostics) != 0 {
		t.Fatalf("test apply diagnostics = %v", apply.Diagnostics)
	}
	applied, err := apply.NewState.Unmarshal(sch2.ValueType())
	if err != nil || !applied.IsFullyKnown() {
		t.Fatalf("test apply state = %v, %v; want fully known", applied, err)
	}
	var am map[string]tftypes.Value
	_ = applied.As(&am)
	if got := asString(t, am["arn"]); !strings.HasPrefix(got, "arn:aws:widget:") || asString(t, am["name"]) != "w" {
		t.Errorf("test apply arn = %q name = %q", got, asString(t, am["name"]))
	}
	t.Setenv(EnvTestApply, "")

	imp, _ := s.ImportResourceState(context.Background(), &tfprotov6.ImportResourceStateRequest{TypeName: "aws_widget", ID: "x"})
	if len(imp.Diagnostics) != 1 || imp.Diagnostics[0].Severity != tfprotov6.DiagnosticSeverityError {
		t.Errorf("import diagnostics = %v", imp.Diagnostics)
	}
	read, _ := s.ReadResource(context.Background(), &tfprotov6.ReadResourceRequest{TypeName: "aws_widget", CurrentState: state})
	if read.NewState != state {
		t.Error("ReadResource must return the current state")
	}
	up, _ := s.UpgradeResourceState(context.Background(), &tfprotov6.UpgradeResourceStateRequest{TypeName: "aws_widget",
		RawState: &tfprotov6.RawState{JSON: []byte(`{"name":"w","arn":"arn:aws:x","removed_attr":1}`)}})
	if len(up.Diagnostics) != 0 {
		t.Fatalf("upgrade diagnostics = %v", up.Diagnostics)
	}
	v, err := up.UpgradedState.Unmarshal(sch.ValueType())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]tftypes.Value
	_ = v.As(&m)
	var arn string
	if err := m["arn"].As(&arn); err != nil || arn != "arn:aws:x" {
		t.Errorf("upgraded arn = %q, %v", arn, err)
	}
}

func readDS(t *testing.T, s *Server, typeName string, attrs map[string]tftypes.Value) map[string]tftypes.Value {
	t.Helper()
	sch := s.schemas.DataSources[typeName]
	resp, err := s.ReadDataSource(context.Background(), &tfprotov6.ReadDataSourceRequest{TypeName: typeName, Config: dyn(t, sch, obj(t, sch, attrs))})
	if err != nil || len(resp.Diagnostics) != 0 {
		t.Fatalf("ReadDataSource(%s): %v %v", typeName, resp.Diagnostics, err)
	}
	v, err := resp.State.Unmarshal(sch.ValueType())
	if err != nil {
		t.Fatal(err)
	}
	if !v.IsFullyKnown() {
		t.Fatalf("%s state has unknowns: %v", typeName, v)
	}
	var m map[string]tftypes.Value
	if err := v.As(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func asString(t *testing.T, v tftypes.Value) string {
	t.Helper()
	var s string
	if err := v.As(&s); err != nil {
		t.Fatalf("not a string: %v", v)
	}
	return s
}

func TestReadDataSourcePlaceholders(t *testing.T) {
	s := testServer(t)
	me := readDS(t, s, "aws_caller_identity", nil)
	if got := asString(t, me["account_id"]); got != "123456789012" {
		t.Errorf("account_id = %q", got)
	}
	if got := asString(t, me["arn"]); !strings.HasPrefix(got, "arn:aws:iam::123456789012:") {
		t.Errorf("arn = %q", got)
	}

	vpc := readDS(t, s, "aws_vpc", map[string]tftypes.Value{"cidr_block": tftypes.NewValue(tftypes.String, "10.0.0.0/16")})
	if got := asString(t, vpc["cidr_block"]); got != "10.0.0.0/16" {
		t.Errorf("configured cidr_block overwritten: %q", got)
	}
	if got := asString(t, vpc["owner_id"]); got != "123456789012" {
		t.Errorf("owner_id = %q", got)
	}
	var b bool
	if err := vpc["enable_dns"].As(&b); err != nil || vpc["enable_dns"].IsNull() {
		t.Errorf("enable_dns placeholder = %v", vpc["enable_dns"])
	}
	var pools []tftypes.Value
	if err := vpc["ipv6_pools"].As(&pools); err != nil || len(pools) != 1 {
		t.Errorf("ipv6_pools placeholder = %v", vpc["ipv6_pools"])
	}
	if vpc["count_n"].IsNull() {
		t.Error("number placeholder is null")
	}
}

func TestPolicyDocumentRendersStatements(t *testing.T) {
	s := testServer(t)
	sch := s.schemas.DataSources["aws_iam_policy_document"]
	stList := sch.ValueType().(tftypes.Object).AttributeTypes["statement"].(tftypes.List)
	stType := stList.ElementType.(tftypes.Object)
	prSet := stType.AttributeTypes["principals"].(tftypes.Set)
	condSet := stType.AttributeTypes["condition"].(tftypes.Set)
	strs := func(t tftypes.Type, items ...string) tftypes.Value {
		vals := []tftypes.Value{}
		for _, i := range items {
			vals = append(vals, tftypes.NewValue(tftypes.String, i))
		}
		return tftypes.NewValue(t, vals)
	}
	stmt := map[string]tftypes.Value{
		"sid":       tftypes.NewValue(tftypes.String, "DenyInsecure"),
		"effect":    tftypes.NewValue(tftypes.String, "Deny"),
		"actions":   strs(tftypes.Set{ElementType: tftypes.String}, "s3:*"),
		"resources": strs(tftypes.Set{ElementType: tftypes.String}, "arn:aws:s3:::b", "arn:aws:s3:::b/*"),
		"principals": tftypes.NewValue(prSet, []tftypes.Value{tftypes.NewValue(prSet.ElementType, map[string]tftypes.Value{
			"type": tftypes.NewValue(tftypes.String, "AWS"), "identifiers": strs(tftypes.Set{ElementType: tftypes.String}, "*")})}),
		"condition": tftypes.NewValue(condSet, []tftypes.Value{tftypes.NewValue(condSet.ElementType, map[string]tftypes.Value{
			"test": tftypes.NewValue(tftypes.String, "Bool"), "variable": tftypes.NewValue(tftypes.String, "aws:SecureTransport"),
			"values": strs(tftypes.List{ElementType: tftypes.String}, "false")})}),
	}
	doc := readDS(t, s, "aws_iam_policy_document", map[string]tftypes.Value{
		"statement": tftypes.NewValue(stList, []tftypes.Value{tftypes.NewValue(stType, stmt)})})
	var parsed struct {
		Version   string
		Statement []struct {
			Sid, Effect string
			Action      any
			Resource    []string
			Principal   map[string]any
			Condition   map[string]map[string]string
		}
	}
	raw := asString(t, doc["json"])
	if err := json.Unmarshal([]byte(raw), &parsed); err != nil {
		t.Fatalf("json is not valid JSON: %v\n%s", err, raw)
	}
	if parsed.Version != "2012-10-17" || len(parsed.Statement) != 1 {
		t.Fatalf("policy = %s", raw)
	}
	st := parsed.Statement[0]
	if st.Sid != "DenyInsecure" || st.Effect != "Deny" || st.Action != "s3:*" || len(st.Resource) != 2 ||
		st.Principal["AWS"] != "*" || st.Condition["Bool"]["aws:SecureTransport"] != "false" {
		t.Errorf("statement = %+v", st)
	}
	if min := asString(t, doc["minified_json"]); strings.Contains(min, "\n") || !json.Valid([]byte(min)) {
		t.Errorf("minified_json = %q", min)
	}
}

// The real schema dump plus the overlay must load and contain the types the
// stack depends on. Skipped only when the shared schema is not on this machine.
func TestRealSchemaAndOverlayLoad(t *testing.T) {
	main := filepath.Join("..", "..", "..", "..", "shared", "terraform", "aws-provider-6.47.0-schema.json.gz")
	overlay := filepath.Join("..", "..", "..", "terraform", "schema-overlay", "aws-overlay.json")
	if _, err := os.Stat(main); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("shared provider schema missing in CI: %v", err)
		}
		t.Skipf("shared provider schema not present (%v)", err)
	}
	set, err := schemajson.LoadFiles([]string{main, overlay})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Resources) < 1600 || len(set.DataSources) < 600 || len(set.EphemeralResources) < 10 {
		t.Errorf("counts: %d resources, %d data sources, %d ephemeral", len(set.Resources), len(set.DataSources), len(set.EphemeralResources))
	}
	waf := set.Resources["aws_wafv2_web_acl"]
	if waf == nil {
		t.Fatal("overlay did not add aws_wafv2_web_acl")
	}
	typ := waf.ValueType().(tftypes.Object)
	for _, a := range []string{"name", "scope", "default_action", "rule", "visibility_config", "tags", "tags_all", "arn", "capacity", "lock_token"} {
		if _, ok := typ.AttributeTypes[a]; !ok {
			t.Errorf("aws_wafv2_web_acl lacks %q", a)
		}
	}
	rule := typ.AttributeTypes["rule"].(tftypes.Set).ElementType.(tftypes.Object)
	stmt := rule.AttributeTypes["statement"].(tftypes.List).ElementType.(tftypes.Object)
	sqli := stmt.AttributeTypes["sqli_match_statement"].(tftypes.List).ElementType.(tftypes.Object)
	ftm := sqli.AttributeTypes["field_to_match"].(tftypes.List).ElementType.(tftypes.Object)
	for _, f := range []string{"body", "uri_path", "query_string", "all_query_arguments", "single_header"} {
		if _, ok := ftm.AttributeTypes[f]; !ok {
			t.Errorf("field_to_match lacks %q", f)
		}
	}
	for _, ds := range []string{"aws_availability_zones", "aws_region", "aws_caller_identity", "aws_partition", "aws_iam_policy_document"} {
		if set.DataSources[ds] == nil {
			t.Errorf("data source %s missing", ds)
		}
	}
}

// The placeholders must pass the shape checks the stacks' variables make (KMS key ARNs with a UUID,
// Secrets Manager ARNs, ELB arn_suffix) and be stable between plans.
func TestIdentityPlaceholdersLookReal(t *testing.T) {
	kms := identityString("aws_kms_key", "Encrypts x", "arn")
	if !regexp.MustCompile(`^arn:aws:kms:us-east-1:123456789012:key/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(kms) {
		t.Errorf("kms arn = %q", kms)
	}
	if kms != identityString("aws_kms_key", "Encrypts x", "arn") || kms == identityString("aws_kms_key", "Encrypts y", "arn") {
		t.Errorf("kms arn not deterministic per key")
	}
	if got := identityString("aws_secretsmanager_secret", "secret-a", "arn"); !regexp.MustCompile(`^arn:aws:secretsmanager:us-east-1:123456789012:secret:secret-a-[0-9a-f]{6}$`).MatchString(got) {
		t.Errorf("secret arn = %q", got)
	}
	if got := identityString("aws_lb_target_group", "tg-blue", "arn_suffix"); !regexp.MustCompile(`^targetgroup/tg-blue/[0-9a-f]{16}$`).MatchString(got) {
		t.Errorf("target group arn_suffix = %q", got)
	}
	if got := identityString("aws_lb", "alb-x", "arn_suffix"); !regexp.MustCompile(`^app/alb-x/[0-9a-f]{16}$`).MatchString(got) {
		t.Errorf("alb arn_suffix = %q", got)
	}
	if got := identityString("aws_security_group", "secgrp-x", "id"); !regexp.MustCompile(`^sg-[0-9a-f]{17}$`).MatchString(got) {
		t.Errorf("sg id = %q", got)
	}
}
