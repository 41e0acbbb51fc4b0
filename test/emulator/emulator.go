// Package emulator starts the kumo AWS emulator for integration tests, on a free loopback port, and
// builds SDK configs that can only reach it: static credentials, an explicit endpoint and the
// instance-metadata client disabled.
package emulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Kumo is a running emulator process.
type Kumo struct {
	URL  string // http://127.0.0.1:PORT
	cmd  *exec.Cmd
	done chan struct{}
}

// Region is the region every test uses.
const Region = "us-east-1"

func init() {
	// Belt and braces: nothing in a test process may probe the instance-metadata service.
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// Binary finds the kumo binary: $KUMO_BIN, then .tools/bin/kumo at the module root (built by
// scripts/tools.sh), then `go tool -n kumo` in tools/kumo (its own module's tool line; builds it on
// first use).
func Binary() (string, error) {
	if p := os.Getenv("KUMO_BIN"); p != "" {
		return p, nil
	}
	if root, err := ModuleRoot(); err == nil {
		p := filepath.Join(root, ".tools", "bin", "kumo")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	cmd := exec.Command("go", "tool", "-n", "kumo")
	if root, err := ModuleRoot(); err == nil {
		cmd.Dir = filepath.Join(root, "tools", "kumo")
	}
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("emulator: kumo not found (run scripts/tools.sh kumo): %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// ModuleRoot returns the directory holding the main go.mod, searching upward from the working directory.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/switchyard/switchyard\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("emulator: module root not found")
		}
		dir = parent
	}
}

// FreePort returns a free TCP port on 127.0.0.1.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start launches kumo on a free loopback port and waits until it answers /health.
func Start() (*Kumo, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "KUMO_HOST=127.0.0.1", "KUMO_PORT="+strconv.Itoa(port), "KUMO_DATA_DIR=")
	cmd.Stdout = nil
	cmd.Stderr = nil
	if os.Getenv("KUMO_LOG") != "" {
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("emulator: start %s: %w", bin, err)
	}
	k := &Kumo{URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(k.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-k.done:
			return nil, fmt.Errorf("emulator: kumo exited during start-up")
		default:
		}
		resp, err := http.Get(k.URL + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return k, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	k.Stop()
	return nil, fmt.Errorf("emulator: kumo did not answer on %s within 30s", k.URL)
}

// Stop ends the emulator.
func (k *Kumo) Stop() {
	if k == nil || k.cmd.Process == nil {
		return
	}
	_ = k.cmd.Process.Kill()
	<-k.done
}

var (
	shared     *Kumo
	sharedErr  error
	sharedOnce sync.Once
)

// Shared returns one emulator per test binary, started on first use. Call StopShared from TestMain.
// Tests that need isolation create uniquely named resources instead of their own emulator.
func Shared(tb testing.TB) *Kumo {
	tb.Helper()
	sharedOnce.Do(func() { shared, sharedErr = Start() })
	if sharedErr != nil {
		if os.Getenv("CI") == "" && errors.Is(sharedErr, exec.ErrNotFound) {
			tb.Skipf("kumo not available: %v", sharedErr)
		}
		tb.Fatalf("start kumo: %v", sharedErr)
	}
	return shared
}

// StopShared stops the emulator Shared started, if any.
func StopShared() {
	if shared != nil {
		shared.Stop()
	}
}

// Config returns an SDK config that reaches only url, with static test credentials.
func Config(url string) aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(url),
		// The emulator answers fast; tests should fail fast too.
		RetryMaxAttempts: 2,
	}
}

// Context returns a context that ends with the test (or after d).
func Context(tb testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	tb.Cleanup(cancel)
	return ctx
}
