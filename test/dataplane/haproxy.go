package dataplane

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one HAProxy master process (master-worker mode, so a reload keeps the same master and its
// stdout, which carries the request log) and the path of the worker's stats socket.
type proc struct {
	cmd    *exec.Cmd
	sock   string
	cfg    string
	stderr *lockedBuffer
	done   chan struct{}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 64<<10 {
		l.b.Reset()
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startHAProxy checks cfg with `haproxy -c`, starts the master and waits for the worker's socket.
// Each line HAProxy writes to stdout (the request log) goes to onLog.
func startHAProxy(bin, dir string, onLog func(string)) (*proc, error) {
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("dataplane: haproxy binary %q not found (apt-get install haproxy): %w", bin, err)
	}
	cfg := filepath.Join(dir, "haproxy.cfg")
	if out, err := exec.Command(path, "-c", "-q", "-f", cfg).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("dataplane: haproxy rejects %s: %v: %s", cfg, err, strings.TrimSpace(string(out)))
	}
	p := &proc{sock: filepath.Join(dir, "admin.sock"), cfg: cfg, stderr: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(path, "-W", "-db", "-f", cfg)
	p.cmd.Dir = dir
	p.cmd.Stderr = p.stderr
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("dataplane: start haproxy: %w", err)
	}
	go readLines(stdout, onLog)
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	if _, err := p.waitWorker("", 10*time.Second); err != nil {
		p.kill()
		return nil, err
	}
	return p, nil
}

func readLines(r io.Reader, onLog func(string)) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		onLog(sc.Text())
	}
}

// waitWorker polls the stats socket until a worker other than oldPid answers; it returns its pid.
func (p *proc) waitWorker(oldPid string, d time.Duration) (string, error) {
	deadline := time.Now().Add(d)
	for {
		select {
		case <-p.done:
			return "", fmt.Errorf("dataplane: haproxy exited: %s", strings.TrimSpace(p.stderr.String()))
		default:
		}
		if out, err := p.cmd1("show info"); err == nil {
			if pid := infoField(out, "Pid"); pid != "" && pid != oldPid {
				return pid, nil
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("dataplane: haproxy worker not ready within %s: %s", d, strings.TrimSpace(p.stderr.String()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func infoField(info, name string) string {
	for _, l := range strings.Split(info, "\n") {
		if k, v, ok := strings.Cut(l, ": "); ok && k == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// reload makes the master re-read the config (SIGUSR2) and waits for the new worker; the old one
// finishes its in-flight requests (soft stop).
func (p *proc) reload() error {
	old, err := p.cmd1("show info")
	if err != nil {
		return err
	}
	if err := exec.Command(p.cmd.Path, "-c", "-q", "-f", p.cfg).Run(); err != nil {
		return fmt.Errorf("dataplane: reload: config rejected: %w", err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGUSR2); err != nil {
		return err
	}
	_, err = p.waitWorker(infoField(old, "Pid"), 10*time.Second)
	return err
}

// cmd1 runs runtime API commands (several may be joined with ";") on a fresh connection.
func (p *proc) cmd1(cmd string) (string, error) {
	c, err := net.DialTimeout("unix", p.sock, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, cmd+"\n"); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

// run is cmd1 that treats HAProxy's error answers as errors.
func (p *proc) run(cmd string) error {
	out, err := p.cmd1(cmd)
	if err != nil {
		return fmt.Errorf("dataplane: %q: %w", cmd, err)
	}
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l == "New server registered." || l == "Server deleted." || l == "Done." {
			continue
		}
		return fmt.Errorf("dataplane: %q: %s", cmd, l)
	}
	return nil
}

// kill stops the master, which stops and reaps its workers (SIGTERM, a hard stop in master-worker
// mode), then SIGKILLs whatever is left of the process group.
func (p *proc) kill() {
	if p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(3 * time.Second):
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
	// A worker the master did not reap is reaped by init; wait until the group is empty.
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if err := syscall.Kill(-p.cmd.Process.Pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
	}
}

var errGone = errors.New("dataplane: closed")

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
