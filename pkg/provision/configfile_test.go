package provision

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/pkg/config"
)

func decodedValid(t *testing.T) *ControllerOutput {
	t.Helper()
	out, err := DecodeController(encode(t, validOutput()))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMergeIntoEmptyConfig(t *testing.T) {
	b, res, err := MergeConfig(nil, decodedValid(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	web := cfg.Services["web"]
	if len(res.Added) != 1 || web.Cluster != "ecs-prod-td01" || web.DeregDelay.D().Seconds() != 45 || cfg.AWS.Region != "us-east-1" ||
		web.Alarms[0] != "alarm-5xx-prod-td01" || web.GreenAlarms[0] != "alarm-green-5xx-prod-td01" {
		t.Fatalf("merged %+v from\n%s", web, b)
	}
}

func TestMergeKeepsOperatorSettings(t *testing.T) {
	existing := `# top comment
aws:
  region: us-east-1 # pinned
services:
  web:
    strategy: {type: canary, canary_percent: 5}
    rule_arns: [] # flow style kept
    unhealthy_max: 2
  api: # not in the stack: untouched
    cluster: c
    blue_service: b
    green_service: g
    container: app
    image_repository: 123456789012.dkr.ecr.us-east-1.amazonaws.com/api
    listener_arn: arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/a/1/2
    blue_target_group_arn: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/b/1
    green_target_group_arn: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/g/2
`
	b, res, err := MergeConfig([]byte(existing), decodedValid(t))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, keep := range []string{"# top comment", "# pinned", "# not in the stack: untouched", "# flow style kept", "canary_percent: 5", "unhealthy_max: 2"} {
		if !strings.Contains(s, keep) {
			t.Errorf("lost %q:\n%s", keep, s)
		}
	}
	if !strings.Contains(s, "rule_arns: ['arn:aws:elasticloadbalancing:") {
		t.Errorf("flow style of rule_arns not kept:\n%s", s)
	}
	cfg, err := config.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Services["web"].Strategy.CanaryPercent != 5 || cfg.Services["api"].Cluster != "c" || cfg.Services["web"].Cluster != "ecs-prod-td01" {
		t.Errorf("merged config %+v", cfg.Services)
	}
	if !strings.HasSuffix(cfg.Services["web"].TestListenerARN, "listener/app/alb-prod-td01/1/4") {
		t.Errorf("test listener not written: %q", cfg.Services["web"].TestListenerARN)
	}
	if len(res.Updated) != 1 || len(res.Untouched) != 1 || res.Untouched[0] != "api" {
		t.Errorf("result %+v", res)
	}
}

func TestMergeRegionMismatchRefused(t *testing.T) {
	_, _, err := MergeConfig([]byte("aws:\n  region: eu-west-1\n"), decodedValid(t))
	var pe *Error
	if !errors.As(err, &pe) || pe.Kind != KindInvalidConfig || !strings.Contains(err.Error(), "eu-west-1") || !strings.Contains(err.Error(), "us-east-1") {
		t.Fatalf("want invalid_config naming both regions, got %v", err)
	}
}

func TestWriteConfigRefusesInvalidResult(t *testing.T) {
	path := filepath.Join(t.TempDir(), "switchyard.yaml")
	orig := "listen: not-a-host-port\n"
	if err := os.WriteFile(path, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := WriteConfig(path, decodedValid(t))
	if KindOf(err) != KindInvalidConfig || !strings.Contains(err.Error(), "listen") {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != orig {
		t.Fatalf("file changed to %q", b)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
}

func TestWriteConfigCreatesPrivateFileThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real", "switchyard.yaml")
	if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteConfig(real, decodedValid(t)); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(real); fi.Mode().Perm() != 0o600 {
		t.Errorf("new config mode %v, want 0600", fi.Mode().Perm())
	}
	link := filepath.Join(dir, "link.yaml")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	m := validOutput()
	webOf(m)["cluster"] = "ecs-new"
	out, err := DecodeController(encode(t, m))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteConfig(link, out); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Error("symlink replaced by a file")
	}
	cfg, err := config.Load(real)
	if err != nil || cfg.Services["web"].Cluster != "ecs-new" {
		t.Fatalf("target not updated: %v", err)
	}
}
