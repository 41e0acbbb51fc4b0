package provision

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// repoRoot is two levels up from this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	r, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// tofuBinary returns the OpenTofu built by scripts/tools.sh. Without it the integration tests skip,
// except in CI (CI=true), where a missing binary is a failure.
func tofuBinary(t *testing.T) string {
	t.Helper()
	p := filepath.Join(repoRoot(t), ".tools", "bin", "tofu")
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("OpenTofu missing at %s (run scripts/tools.sh)", p)
		}
		t.Skipf("OpenTofu missing at %s: run scripts/tools.sh to build it", p)
	}
	return p
}

// tfEnv isolates tofu/terraform from the machine: an empty CLI configuration (terraform_data is
// built in, nothing is downloaded), no checkpoint calls, no instance-metadata lookups.
func tfEnv(t *testing.T) {
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

// fixture copies test/fixtures/stack into a temporary directory (without any local state or
// .terraform left by a manual run).
func fixture(t *testing.T) string {
	t.Helper()
	src := filepath.Join(repoRoot(t), "test", "fixtures", "stack")
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

// syncBuffer is a goroutine-safe progress sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newTestProvisioner(t *testing.T, bin, dir string, o Options) (*Provisioner, *syncBuffer) {
	t.Helper()
	buf := &syncBuffer{}
	o.Dir, o.Binary = dir, bin
	if o.Progress == nil {
		o.Progress = buf
	}
	p, err := New(context.Background(), o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p, buf
}
