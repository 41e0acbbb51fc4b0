package demostack

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/switchyard/switchyard/test/emulator"
)

func TestMain(m *testing.M) {
	code := m.Run()
	emulator.StopShared()
	os.Exit(code)
}

func TestCreateInKumo(t *testing.T) {
	k := emulator.Shared(t)
	cfg := emulator.Config(k.URL)
	ctx := emulator.Context(t, 30*time.Second)
	s, err := Create(ctx, cfg, fmt.Sprintf("stacktest%d", time.Now().UnixNano()%1000000), "v1", "v2")
	if err != nil {
		t.Fatal(err)
	}
	l, r, err := s.Weights(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if l != [2]int32{999, 0} || r != [2]int32{999, 0} {
		t.Fatalf("initial weights listener %v rule %v", l, r)
	}
	t.Logf("repository %s listener %s", s.RepositoryURI, s.Listener)
	if s.RepositoryURI == "" || s.Listener == "" || s.Rule == "" {
		t.Fatalf("%+v", s)
	}
}
