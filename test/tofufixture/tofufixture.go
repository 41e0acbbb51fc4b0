// Package tofufixture runs provisioning tests against the real OpenTofu binary (built by
// scripts/tools.sh) and a temporary copy of test/fixtures/stack, isolated from the machine.
package tofufixture

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/test/emulator"
)

func root(t *testing.T) string {
	t.Helper()
	r, err := emulator.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Binary returns the OpenTofu built by scripts/tools.sh. Without it the test skips, except in CI
// (CI=true), where a missing binary is a failure.
func Binary(t *testing.T) string {
	t.Helper()
	p := filepath.Join(root(t), ".tools", "bin", "tofu")
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("OpenTofu missing at %s (run scripts/tools.sh)", p)
		}
		t.Skipf("OpenTofu missing at %s: run scripts/tools.sh to build it", p)
	}
	return p
}

// Isolate keeps tofu/terraform away from the machine: an empty CLI configuration (terraform_data is
// built in, nothing is downloaded), no checkpoint calls, no instance-metadata lookups, static credentials.
func Isolate(t *testing.T) {
	t.Helper()
	rc := filepath.Join(t.TempDir(), "tofurc")
	if err := os.WriteFile(rc, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TF_CLI_CONFIG_FILE", rc)
	t.Setenv("CHECKPOINT_DISABLE", "1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
}

// Stack copies the *.tf files of test/fixtures/stack into a temporary directory (without any local
// state or .terraform left by a manual run) and returns it.
func Stack(t *testing.T) string {
	t.Helper()
	src := filepath.Join(root(t), "test", "fixtures", "stack")
	dst := filepath.Join(t.TempDir(), "stack")
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			if d.Name() == ".terraform" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !strings.HasSuffix(d.Name(), ".tf") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// OperatorConfig is a daemon configuration an operator wrote by hand: tokens, a strategy, a timeout and
// comments (kept by provision), plus stale infrastructure values (replaced from the stack's output).
const OperatorConfig = `# Operator's configuration: keep this comment.
listen: 127.0.0.1:9090
auth:
  tokens:
    - name: ci
      value_env: SWITCHYARD_CI_TOKEN
    - name: viewer
      value: s3cret
      read_only: true
services:
  web:
    cluster: old-cluster # stale, replaced by the stack
    blue_service: old-blue
    green_service: old-green
    container: app
    image_repository: 123456789012.dkr.ecr.us-east-1.amazonaws.com/old
    listener_arn: arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/old/1/2
    blue_target_group_arn: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/old-blue/1
    green_target_group_arn: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/old-green/2
    # The operator's rollout policy for web.
    strategy:
      type: linear
      linear_steps: 4
      bake: 20s
    ready_timeout: 7m
`
