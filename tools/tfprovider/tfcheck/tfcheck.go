// Package tfcheck locates the project's offline Terraform tooling (tofu, the
// schema-serving provider mirror, scripts/tf-check.sh) for the tests in this
// package, which prove the offline provider makes `tofu validate` strict and
// run the project's Terraform checks as Go subtests.
package tfcheck

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Env describes the tooling of one project checkout.
type Env struct {
	Root      string // project root (holds scripts/ and terraform/)
	Tofu      string // .tools/bin/tofu
	PluginDir string // .tools/tf/plugins (filesystem mirror)
	CLIConfig string // .tools/tf/tofurc
}

// FindEnv walks up from dir to the project root: the directory holding
// scripts/tf-check.sh.
func FindEnv(dir string) (*Env, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", dir, err)
	}
	for {
		if st, err := os.Stat(filepath.Join(d, "scripts", "tf-check.sh")); err == nil && !st.IsDir() {
			return &Env{
				Root:      d,
				Tofu:      filepath.Join(d, ".tools", "bin", "tofu"),
				PluginDir: filepath.Join(d, ".tools", "tf", "plugins"),
				CLIConfig: filepath.Join(d, ".tools", "tf", "tofurc"),
			}, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return nil, errors.New("project root with scripts/tf-check.sh not found above " + dir)
		}
		d = parent
	}
}

// HasTofu reports whether the tofu binary is built.
func (e *Env) HasTofu() bool {
	st, err := os.Stat(e.Tofu)
	return err == nil && st.Mode()&0o111 != 0
}

// Environ is the environment for tofu runs: offline, no credentials chain,
// and without SWITCHYARD_TF_SCHEMA_FILES so the plugin must find its schema
// files the way it does when a developer runs tofu without tf-env.sh.
func (e *Env) Environ() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "SWITCHYARD_TF_SCHEMA_FILES", "TF_CLI_CONFIG_FILE", "TF_PLUGIN_DIR", "TF_DATA_DIR", "TF_LOG":
			continue
		}
		out = append(out, kv)
	}
	return append(out,
		"TF_CLI_CONFIG_FILE="+e.CLIConfig,
		"TF_PLUGIN_DIR="+e.PluginDir,
		"CHECKPOINT_DISABLE=1",
		"AWS_EC2_METADATA_DISABLED=true",
		"TF_IN_AUTOMATION=1",
		"PATH="+filepath.Join(e.Root, ".tools", "bin")+string(os.PathListSeparator)+os.Getenv("PATH"),
	)
}

// Setup runs scripts/tf-setup.sh (idempotent) so the mirror holds a plugin
// built from the current source.
func (e *Env) Setup() ([]byte, error) {
	cmd := exec.Command(filepath.Join(e.Root, "scripts", "tf-setup.sh"))
	cmd.Dir = e.Root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("scripts/tf-setup.sh: %w", err)
	}
	return out, nil
}

// Tofu runs tofu in dir and returns its combined output.
func (e *Env) RunTofu(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command(e.Tofu, args...)
	cmd.Dir = dir
	cmd.Env = e.Environ()
	return cmd.CombinedOutput()
}

// InCI reports whether missing tooling must fail tests instead of skipping.
func InCI() bool { return os.Getenv("CI") == "true" }
