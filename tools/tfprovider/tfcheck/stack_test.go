package tfcheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Expected values from terraform/examples/demo.tfvars.
const (
	demoEnvironment = "demo"
	demoSuffix      = "td01"
	demoProject     = "switchyard"
	demoOwner       = "platform-team"
)

// nameAllowList holds the names AWS fixes, which therefore cannot end with
// -<environment>-<environment_suffix>, keyed by resource address and
// attribute. Each entry says why.
var nameAllowList = map[string]string{
	// Aurora publishes its PostgreSQL log to /aws/rds/cluster/<cluster>/postgresql; the stack
	// creates that group beforehand to set retention and KMS. Its Name tag follows the pattern.
	"module.database.aws_cloudwatch_log_group.postgresql name": "AWS-fixed RDS log group name",
	// Container Insights writes to /aws/ecs/containerinsights/<cluster>/performance; the stack
	// creates it first for KMS and retention. Its Name tag follows the pattern.
	"module.ecs.aws_cloudwatch_log_group.container_insights name": "AWS-fixed Container Insights log group name",
}

// prefixNamedTypes may use name_prefix (AWS appends a unique suffix) instead of a fixed name, which
// must then end with -<environment>-<environment_suffix>-. Security groups need it: replacing a
// group with create_before_destroy creates the new one while the old one still exists.
var prefixNamedTypes = map[string]string{
	"aws_security_group": "create_before_destroy replacement needs a generated name",
}

// nameAttributes are the attributes that name a resource in AWS, per type
// ("*" applies to every type that has them). The type-specific ones name the
// resource on that type only: bucket on a bucket policy or cluster_identifier on
// an instance refer to another resource, and family is the engine family on a
// parameter group.
var nameAttributes = map[string][]string{
	"*":                        {"name", "name_prefix", "alarm_name", "policy_name"},
	"aws_s3_bucket":            {"bucket", "bucket_prefix"},
	"aws_rds_cluster":          {"cluster_identifier", "cluster_identifier_prefix"},
	"aws_rds_cluster_instance": {"identifier", "identifier_prefix"},
	"aws_db_instance":          {"identifier", "identifier_prefix"},
	"aws_ecs_task_definition":  {"family"},
}

// TestDemoStackPlan plans the whole root stack with examples/demo.tfvars
// through the offline provider (a temporary copy with a local backend, so
// nothing reaches S3 or AWS) and checks every planned resource: taggable
// resources carry Environment/Project/Owner in tags_all (default_tags plus
// explicit tags) and in their own tags, names end with
// -<environment>-<environment_suffix> (AWS-fixed names are allow-listed), and
// every security group rule is TCP with explicit ports. Gated like
// TestTerraformChecks: SWITCHYARD_TF_CHECK=1 or CI=true.
func TestDemoStackPlan(t *testing.T) {
	if os.Getenv("SWITCHYARD_TF_CHECK") != "1" && !InCI() {
		t.Skip("set SWITCHYARD_TF_CHECK=1 (CI=true implies it) to plan the demo stack through the offline provider")
	}
	env := requireTofu(t)
	dir := copyStack(t, filepath.Join(env.Root, "terraform"))
	plan, schemas := planDemoStack(t, env, dir)

	managed := plan.managedChanges()
	// A floor against a vacuous pass: the demo stack plans ~160 resources.
	if len(managed) < 100 {
		t.Fatalf("planned %d managed resources, want the whole stack (>= 100)", len(managed))
	}
	for _, rc := range managed {
		if rc.Change.Actions[0] != "create" || len(rc.Change.Actions) != 1 {
			t.Errorf("%s: actions %v, want [create] on an empty state", rc.Address, rc.Change.Actions)
		}
	}
	wantVars := map[string]string{"environment": demoEnvironment, "environment_suffix": demoSuffix, "project": demoProject, "owner": demoOwner}
	for k, want := range wantVars {
		if got, _ := plan.Variables[k].Value.(string); got != want {
			t.Fatalf("variable %s = %q, want %q (examples/demo.tfvars changed? update this test)", k, got, want)
		}
	}

	t.Run("provider_default_tags", func(t *testing.T) {
		checkProviderDefaultTags(t, plan)
	})
	t.Run("tags", func(t *testing.T) {
		checkTags(t, managed, schemas)
	})
	t.Run("names", func(t *testing.T) {
		checkNames(t, managed, schemas)
	})
	t.Run("security_group_rules", func(t *testing.T) {
		checkSecurityGroupRules(t, managed)
	})
}

// copyStack copies terraform/ without local state, plugin caches, lock files or
// override files, and adds a local-backend override so init needs no S3.
func copyStack(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "terraform")
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if name == ".terraform" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if name == ".terraform.lock.hcl" || strings.Contains(name, ".tfstate") || strings.HasSuffix(name, ".tfplan") ||
			strings.HasSuffix(name, "_override.tf") || name == "backend.hcl" {
			return nil
		}
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), body, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
	// An override file replaces the partial S3 backend of backend.tf for this copy only.
	write(t, filepath.Join(dst, "zz_local_backend_override.tf"),
		fmt.Sprintf("terraform {\n  backend \"local\" {\n    path = %q\n  }\n}\n", filepath.Join(dst, "terraform.tfstate")))
	return dst
}

func planDemoStack(t *testing.T, env *Env, dir string) (*planJSON, map[string]resourceSchema) {
	t.Helper()
	if out, err := env.RunTofu(dir, "init", "-input=false", "-no-color", "-plugin-dir="+env.PluginDir); err != nil {
		t.Fatalf("tofu init: %v\n%s", err, out)
	}
	planFile := filepath.Join(dir, "demo.tfplan")
	if out, err := env.RunTofu(dir, "plan", "-input=false", "-no-color", "-lock=false",
		"-var-file=examples/demo.tfvars", "-out="+planFile); err != nil {
		t.Fatalf("tofu plan -var-file=examples/demo.tfvars: %v\n%s", err, out)
	}
	var plan planJSON
	decodeTofuJSON(t, env, dir, &plan, "show", "-json", planFile)
	var ps providerSchemas
	decodeTofuJSON(t, env, dir, &ps, "providers", "schema", "-json")
	for addr, p := range ps.ProviderSchemas {
		if strings.HasSuffix(addr, "hashicorp/aws") {
			return &plan, p.ResourceSchemas
		}
	}
	t.Fatalf("no hashicorp/aws schema in `tofu providers schema -json` (have %d providers)", len(ps.ProviderSchemas))
	return nil, nil
}

// decodeTofuJSON runs a tofu command whose stdout is JSON (stderr kept apart
// so warnings cannot corrupt it) and decodes it into v.
func decodeTofuJSON(t *testing.T, env *Env, dir string, v any, args ...string) {
	t.Helper()
	cmd := exec.Command(env.Tofu, args...)
	cmd.Dir = dir
	cmd.Env = env.Environ()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tofu %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), v); err != nil {
		t.Fatalf("tofu %s: output is not the expected JSON: %v", strings.Join(args, " "), err)
	}
}

type planJSON struct {
	Variables map[string]struct {
		Value any `json:"value"`
	} `json:"variables"`
	ResourceChanges []resourceChange `json:"resource_changes"`
	Configuration   struct {
		ProviderConfig map[string]struct {
			Name        string         `json:"name"`
			Expressions map[string]any `json:"expressions"`
		} `json:"provider_config"`
	} `json:"configuration"`
}

type resourceChange struct {
	Address string `json:"address"`
	Mode    string `json:"mode"`
	Type    string `json:"type"`
	Change  struct {
		Actions      []string       `json:"actions"`
		After        map[string]any `json:"after"`
		AfterUnknown map[string]any `json:"after_unknown"`
	} `json:"change"`
}

func (p *planJSON) managedChanges() []resourceChange {
	var out []resourceChange
	for _, rc := range p.ResourceChanges {
		if rc.Mode == "managed" {
			out = append(out, rc)
		}
	}
	return out
}

type providerSchemas struct {
	ProviderSchemas map[string]struct {
		ResourceSchemas map[string]resourceSchema `json:"resource_schemas"`
	} `json:"provider_schemas"`
}

type resourceSchema struct {
	Block struct {
		Attributes map[string]struct {
			Optional bool `json:"optional"`
			Required bool `json:"required"`
		} `json:"attributes"`
	} `json:"block"`
}

func (s resourceSchema) has(attr string) bool {
	_, ok := s.Block.Attributes[attr]
	return ok
}

// settable reports whether configuration can set attr (not computed-only:
// AWS fixes a computed-only name, e.g. "default" for the default security group).
func (s resourceSchema) settable(attr string) bool {
	a, ok := s.Block.Attributes[attr]
	return ok && (a.Optional || a.Required)
}

// unknown reports whether attr is unknown until apply.
func (rc resourceChange) unknown(attr string) bool {
	v, ok := rc.Change.AfterUnknown[attr]
	return ok && v == true
}

func stringMap(v any) map[string]string {
	m, _ := v.(map[string]any)
	out := make(map[string]string, len(m))
	for k, x := range m {
		if s, ok := x.(string); ok {
			out[k] = s
		}
	}
	return out
}

func checkProviderDefaultTags(t *testing.T, plan *planJSON) {
	pc, ok := plan.Configuration.ProviderConfig["aws"]
	if !ok {
		t.Fatal("no aws provider configuration in the plan")
	}
	dt, _ := pc.Expressions["default_tags"].([]any)
	if len(dt) != 1 {
		t.Fatalf("aws provider default_tags = %v, want one default_tags block", pc.Expressions["default_tags"])
	}
	tags, _ := dt[0].(map[string]any)["tags"].(map[string]any)
	refs, _ := tags["references"].([]any)
	found := false
	for _, r := range refs {
		if r == "local.provider_default_tags" {
			found = true
		}
	}
	if !found {
		t.Errorf("aws provider default_tags.tags references %v, want local.provider_default_tags (asserted in tests/stack.tftest.hcl)", refs)
	}
}

func checkTags(t *testing.T, managed []resourceChange, schemas map[string]resourceSchema) {
	want := map[string]string{"Environment": demoEnvironment, "Project": demoProject, "Owner": demoOwner}
	taggable := 0
	for _, rc := range managed {
		schema, ok := schemas[rc.Type]
		if !ok {
			t.Errorf("%s: type %s not in the provider schema", rc.Address, rc.Type)
			continue
		}
		if !schema.has("tags_all") {
			continue
		}
		taggable++
		if rc.unknown("tags_all") {
			t.Errorf("%s: tags_all unknown at plan time", rc.Address)
			continue
		}
		// tags_all is what AWS receives (default_tags + tags); tags alone proves the module
		// tags explicitly, so it stays correct without the root's default_tags.
		for _, attr := range []string{"tags_all", "tags"} {
			got := stringMap(rc.Change.After[attr])
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s: %s[%q] = %q, want %q", rc.Address, attr, k, got[k], v)
				}
			}
		}
	}
	if taggable < 50 {
		t.Errorf("only %d taggable resources checked, want the whole stack (>= 50)", taggable)
	}
}

func checkNames(t *testing.T, managed []resourceChange, schemas map[string]resourceSchema) {
	suffix := "-" + demoEnvironment + "-" + demoSuffix
	checked := 0
	used := map[string]bool{}
	for _, rc := range managed {
		schema := schemas[rc.Type]
		attrs := append(append([]string{}, nameAttributes["*"]...), nameAttributes[rc.Type]...)
		for _, attr := range attrs {
			if !schema.settable(attr) {
				continue
			}
			key := rc.Address + " " + attr
			if _, ok := prefixNamedTypes[rc.Type]; ok {
				prefix, _ := rc.Change.After["name_prefix"].(string)
				if attr == "name" && rc.unknown("name") && strings.HasSuffix(prefix, suffix+"-") {
					continue // generated from name_prefix, checked below
				}
				if attr == "name_prefix" && prefix != "" {
					checked++
					if !strings.HasSuffix(prefix, suffix+"-") {
						t.Errorf("%s: name_prefix = %q, want it to end with %q", rc.Address, prefix, suffix+"-")
					}
					continue
				}
			}
			if rc.unknown(attr) {
				// Left to AWS, which would generate a name without the suffix.
				if !strings.HasSuffix(attr, "_prefix") {
					t.Errorf("%s: %s is unknown at plan time (left to AWS); set it to <type>-...%s", rc.Address, attr, suffix)
				}
				continue
			}
			name, ok := rc.Change.After[attr].(string)
			if !ok || name == "" {
				continue
			}
			if strings.HasSuffix(attr, "_prefix") {
				t.Errorf("%s: %s %q makes AWS append a random suffix; use the full name", rc.Address, attr, name)
				continue
			}
			checked++
			if _, allowed := nameAllowList[key]; allowed {
				used[key] = true
				continue
			}
			if !strings.HasSuffix(name, suffix) {
				t.Errorf("%s: %s = %q, want it to end with %q", rc.Address, attr, name, suffix)
			}
		}
		if schema.has("tags_all") {
			name := stringMap(rc.Change.After["tags"])["Name"]
			checked++
			if !strings.HasSuffix(name, suffix) {
				t.Errorf("%s: tags.Name = %q, want it to end with %q", rc.Address, name, suffix)
			}
		}
	}
	// A stale allow-list entry hides nothing today but would excuse a future resource silently.
	var stale []string
	for key := range nameAllowList {
		if !used[key] {
			stale = append(stale, key)
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Errorf("allow-list entries matching no planned name (remove them): %v", stale)
	}
	if checked < 100 {
		t.Errorf("only %d names checked, want the whole stack (>= 100)", checked)
	}
}

func checkSecurityGroupRules(t *testing.T, managed []resourceChange) {
	counts := map[string]int{}
	for _, rc := range managed {
		switch rc.Type {
		case "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule":
			counts[rc.Type]++
			a := rc.Change.After
			if p, _ := a["ip_protocol"].(string); p != "tcp" {
				t.Errorf("%s: ip_protocol = %v, want tcp (never -1/all)", rc.Address, a["ip_protocol"])
			}
			from, fromOK := a["from_port"].(float64)
			to, toOK := a["to_port"].(float64)
			if !fromOK || !toOK {
				t.Errorf("%s: from_port = %v, to_port = %v, want explicit ports", rc.Address, a["from_port"], a["to_port"])
				continue
			}
			if from < 1 || to > 65535 || from > to {
				t.Errorf("%s: port range %v-%v, want 1 <= from <= to <= 65535", rc.Address, from, to)
			}
		case "aws_security_group_rule":
			t.Errorf("%s: use aws_vpc_security_group_ingress_rule/egress_rule (one rule per resource, explicit tcp ports)", rc.Address)
		case "aws_security_group", "aws_default_security_group":
			// Rules live in their own resources; inline rules would bypass the checks above.
			for _, attr := range []string{"ingress", "egress"} {
				if rc.unknown(attr) {
					continue
				}
				if rules, _ := rc.Change.After[attr].([]any); len(rules) > 0 {
					t.Errorf("%s: inline %s rules %v, want none (separate rule resources)", rc.Address, attr, rules)
				}
			}
		}
	}
	if counts["aws_vpc_security_group_ingress_rule"] == 0 || counts["aws_vpc_security_group_egress_rule"] == 0 {
		t.Errorf("security group rules checked: %v, want ingress and egress rules", counts)
	}
}
