package tfcheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTerraformChecks runs scripts/tf-check.sh (the single implementation of
// the project's offline Terraform checks) once per check so `go test` reports
// them individually: fmt, validate (+ tofu test) per directory, tflint, tfsec.
// The whole suite takes minutes, so it runs when SWITCHYARD_TF_CHECK=1 or
// CI=true; use `go test -timeout 30m`.
func TestTerraformChecks(t *testing.T) {
	if os.Getenv("SWITCHYARD_TF_CHECK") != "1" && !InCI() {
		t.Skip("set SWITCHYARD_TF_CHECK=1 (CI=true implies it) to run scripts/tf-check.sh per check")
	}
	env := requireTofu(t)
	script := filepath.Join(env.Root, "scripts", "tf-check.sh")
	list, err := exec.Command(script, "--list").Output()
	if err != nil {
		t.Fatalf("tf-check.sh --list: %v", err)
	}
	names := strings.Fields(string(list))
	if len(names) < 4 {
		t.Fatalf("tf-check.sh --list = %q, want fmt, directories, tflint, tfsec", names)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(script, name)
			cmd.Dir = env.Root
			out, err := cmd.CombinedOutput()
			t.Logf("%s", out)
			if err != nil {
				t.Fatalf("scripts/tf-check.sh %s: %v", name, err)
			}
		})
	}
}
