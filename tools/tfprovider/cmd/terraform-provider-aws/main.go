// Command terraform-provider-aws is an offline stand-in for the hashicorp/aws
// provider: it serves the real 6.47.0 schema (plus a documented overlay) over
// plugin protocol 6 so tofu/terraform can validate and plan without network.
// tofu launches it with no arguments; see schemajson.ResolvePaths for how the
// schema files are found.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/switchyard/switchyard/tools/tfprovider/offline"
	"github.com/switchyard/switchyard/tools/tfprovider/schemajson"
)

// defaultSchemaFiles is set at build time by scripts/tf-setup.sh:
// -ldflags "-X main.defaultSchemaFiles=/abs/main.json.gz:/abs/overlay.json".
var defaultSchemaFiles string

func main() {
	load := func() (*schemajson.Set, error) {
		paths, err := schemajson.ResolvePaths(os.Getenv(schemajson.EnvSchemaFiles), defaultSchemaFiles, executableDir())
		if err != nil {
			return nil, err
		}
		return schemajson.LoadFiles(paths)
	}
	srv := offline.New(load)
	err := tf6server.Serve("registry.opentofu.org/hashicorp/aws", func() tfprotov6.ProviderServer { return srv })
	if err != nil {
		fmt.Fprintln(os.Stderr, "terraform-provider-aws (offline):", err)
		os.Exit(1)
	}
}

// executableDir resolves symlinks so a plugin linked into .terraform still
// finds the project it was built in.
func executableDir() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	return filepath.Dir(exe)
}
