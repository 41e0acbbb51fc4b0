// Package daemontest builds the switchyard binary and runs `switchyard serve` processes for end-to-end
// tests: started with a config file, waited for on /readyz, killed with SIGKILL (exactly like a crash),
// and their log shown when the test fails.
package daemontest

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard/switchyard/test/emulator"
)

// Build compiles cmd/switchyard into dir and returns the binary's path.
func Build(dir string) (string, error) {
	root, err := emulator.ModuleRoot()
	if err != nil {
		return "", err
	}
	// The main module's root: ModuleRoot finds the nearest go.mod, which may be a nested test module.
	for _, up := range []string{".", "..", "../.."} {
		if _, err := os.Stat(filepath.Join(root, up, "cmd", "switchyard")); err == nil {
			root = filepath.Join(root, up)
			break
		}
	}
	binary := filepath.Join(dir, "switchyard")
	build := exec.Command("go", "build", "-o", binary, "./cmd/switchyard")
	build.Dir = root
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("build switchyard: %w", err)
	}
	return binary, nil
}

// Daemon is a switchyard serve process.
type Daemon struct {
	t      testing.TB
	cmd    *exec.Cmd
	URL    string
	Log    string
	Cfg    string
	exited chan struct{}
}

// Start launches `binary serve --config cfg` (its listen address is the config's first line) and waits
// for /readyz; the process is killed when the test ends, and its log shown if the test failed.
func Start(t testing.TB, binary, cfg string) *Daemon {
	t.Helper()
	b, _ := os.ReadFile(cfg)
	listen := strings.TrimPrefix(strings.SplitN(string(b), "\n", 2)[0], "listen: ")
	logf, err := os.CreateTemp(t.TempDir(), "daemon-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "serve", "--config", cfg)
	cmd.Env = append(os.Environ(), "AWS_EC2_METADATA_DISABLED=true", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &Daemon{t: t, cmd: cmd, URL: "http://" + listen, Log: logf.Name(), Cfg: cfg, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() {
		d.Kill()
		if t.Failed() {
			out, _ := os.ReadFile(d.Log)
			t.Logf("daemon log (%s):\n%s", d.Log, Tail(string(out), 60))
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-d.exited:
			out, _ := os.ReadFile(d.Log)
			t.Fatalf("daemon exited during start-up:\n%s", out)
		default:
		}
		resp, err := http.Get(d.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return d
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("daemon not ready within 30s")
	return nil
}

// Kill sends SIGKILL: no shutdown path runs, exactly like a crash.
func (d *Daemon) Kill() {
	if d.cmd.Process != nil {
		_ = d.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-d.exited
}

// Pid is the process id of the daemon.
func (d *Daemon) Pid() int { return d.cmd.Process.Pid }

// Signal sends s to the daemon (SIGSTOP and SIGCONT pause and wake it, as a stalled VM would).
func (d *Daemon) Signal(s os.Signal) error { return d.cmd.Process.Signal(s) }

// Exited is closed once the process has exited.
func (d *Daemon) Exited() <-chan struct{} { return d.exited }

// Tail returns the last n lines of s.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Main is an e2e package's TestMain: static test credentials, no instance metadata, the switchyard
// binary built once into *binary, the shared emulator stopped at the end.
func Main(m *testing.M, binary *string) int {
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	os.Setenv("AWS_ACCESS_KEY_ID", "test")
	os.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	dir, err := os.MkdirTemp("", "switchyard-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if *binary, err = Build(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer emulator.StopShared()
	return m.Run()
}
