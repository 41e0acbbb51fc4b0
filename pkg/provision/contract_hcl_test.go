package provision

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/switchyard/switchyard/pkg/config"
)

// controllerOutputKeys parses an outputs.tf and returns the keys of the controller output's value
// object and of its (single) service object. Keys are read from the syntax tree, so renaming one in
// HCL breaks this test rather than a deployment.
func controllerOutputKeys(t *testing.T, path string) (top, service []string) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the stack's outputs: %v", err)
	}
	f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("parse %s: %s", path, diags.Error())
	}
	body := f.Body.(*hclsyntax.Body)
	for _, b := range body.Blocks {
		if b.Type != "output" || len(b.Labels) != 1 || b.Labels[0] != ControllerOutputName {
			continue
		}
		attr, ok := b.Body.Attributes["value"]
		if !ok {
			t.Fatalf("%s: output %q has no value", path, ControllerOutputName)
		}
		obj, ok := attr.Expr.(*hclsyntax.ObjectConsExpr)
		if !ok {
			t.Fatalf("%s: controller value is %T, want an object literal", path, attr.Expr)
		}
		var services *hclsyntax.ObjectConsExpr
		for _, item := range obj.Items {
			k := objectKey(t, item.KeyExpr)
			top = append(top, k)
			if k == "services" {
				s, ok := item.ValueExpr.(*hclsyntax.ObjectConsExpr)
				if !ok || len(s.Items) != 1 {
					t.Fatalf("%s: services must be an object literal with one service", path)
				}
				services, ok = s.Items[0].ValueExpr.(*hclsyntax.ObjectConsExpr)
				if !ok {
					t.Fatalf("%s: the service must be an object literal", path)
				}
			}
		}
		if services == nil {
			t.Fatalf("%s: controller output has no services", path)
		}
		for _, item := range services.Items {
			service = append(service, objectKey(t, item.KeyExpr))
		}
		sort.Strings(top)
		sort.Strings(service)
		return top, service
	}
	t.Fatalf("%s: no output %q", path, ControllerOutputName)
	return nil, nil
}

func objectKey(t *testing.T, e hclsyntax.Expression) string {
	t.Helper()
	if k, ok := e.(*hclsyntax.ObjectConsKeyExpr); ok {
		if name := hcl.ExprAsKeyword(k.Wrapped); name != "" {
			return name
		}
		e = k.Wrapped
	}
	if tpl, ok := e.(*hclsyntax.TemplateExpr); ok && tpl.IsStringLiteral() {
		v, _ := tpl.Value(nil)
		return v.AsString()
	}
	t.Fatalf("object key %T is not a literal name", e)
	return ""
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestRealStackContract checks terraform/outputs.tf (the real stack) against the mapping into the
// daemon configuration: every key the stack emits is consumed, and every key consumed is emitted.
func TestRealStackContract(t *testing.T) {
	checkContract(t, filepath.Join(repoRoot(t), "terraform", "outputs.tf"))
}

// TestFixtureStackContract keeps the fixture shaped exactly like the real stack.
func TestFixtureStackContract(t *testing.T) {
	checkContract(t, filepath.Join(repoRoot(t), "test", "fixtures", "stack", "outputs.tf"))
}

func checkContract(t *testing.T, path string) {
	top, service := controllerOutputKeys(t, path)
	wantTop := append([]string(nil), TopLevelKeys...)
	sort.Strings(wantTop)
	if strings.Join(top, ",") != strings.Join(wantTop, ",") {
		t.Errorf("%s: controller keys %v, switchyard reads %v", path, top, wantTop)
	}
	if want := sortedKeys(ServiceKeys); strings.Join(service, ",") != strings.Join(want, ",") {
		t.Errorf("%s: service keys %v, switchyard maps %v", path, service, want)
	}
}

// TestServiceKeysTargetConfigFields makes sure every mapped target is a key of config.Service, so a
// renamed YAML field breaks here too.
func TestServiceKeysTargetConfigFields(t *testing.T) {
	fields := configServiceYAMLKeys(t)
	for out, target := range ServiceKeys {
		if target == "" {
			continue
		}
		if !fields[target] {
			t.Errorf("output key %s maps to %q, which config.Service does not have", out, target)
		}
	}
	for _, k := range infraOrder {
		if !fields[k] {
			t.Errorf("infraOrder key %q is not a config.Service field", k)
		}
	}
}

func configServiceYAMLKeys(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	rt := reflect.TypeOf(config.Service{})
	for i := 0; i < rt.NumField(); i++ {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			out[name] = true
		}
	}
	return out
}

// The parser must see a renamed key (guards against a check that cannot fail).
func TestContractCheckSeesRename(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(repoRoot(t), "test", "fixtures", "stack", "outputs.tf"))
	if err != nil {
		t.Fatal(err)
	}
	renamed := strings.Replace(string(src), "blue_target_group_arn", "blue_tg_arn", 1)
	p := filepath.Join(t.TempDir(), "outputs.tf")
	if err := os.WriteFile(p, []byte(renamed), 0o644); err != nil {
		t.Fatal(err)
	}
	_, service := controllerOutputKeys(t, p)
	if strings.Join(service, ",") == strings.Join(sortedKeys(ServiceKeys), ",") || !strings.Contains(strings.Join(service, ","), "blue_tg_arn") {
		t.Fatalf("renamed key not detected: %v", service)
	}
}
