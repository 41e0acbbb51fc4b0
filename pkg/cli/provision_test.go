package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/config"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/test/tofufixture"
)

// `switchyard provision` end to end: the CLI in-process, the real OpenTofu built by scripts/tools.sh, a
// temporary copy of test/fixtures/stack (terraform_data only, no provider) and its local backend.

// provEnv isolates tofu from the machine and the CLI from a user's server/token environment.
func provEnv(t *testing.T) {
	t.Helper()
	tofufixture.Isolate(t)
	t.Setenv(EnvServer, "")
	t.Setenv(EnvToken, "")
}

// provRun runs `switchyard provision --dir dir <args>` in-process. --config must always be passed by
// callers that apply or write output: the default (configs/switchyard.yaml) is relative to the
// package directory.
func provRun(t *testing.T, dir string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), append([]string{"provision", "--dir", dir}, args...), &out, &errb)
	return result{code, out.String(), errb.String()}
}

// provStateResources returns the number of resource instances in the local state (0 when there is
// no state).
func provStateResources(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "terraform.tfstate"))
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Resources []struct {
			Instances []json.RawMessage `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("state: %v\n%s", err, b)
	}
	n := 0
	for _, r := range st.Resources {
		n += len(r.Instances)
	}
	return n
}

// provNonTerminalStdin replaces os.Stdin (which cobra reads when no input is set) with a pipe that
// says "yes": not a terminal, so the confirmation must be refused whatever it contains.
func provNonTerminalStdin(t *testing.T) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteString("yes\n"); err != nil {
		t.Fatal(err)
	}
	w.Close()
	old := os.Stdin
	os.Stdin = r
	t.Cleanup(func() { os.Stdin = old; r.Close() })
}

func TestProvisionPlanPrintsModuleSummary(t *testing.T) {
	provEnv(t)
	bin := tofufixture.Binary(t)
	dir := tofufixture.Stack(t)

	r := provRun(t, dir, "--binary", bin, "--var", "owner=team-a", "plan")
	r.must(t, 0, "Using OpenTofu 1.10", "Plan: 16 to add, 0 to change, 0 to destroy, 0 to replace.",
		"+ module.alb.terraform_data.https_listener", "+ terraform_data.ecr_repository")
	// The table: one row per module with its counts, root first.
	var rows []string
	for _, l := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(l); len(f) == 5 && (f[0] == "module" || f[0] == "(root)" || strings.HasPrefix(f[0], "module.")) {
			rows = append(rows, strings.Join(f, " "))
		}
	}
	want := []string{"module add change destroy replace", "(root) 1 0 0 0", "module.alb 6 0 0 0", "module.ecs 3 0 0 0",
		"module.monitoring 6 0 0 0"}
	if strings.Join(rows, "|") != strings.Join(want, "|") {
		t.Errorf("module table rows = %q, want %q\nstdout:\n%s", rows, want, r.stdout)
	}
	if n := provStateResources(t, dir); n != 0 {
		t.Errorf("plan left %d resources in the state", n)
	}

	// With -o json stdout is only the summary (progress goes to stderr), so a pipeline can parse it.
	planFile := filepath.Join(t.TempDir(), "saved.tfplan")
	r = provRun(t, dir, "--binary", bin, "--var", "owner=team-a", "-o", "json", "plan", "--plan-out", planFile)
	r.must(t, 0)
	var sum struct {
		Add     int `json:"add"`
		Modules []struct {
			Module string `json:"module"`
			Add    int    `json:"add"`
		} `json:"modules"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
		t.Fatalf("-o json plan stdout is not JSON: %v\nstdout:\n%s\nstderr:\n%s", err, r.stdout, r.stderr)
	}
	if sum.Add != 16 || len(sum.Modules) != 4 || sum.Modules[1].Module != "module.alb" || sum.Modules[1].Add != 6 {
		t.Errorf("JSON summary = %+v", sum)
	}
	if !strings.Contains(r.stderr, "Using OpenTofu") {
		t.Errorf("progress not on stderr with -o json:\n%s", r.stderr)
	}
	if _, err := os.Stat(planFile); err != nil {
		t.Errorf("--plan-out: %v", err)
	}
}

func TestProvisionApplyWithoutTerminalIsRefused(t *testing.T) {
	provEnv(t)
	bin := tofufixture.Binary(t)
	dir := tofufixture.Stack(t)
	provNonTerminalStdin(t)
	cfg := filepath.Join(t.TempDir(), "switchyard.yaml")

	r := provRun(t, dir, "--binary", bin, "--var", "owner=team-a", "--config", cfg, "apply")
	r.must(t, 1, "refusing to change infrastructure without confirmation", "stdin is not a terminal", "--auto-approve")
	if strings.Contains(r.stderr, "Do you want to") {
		t.Errorf("asked for confirmation on a non-terminal stdin:\n%s", r.stderr)
	}
	// The plan was shown, nothing was applied, no configuration was written.
	if !strings.Contains(r.stdout, "Plan: 16 to add") {
		t.Errorf("plan not shown before refusing:\n%s", r.stdout)
	}
	if n := provStateResources(t, dir); n != 0 {
		t.Errorf("refused apply left %d resources in the state", n)
	}
	if _, err := os.Stat(cfg); !os.IsNotExist(err) {
		t.Errorf("refused apply wrote the configuration (stat: %v)", err)
	}
}

// One stack through apply, output (dry run and for real) and drift: applying is the slow part, so the
// steps share it.
func TestProvisionApplyOutputDrift(t *testing.T) {
	provEnv(t)
	bin := tofufixture.Binary(t)
	dir := tofufixture.Stack(t)
	tmp := t.TempDir()
	cfg := filepath.Join(tmp, "switchyard.yaml")
	if err := os.WriteFile(cfg, []byte(tofufixture.OperatorConfig), 0o640); err != nil {
		t.Fatal(err)
	}
	common := []string{"--binary", bin, "--var", "owner=team-a"}

	// apply --auto-approve applies and merges the controller output into the operator's configuration.
	r := provRun(t, dir, append(common, "--config", cfg, "apply", "--auto-approve")...)
	r.must(t, 0, "Plan: 16 to add", "Apply complete! Resources: 16 added", "Wrote "+cfg+": services added [], updated [web]")
	if n := provStateResources(t, dir); n != 16 {
		t.Errorf("state has %d resources after apply, want 16", n)
	}
	written, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse(written)
	if err != nil {
		t.Fatalf("written configuration does not load: %v\n%s", err, written)
	}
	web := c.Services["web"]
	if web == nil || web.Cluster != "ecs-dev-fx01" || web.BlueService != "svc-blue-dev-fx01" || web.GreenService != "svc-green-dev-fx01" ||
		!strings.Contains(web.ListenerARN, "alb-dev-fx01") || len(web.RuleARNs) != 1 || len(web.Alarms) != 2 ||
		web.DeregDelay == nil || web.DeregDelay.D() != 30*time.Second {
		t.Fatalf("infrastructure not written: %+v\n%s", web, written)
	}
	if c.Listen != "127.0.0.1:9090" || len(c.Auth.Tokens) != 2 || c.Auth.Tokens[0].ValueEnv != "SWITCHYARD_CI_TOKEN" ||
		c.Auth.Tokens[1].Value != "s3cret" || !c.Auth.Tokens[1].ReadOnly {
		t.Errorf("operator settings lost: listen %q tokens %+v", c.Listen, c.Auth.Tokens)
	}
	if web.Strategy == nil || web.Strategy.Type != deploy.StrategyLinear || web.Strategy.LinearSteps != 4 ||
		web.ReadyTimeout.D() != 7*time.Minute {
		t.Errorf("operator's strategy/timeout lost: %+v", web)
	}
	for _, s := range []string{"# Operator's configuration: keep this comment.", "# The operator's rollout policy for web."} {
		if !strings.Contains(string(written), s) {
			t.Errorf("comment %q lost:\n%s", s, written)
		}
	}
	if fi, err := os.Stat(cfg); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("mode after write: %v %v, want the original 0640", fi.Mode().Perm(), err)
	}

	t.Run("apply again changes nothing", func(t *testing.T) {
		r := provRun(t, dir, append(common, "--config", cfg, "apply", "--auto-approve")...)
		r.must(t, 0, "No changes", "Nothing to do.", cfg+" is up to date with the stack.")
	})

	t.Run("output dry run prints the merge and writes nothing", func(t *testing.T) {
		other := filepath.Join(tmp, "other.yaml")
		before := strings.Replace(tofufixture.OperatorConfig, "listen: 127.0.0.1:9090", "listen: 127.0.0.1:9191", 1)
		if err := os.WriteFile(other, []byte(before), 0o600); err != nil {
			t.Fatal(err)
		}
		r := provRun(t, dir, append(common, "--config", other, "output", "--dry-run")...)
		r.must(t, 0)
		// stdout is the merged YAML alone, so `output --dry-run > file` gives a usable file; progress
		// goes to stderr.
		m, err := config.Parse([]byte(r.stdout))
		if err != nil {
			t.Fatalf("dry run did not print a valid configuration on stdout: %v\nstdout:\n%s", err, r.stdout)
		}
		if !strings.HasPrefix(r.stdout, "# Operator's configuration: keep this comment.") {
			t.Errorf("dry-run stdout does not start with the configuration:\n%s", r.stdout)
		}
		if !strings.Contains(r.stderr, "Using OpenTofu") {
			t.Errorf("dry-run progress not on stderr:\n%s", r.stderr)
		}
		if m.Listen != "127.0.0.1:9191" || len(m.Auth.Tokens) != 2 || m.Services["web"] == nil ||
			m.Services["web"].Cluster != "ecs-dev-fx01" || m.Services["web"].Strategy == nil {
			t.Errorf("dry-run merge = listen %q tokens %+v web %+v", m.Listen, m.Auth.Tokens, m.Services["web"])
		}
		if after, _ := os.ReadFile(other); string(after) != before {
			t.Errorf("dry run changed %s:\n%s", other, after)
		}
		// Without a configuration file it prints a fresh one and creates nothing.
		missing := filepath.Join(tmp, "absent", "switchyard.yaml")
		r = provRun(t, dir, append(common, "--config", missing, "output", "--dry-run")...)
		r.must(t, 0, "cluster: ecs-dev-fx01", "region: us-east-1")
		if _, err := os.Stat(filepath.Dir(missing)); !os.IsNotExist(err) {
			t.Errorf("dry run created %s (stat: %v)", filepath.Dir(missing), err)
		}
	})

	t.Run("output writes a new configuration", func(t *testing.T) {
		fresh := filepath.Join(tmp, "fresh", "switchyard.yaml")
		r := provRun(t, dir, append(common, "--config", fresh, "output")...)
		r.must(t, 0, "Wrote "+fresh+": services added [web], updated []")
		fi, err := os.Stat(fresh)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("new configuration mode %v, want 0600 (it may hold tokens)", fi.Mode().Perm())
		}
	})

	t.Run("no drift exits 0", func(t *testing.T) {
		r := provRun(t, dir, append(common, "drift")...)
		r.must(t, 0, "No drift")
	})

	// terraform_data's read returns the prior state unchanged, so editing the state never shows up in a
	// refresh-only plan (checked by hand: resource_drift stays null). To see exit code 3 the binary is a
	// wrapper that runs the real tofu for everything (init, the refresh-only plan) and answers only the
	// `show -json` of a refresh-only plan with a plan carrying resource_drift.
	t.Run("drift exits 3", func(t *testing.T) {
		wrapper := provDriftWrapper(t, bin, provDriftJSON(`{
			"address": "module.alb.terraform_data.alb", "module_address": "module.alb", "mode": "managed",
			"type": "terraform_data", "name": "alb", "provider_name": "terraform.io/builtin/terraform",
			"change": {"actions": ["update"],
				"before": {"id": "i-1", "input": "arn:old", "output": "arn:old", "triggers_replace": null},
				"after":  {"id": "i-1", "input": "arn:new", "output": "arn:new", "triggers_replace": null}}}`))
		r := provRun(t, dir, "--binary", wrapper, "--var", "owner=team-a", "drift")
		r.must(t, ExitDrift, "Drift: 1 resource(s) changed outside Terraform", "module.alb.terraform_data.alb (update): input, output")

		// -o json: the report alone on stdout, same exit code.
		r = provRun(t, dir, "--binary", wrapper, "--var", "owner=team-a", "-o", "json", "drift")
		r.must(t, ExitDrift)
		var rep struct {
			Drifted []struct {
				Address    string   `json:"address"`
				Attributes []string `json:"attributes"`
			} `json:"drifted"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || len(rep.Drifted) != 1 ||
			rep.Drifted[0].Address != "module.alb.terraform_data.alb" {
			t.Errorf("JSON drift report = %+v (%v)\nstdout:\n%s", rep, err, r.stdout)
		}
	})

	t.Run("controller-owned changes only exit 0", func(t *testing.T) {
		wrapper := provDriftWrapper(t, bin, provDriftJSON(`{
			"address": "module.alb.aws_lb_listener.https", "module_address": "module.alb", "mode": "managed",
			"type": "aws_lb_listener", "name": "https", "provider_name": "registry.opentofu.org/hashicorp/aws",
			"change": {"actions": ["update"],
				"before": {"arn": "l-1", "default_action": [{"type": "forward", "forward": [{"target_group": [{"arn": "b", "weight": 100}, {"arn": "g", "weight": 0}]}]}]},
				"after":  {"arn": "l-1", "default_action": [{"type": "forward", "forward": [{"target_group": [{"arn": "b", "weight": 90}, {"arn": "g", "weight": 10}]}]}]}}}`))
		r := provRun(t, dir, "--binary", wrapper, "--var", "owner=team-a", "drift")
		r.must(t, 0, "No drift", "Controller-owned changes (expected, ignored): 1 resource(s)", "module.alb.aws_lb_listener.https")
	})
}

// provDriftJSON is a refresh-only plan (as `show -json` prints it) with one resource_drift entry.
func provDriftJSON(entry string) string {
	return `{"format_version": "1.2", "terraform_version": "1.10.10", "planned_values": {"root_module": {}},
		"resource_drift": [` + entry + `]}`
}

// provDriftWrapper writes an executable named tofu that runs the real binary, except that the
// `show` following a refresh-only plan prints planJSON.
func provDriftWrapper(t *testing.T, real, planJSON string) string {
	t.Helper()
	d := t.TempDir()
	plan := filepath.Join(d, "drift.json")
	mark := filepath.Join(d, "refresh-only")
	if err := os.WriteFile(plan, []byte(planJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	script := `#!/bin/sh
case " $* " in *" -refresh-only "*) : > '` + mark + `' ;; esac
if [ "$1" = show ] && [ -f '` + mark + `' ]; then
	rm -f '` + mark + `'
	cat '` + plan + `'
	exit 0
fi
exec '` + real + `' "$@"
`
	w := filepath.Join(d, "tofu")
	if err := os.WriteFile(w, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestProvisionMissingVariable(t *testing.T) {
	provEnv(t)
	bin := tofufixture.Binary(t)
	dir := tofufixture.Stack(t)
	r := provRun(t, dir, "--binary", bin, "plan")
	if r.code == 0 {
		t.Fatalf("plan without owner succeeded\nstdout:\n%s", r.stdout)
	}
	r.must(t, 1, "missing required variable(s) owner", "--var name=value")
}

func TestProvisionBinaryMissing(t *testing.T) {
	provEnv(t)
	dir := tofufixture.Stack(t)
	missing := filepath.Join(t.TempDir(), "no-such-tofu")
	cfg := filepath.Join(t.TempDir(), "switchyard.yaml")
	for _, sub := range [][]string{{"plan"}, {"--config", cfg, "apply", "--auto-approve"}, {"drift"}} {
		r := provRun(t, dir, append([]string{"--binary", missing, "--var", "owner=x"}, sub...)...)
		r.must(t, 1, `binary "`+missing+`" is missing or not executable`)
		if strings.Contains(r.stdout, "Using ") {
			t.Errorf("%v: claims to use a binary:\n%s", sub, r.stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".terraform")); !os.IsNotExist(err) {
		t.Errorf("something ran init (stat .terraform: %v)", err)
	}
	if _, err := os.Stat(cfg); !os.IsNotExist(err) {
		t.Errorf("configuration written without a binary (stat: %v)", err)
	}
}
