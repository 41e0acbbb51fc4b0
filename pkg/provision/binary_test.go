package provision

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeBinary writes a script that answers `version -json` like tofu/terraform would.
func fakeBinary(t *testing.T, name, ver string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	script := "#!/bin/sh\necho '{\"terraform_version\":\"" + ver + "\",\"platform\":\"linux_amd64\",\"provider_selections\":{}}'\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBinaryChecks(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()

	_, err := New(ctx, Options{Dir: dir, Binary: filepath.Join(dir, "nope")})
	if KindOf(err) != KindBinaryMissing {
		t.Fatalf("missing binary: %v", err)
	}

	t.Setenv("PATH", t.TempDir()) // neither tofu nor terraform
	if _, err := New(ctx, Options{Dir: dir}); KindOf(err) != KindBinaryMissing || !strings.Contains(err.Error(), "--binary") {
		t.Fatalf("nothing on PATH: %v", err)
	}

	old := fakeBinary(t, "terraform", "1.4.6")
	_, err = New(ctx, Options{Dir: dir, Binary: old})
	if KindOf(err) != KindBinaryTooOld || !strings.Contains(err.Error(), "1.4.6") {
		t.Fatalf("old binary: %v", err)
	}

	ok := fakeBinary(t, "tofu", "1.10.10")
	t.Setenv("PATH", filepath.Dir(ok)+string(os.PathListSeparator)+filepath.Dir(old))
	p, err := New(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if b := p.Binary(); b.Path != ok || b.Product != "OpenTofu" || b.Version.String() != "1.10.10" {
		t.Fatalf("PATH lookup prefers tofu: %+v", b)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	bin := fakeBinary(t, "tofu", "1.10.10")
	dir := t.TempDir()
	for name, o := range map[string]Options{
		"both backends": {Dir: dir, Binary: bin, LocalBackend: true, BackendConfig: bin},
		"no such dir":   {Dir: filepath.Join(dir, "missing"), Binary: bin},
		"bad var":       {Dir: dir, Binary: bin, Vars: []string{"novalue"}},
		"no var file":   {Dir: dir, Binary: bin, VarFiles: []string{filepath.Join(dir, "x.tfvars")}},
	} {
		if _, err := New(context.Background(), o); KindOf(err) != KindInvalidConfig {
			t.Errorf("%s: %v, want %s", name, err, KindInvalidConfig)
		}
	}
}
