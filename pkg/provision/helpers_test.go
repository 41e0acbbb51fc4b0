package provision

import (
	"bytes"
	"context"
	"path/filepath"
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
