package schemajson

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

func TestParseType(t *testing.T) {
	cases := map[string]tftypes.Type{
		`"string"`:                    tftypes.String,
		`"number"`:                    tftypes.Number,
		`"bool"`:                      tftypes.Bool,
		`"dynamic"`:                   tftypes.DynamicPseudoType,
		`["list","string"]`:           tftypes.List{ElementType: tftypes.String},
		`["set",["map","number"]]`:    tftypes.Set{ElementType: tftypes.Map{ElementType: tftypes.Number}},
		`["tuple",["string","bool"]]`: tftypes.Tuple{ElementTypes: []tftypes.Type{tftypes.String, tftypes.Bool}},
		`["object",{"a":"string","b":["list","bool"]}]`: tftypes.Object{AttributeTypes: map[string]tftypes.Type{
			"a": tftypes.String, "b": tftypes.List{ElementType: tftypes.Bool}}},
		`["object",{"a":"string","b":"number"},["b"]]`: tftypes.Object{
			AttributeTypes:     map[string]tftypes.Type{"a": tftypes.String, "b": tftypes.Number},
			OptionalAttributes: map[string]struct{}{"b": {}}},
	}
	for in, want := range cases {
		got, err := ParseType(json.RawMessage(in))
		if err != nil {
			t.Errorf("ParseType(%s): %v", in, err)
			continue
		}
		if !got.Equal(want) {
			t.Errorf("ParseType(%s) = %s, want %s", in, got, want)
		}
	}
	for _, bad := range []string{`"strin"`, `["list"]`, `["frob","string"]`, `["object",{"a":"string"},["zz"]]`, `42`} {
		if _, err := ParseType(json.RawMessage(bad)); err == nil {
			t.Errorf("ParseType(%s) succeeded, want error", bad)
		}
	}
}

const sampleDoc = `{
  "format_version": "1.0",
  "provider_schemas": {
    "registry.terraform.io/hashicorp/aws": {
      "resource_schemas": {
        "aws_thing": {
          "version": 2,
          "block": {
            "attributes": {
              "name":     {"type": "string", "required": true},
              "arn":      {"type": "string", "computed": true},
              "secret":   {"type": "string", "optional": true, "sensitive": true, "write_only": true},
              "old":      {"type": "bool", "optional": true, "deprecated": true},
              "settings": {"nested_type": {"nesting_mode": "list", "attributes": {
                              "key": {"type": "string", "required": true}}}, "optional": true}
            },
            "block_types": {
              "rule":   {"nesting_mode": "set", "min_items": 1, "block": {"attributes": {"p": {"type": "number", "required": true}}}},
              "config": {"nesting_mode": "list", "max_items": 1, "block": {"deprecated": true}},
              "one":    {"nesting_mode": "single", "block": {}}
            }
          }
        }
      },
      "data_source_schemas": {
        "aws_thing": {"version": 0, "block": {"attributes": {"id": {"type": "string", "computed": true}}}}
      }
    }
  }
}`

func TestConvertSchemaKeepsEverySchemaFeature(t *testing.T) {
	doc, err := Parse([]byte(sampleDoc))
	if err != nil {
		t.Fatal(err)
	}
	set := &Set{Resources: map[string]*tfprotov6.Schema{}, DataSources: map[string]*tfprotov6.Schema{}, EphemeralResources: map[string]*tfprotov6.Schema{}}
	if err := set.Merge(doc); err != nil {
		t.Fatal(err)
	}
	sch := set.Resources["aws_thing"]
	if sch == nil || sch.Version != 2 {
		t.Fatalf("aws_thing schema = %+v, want version 2", sch)
	}
	attrs := map[string]*tfprotov6.SchemaAttribute{}
	for _, a := range sch.Block.Attributes {
		attrs[a.Name] = a
	}
	if a := attrs["name"]; !a.Required || a.Optional || a.Computed || !a.Type.Is(tftypes.String) {
		t.Errorf("name = %+v, want required string", a)
	}
	if a := attrs["arn"]; !a.Computed || a.Optional {
		t.Errorf("arn = %+v, want computed only", a)
	}
	if a := attrs["secret"]; !a.Sensitive || !a.WriteOnly {
		t.Errorf("secret = %+v, want sensitive write-only", a)
	}
	if a := attrs["old"]; !a.Deprecated {
		t.Errorf("old = %+v, want deprecated", a)
	}
	if a := attrs["settings"]; a.NestedType == nil || a.NestedType.Nesting != tfprotov6.SchemaObjectNestingModeList ||
		len(a.NestedType.Attributes) != 1 || a.NestedType.Attributes[0].Name != "key" {
		t.Errorf("settings = %+v, want list nested attribute with key", a)
	}
	blocks := map[string]*tfprotov6.SchemaNestedBlock{}
	for _, b := range sch.Block.BlockTypes {
		blocks[b.TypeName] = b
	}
	if b := blocks["rule"]; b.Nesting != tfprotov6.SchemaNestedBlockNestingModeSet || b.MinItems != 1 || b.MaxItems != 0 {
		t.Errorf("rule = %+v, want set min 1", b)
	}
	if b := blocks["config"]; b.Nesting != tfprotov6.SchemaNestedBlockNestingModeList || b.MaxItems != 1 || !b.Block.Deprecated {
		t.Errorf("config = %+v, want deprecated list max 1", b)
	}
	if b := blocks["one"]; b.Nesting != tfprotov6.SchemaNestedBlockNestingModeSingle {
		t.Errorf("one nesting = %v, want single", b.Nesting)
	}
	// The value type is what tofu decodes configuration into.
	want := tftypes.Object{AttributeTypes: map[string]tftypes.Type{
		"name": tftypes.String, "arn": tftypes.String, "secret": tftypes.String, "old": tftypes.Bool,
		"settings": tftypes.List{ElementType: tftypes.Object{AttributeTypes: map[string]tftypes.Type{"key": tftypes.String}}},
		"rule":     tftypes.Set{ElementType: tftypes.Object{AttributeTypes: map[string]tftypes.Type{"p": tftypes.Number}}},
		"config":   tftypes.List{ElementType: tftypes.Object{AttributeTypes: map[string]tftypes.Type{}}},
		"one":      tftypes.Object{AttributeTypes: map[string]tftypes.Type{}},
	}}
	if got := sch.ValueType(); !got.Equal(want) {
		t.Errorf("value type = %s\nwant %s", got, want)
	}
	if set.DataSources["aws_thing"] == nil {
		t.Error("data source aws_thing missing")
	}
}

func TestConvertRejectsMalformedSchemas(t *testing.T) {
	bad := []string{
		`{"block":{"attributes":{"x":{"type":"string"}}}}`,                    // no required/optional/computed
		`{"block":{"attributes":{"x":{"required":true}}}}`,                    // no type
		`{"block":{"block_types":{"b":{"nesting_mode":"weird","block":{}}}}}`, // bad nesting
		`{"block":{"attributes":{"x":{"type":["list"],"optional":true}}}}`,    // bad type
	}
	for _, b := range bad {
		var s Schema
		if err := json.Unmarshal([]byte(b), &s); err != nil {
			t.Fatal(err)
		}
		if _, err := ConvertSchema(&s); err == nil {
			t.Errorf("ConvertSchema(%s) succeeded, want error", b)
		}
	}
}

func TestLoadFilesGzipAndOverlayOrder(t *testing.T) {
	dir := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write([]byte(sampleDoc)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(dir, "main.json.gz")
	if err := os.WriteFile(main, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	overlay := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(overlay, []byte(`{"_comment":"test","format_version":"1.0","provider_schemas":{"registry.terraform.io/hashicorp/aws":{
		"resource_schemas":{
		  "aws_thing":{"version":3,"block":{"attributes":{"only":{"type":"string","optional":true}}}},
		  "aws_new":{"version":0,"block":{"attributes":{"id":{"type":"string","computed":true}}}}}}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := LoadFiles([]string{main, overlay})
	if err != nil {
		t.Fatal(err)
	}
	if got := set.Resources["aws_thing"]; got.Version != 3 || len(got.Block.Attributes) != 1 || got.Block.Attributes[0].Name != "only" {
		t.Errorf("overlay did not replace aws_thing: %+v", got.Block)
	}
	if set.Resources["aws_new"] == nil {
		t.Error("overlay did not add aws_new")
	}
	if set.DataSources["aws_thing"] == nil {
		t.Error("data source from the first file lost")
	}
	if _, err := LoadFiles([]string{filepath.Join(dir, "missing.json")}); err == nil {
		t.Error("LoadFiles(missing) succeeded")
	}
	if _, err := LoadFiles(nil); err == nil {
		t.Error("LoadFiles(nil) succeeded")
	}
}

func TestResolvePaths(t *testing.T) {
	root := t.TempDir()
	proj := filepath.Join(root, "main")
	overlay := filepath.Join(proj, "terraform", "schema-overlay", "aws-overlay.json")
	if err := os.MkdirAll(filepath.Dir(overlay), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(overlay, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	exeDir := filepath.Join(proj, ".tools", "tf", "plugins", "x")

	got, err := ResolvePaths("/a.json"+string(os.PathListSeparator)+"/b.json", "", exeDir)
	if err != nil || strings.Join(got, ",") != "/a.json,/b.json" {
		t.Errorf("env list: got %v, %v", got, err)
	}
	got, err = ResolvePaths("", overlay, exeDir)
	if err != nil || len(got) != 1 || got[0] != overlay {
		t.Errorf("baked list: got %v, %v", got, err)
	}
	got, err = ResolvePaths("", "/does/not/exist.json", exeDir)
	want := []string{filepath.Join(root, "shared", "terraform", "aws-provider-6.47.0-schema.json.gz"), overlay}
	if err != nil || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("project discovery: got %v, %v; want %v", got, err, want)
	}
	if _, err := ResolvePaths("", "", t.TempDir()); err == nil || !strings.Contains(err.Error(), EnvSchemaFiles) {
		t.Errorf("no source: err = %v, want one naming %s", err, EnvSchemaFiles)
	}
}
