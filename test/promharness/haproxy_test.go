package promharness

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	p, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", p)
}

// startHAProxy runs Debian's haproxy in front of backend with its Prometheus exporter
// (USE_PROMEX) on a second port; it returns the frontend and exporter addresses.
func startHAProxy(t *testing.T, backend string) (front, exporter string) {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy not installed (apt-get install haproxy)")
	}
	front, exporter = freeAddr(t), freeAddr(t)
	conf := fmt.Sprintf(`global
  log stderr format raw local0 emerg
defaults
  mode http
  timeout connect 2s
  timeout client 10s
  timeout server 10s
frontend fe_app
  bind %s
  default_backend be_app
backend be_app
  server app1 %s
frontend prometheus
  bind %s
  http-request use-service prometheus-exporter if { path /metrics }
`, front, backend, exporter)
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-db", "-f", path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("tcp", exporter); err == nil {
			c.Close()
			return front, exporter
		}
		if time.Now().After(deadline) {
			t.Fatal("haproxy did not listen")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestScrapesHAProxyExporter is the data plane's path to Prometheus: requests through a real
// HAProxy show up as per-backend response counts by class.
func TestScrapesHAProxyExporter(t *testing.T) {
	t.Parallel() // both scrape tests wait ~5 s for Prometheus' first target discovery
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	app := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})}
	go func() { _ = app.Serve(l) }()
	t.Cleanup(func() { app.Close() })
	front, exporter := startHAProxy(t, l.Addr().String())
	job, err := JobFromURL("haproxy", "http://"+exporter+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	s := start(t, Config{Jobs: []Job{job}, ScrapeInterval: 500 * time.Millisecond})
	for i := 0; i < 10; i++ {
		path := "/ok"
		if i < 7 {
			path = "/fail"
		}
		resp, err := http.Get("http://" + front + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	for code, want := range map[string]float64{"5xx": 7, "2xx": 3} {
		q := fmt.Sprintf(`haproxy_backend_http_responses_total{job="haproxy",proxy="be_app",code=%q}`, code)
		poll(t, s, q, 20*time.Second, func(v Vector) bool { return len(v) == 1 && v[0].Value == want })
	}
	if _, err := s.Query(context.Background(), `rate(haproxy_backend_http_responses_total{proxy="be_app"}[5s])`); err != nil {
		t.Fatal(err)
	}
}
