// Package promharness runs a real Prometheus server (Debian's prometheus package, 2.42) for tests:
// on a loopback port, with a fresh data directory and a generated configuration that scrapes the
// given targets, and queries it over the HTTP API.
package promharness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Job is one scrape job: static Targets, or targets discovered from a file_sd file (FileSD) that the
// caller rewrites with SetTargets or WriteTargets as targets come and go.
type Job struct {
	Name        string
	Targets     []string // host:port
	MetricsPath string   // default /metrics
	// FileSD is the path of a file_sd JSON file (Start creates it empty when missing). Prometheus
	// watches it and also rereads it every second; its discovery manager passes a change on to the
	// scrapers within about 5 s (Prometheus throttles target updates to one per 5 s).
	FileSD string
}

// TargetGroup is one entry of a file_sd file: targets and the labels every one of them gets.
type TargetGroup struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels,omitempty"`
}

// WriteTargets replaces the file_sd file at path atomically (Prometheus never reads half a file).
func WriteTargets(path string, groups []TargetGroup) error {
	if groups == nil {
		groups = []TargetGroup{}
	}
	b, err := json.Marshal(groups)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".targets-*.tmp")
	if err != nil {
		return fmt.Errorf("promharness: targets: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("promharness: targets: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("promharness: targets: %w", err)
	}
	return nil
}

// JobFromURL is a job scraping one exporter URL, such as the data plane's PrometheusURL().
func JobFromURL(name, rawURL string) (Job, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "") {
		return Job{}, fmt.Errorf("promharness: %q is not an http exporter URL", rawURL)
	}
	return Job{Name: name, Targets: []string{u.Host}, MetricsPath: u.Path}, nil
}

// Config sets up a server.
type Config struct {
	// Binary defaults to $PROMETHEUS_BIN, then prometheus on PATH.
	Binary string
	Jobs   []Job
	// ScrapeInterval defaults to 1 s (also the rule evaluation interval).
	ScrapeInterval time.Duration
	// Log receives the server's output (nil discards it).
	Log io.Writer
	// StartTimeout bounds the wait for readiness (default 30 s).
	StartTimeout time.Duration
}

// Server is a running Prometheus.
type Server struct {
	URL  string // http://127.0.0.1:PORT
	jobs []Job
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// Binary finds the prometheus executable.
func Binary() (string, error) {
	if p := os.Getenv("PROMETHEUS_BIN"); p != "" {
		return p, nil
	}
	p, err := exec.LookPath("prometheus")
	if err != nil {
		return "", fmt.Errorf("promharness: prometheus not found (apt-get install prometheus): %w", err)
	}
	return p, nil
}

// config renders prometheus.yml.
func config(cfg Config) string {
	iv := cfg.ScrapeInterval.String()
	var b strings.Builder
	fmt.Fprintf(&b, "global:\n  scrape_interval: %s\n  scrape_timeout: %s\n  evaluation_interval: %s\nscrape_configs:\n", iv, iv, iv)
	for _, j := range cfg.Jobs {
		path := j.MetricsPath
		if path == "" {
			path = "/metrics"
		}
		fmt.Fprintf(&b, "  - job_name: %s\n    metrics_path: %s\n", strconv.Quote(j.Name), strconv.Quote(path))
		if j.FileSD != "" {
			fmt.Fprintf(&b, "    file_sd_configs:\n      - files: [%s]\n        refresh_interval: 1s\n", strconv.Quote(j.FileSD))
			continue
		}
		q := make([]string, len(j.Targets))
		for i, t := range j.Targets {
			q[i] = strconv.Quote(t)
		}
		fmt.Fprintf(&b, "    static_configs:\n      - targets: [%s]\n", strings.Join(q, ", "))
	}
	return b.String()
}

// Start launches Prometheus and waits until it is ready.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.ScrapeInterval == 0 {
		cfg.ScrapeInterval = time.Second
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = 30 * time.Second
	}
	bin := cfg.Binary
	if bin == "" {
		var err error
		if bin, err = Binary(); err != nil {
			return nil, err
		}
	}
	dir, err := os.MkdirTemp("", "promharness-")
	if err != nil {
		return nil, err
	}
	for _, j := range cfg.Jobs {
		if j.FileSD == "" {
			continue
		}
		if _, err := os.Stat(j.FileSD); errors.Is(err, os.ErrNotExist) {
			err = WriteTargets(j.FileSD, nil)
		}
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("promharness: job %s: %w", j.Name, err)
		}
	}
	conf := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(conf, []byte(config(cfg)), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, "--config.file="+conf, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--storage.tsdb.retention.time=1h")
	cmd.Stdout, cmd.Stderr = cfg.Log, cfg.Log
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("promharness: start %s: %w", bin, err)
	}
	s := &Server{URL: "http://" + addr, jobs: cfg.Jobs, dir: dir, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.done) }()
	if err := s.waitReady(ctx, cfg.StartTimeout); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		select {
		case <-s.done:
			return errors.New("promharness: prometheus exited during start-up (set Config.Log to see why)")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if resp, err := http.Get(s.URL + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("promharness: prometheus not ready on %s within %v", s.URL, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// SetTargets replaces the targets of a job discovered from its FileSD file.
func (s *Server) SetTargets(job string, groups []TargetGroup) error {
	for _, j := range s.jobs {
		if j.Name == job && j.FileSD != "" {
			return WriteTargets(j.FileSD, groups)
		}
	}
	return fmt.Errorf("promharness: no file_sd job %q", job)
}

// Close kills the server and removes its data directory.
func (s *Server) Close() error {
	if s == nil || s.cmd.Process == nil {
		return nil
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	return os.RemoveAll(s.dir)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Sample is one element of an instant vector.
type Sample struct {
	Labels map[string]string
	Value  float64
	Time   time.Time
}

// Vector is an instant query's result.
type Vector []Sample

// Query runs an instant PromQL query now. A scalar result is returned as one sample without labels.
func (s *Server) Query(ctx context.Context, promql string) (Vector, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/api/v1/query?query="+url.QueryEscape(promql), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("promharness: query: %w", err)
	}
	defer resp.Body.Close()
	var body struct {
		Status    string `json:"status"`
		Error     string `json:"error"`
		ErrorType string `json:"errorType"`
		Data      struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("promharness: query %q: HTTP %d: %w", promql, resp.StatusCode, err)
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("promharness: query %q: %s: %s", promql, body.ErrorType, body.Error)
	}
	switch body.Data.ResultType {
	case "vector":
		var raw []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		}
		if err := json.Unmarshal(body.Data.Result, &raw); err != nil {
			return nil, err
		}
		out := make(Vector, 0, len(raw))
		for _, r := range raw {
			smp, err := sample(r.Value)
			if err != nil {
				return nil, err
			}
			smp.Labels = r.Metric
			out = append(out, smp)
		}
		return out, nil
	case "scalar":
		var v [2]any
		if err := json.Unmarshal(body.Data.Result, &v); err != nil {
			return nil, err
		}
		smp, err := sample(v)
		return Vector{smp}, err
	}
	return nil, fmt.Errorf("promharness: query %q returned a %s, not an instant vector", promql, body.Data.ResultType)
}

// sample decodes [unix seconds, "value"].
func sample(v [2]any) (Sample, error) {
	ts, ok1 := v[0].(float64)
	str, ok2 := v[1].(string)
	if !ok1 || !ok2 {
		return Sample{}, fmt.Errorf("promharness: malformed sample %v", v)
	}
	f, err := strconv.ParseFloat(str, 64)
	if err != nil {
		return Sample{}, fmt.Errorf("promharness: sample value %q: %w", str, err)
	}
	sec := int64(ts)
	return Sample{Value: f, Time: time.Unix(sec, int64((ts-float64(sec))*1e9)).UTC()}, nil
}
