package schemajson

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// EnvSchemaFiles names the environment variable holding the schema file list
// (separated like PATH). scripts/tf-env.sh exports it.
const EnvSchemaFiles = "SWITCHYARD_TF_SCHEMA_FILES"

// Project-relative locations used when neither the environment nor the build
// names the files: the plugin is launched by tofu with no arguments, from a
// filesystem mirror or a .terraform directory somewhere below the project root.
const (
	mainSchemaRel = "../shared/terraform/aws-provider-6.47.0-schema.json.gz"
	overlayRel    = "terraform/schema-overlay/aws-overlay.json"
)

// ResolvePaths decides which schema files to load, first match wins:
//  1. envValue (the EnvSchemaFiles variable), when non-empty;
//  2. baked (a list set with -ldflags -X at build time), when every file exists;
//  3. the project layout found by walking up from exeDir to a directory that
//     holds terraform/schema-overlay/aws-overlay.json.
func ResolvePaths(envValue, baked, exeDir string) ([]string, error) {
	if list := splitList(envValue); len(list) > 0 {
		return list, nil
	}
	if list := splitList(baked); len(list) > 0 && allExist(list) {
		return list, nil
	}
	if exeDir != "" {
		dir := exeDir
		for {
			if fileExists(filepath.Join(dir, overlayRel)) {
				return []string{
					filepath.Clean(filepath.Join(dir, mainSchemaRel)),
					filepath.Join(dir, overlayRel),
				}, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return nil, fmt.Errorf("no schema files: set %s (list separated by %q), or build with the default list, or run below the project root",
		EnvSchemaFiles, string(os.PathListSeparator))
}

func splitList(v string) []string {
	var out []string
	for _, p := range filepath.SplitList(v) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func allExist(paths []string) bool {
	for _, p := range paths {
		if !fileExists(p) {
			return false
		}
	}
	return true
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
