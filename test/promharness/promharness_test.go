package promharness

import (
	"context"
	"errors"
	"math"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// serveCounter exposes a counter that grows by 1 every 20 ms (up to 50/s: a loaded machine ticks
// less) on a loopback /metrics, and returns its address and its true average rate so far.
func serveCounter(t *testing.T) (string, func() float64) {
	t.Helper()
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "harness_requests_total", Help: "Requests."})
	reg.MustRegister(c)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(l) }()
	stop := make(chan struct{})
	var n atomic.Int64
	began := time.Now()
	go func() {
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				c.Inc()
				n.Add(1)
			}
		}
	}()
	t.Cleanup(func() { close(stop); srv.Close() })
	return l.Addr().String(), func() float64 { return float64(n.Load()) / time.Since(began).Seconds() }
}

func start(t *testing.T, cfg Config) *Server {
	t.Helper()
	if _, err := Binary(); err != nil && cfg.Binary == "" {
		if errors.Is(err, exec.ErrNotFound) {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	s, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// poll runs q until check accepts the result or the deadline passes.
func poll(t *testing.T, s *Server, q string, within time.Duration, check func(Vector) bool) Vector {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		v, err := s.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if check(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %+v after %v", q, v, within)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestScrapesAndRates(t *testing.T) {
	t.Parallel()
	target, truth := serveCounter(t)
	job, err := JobFromURL("app", "http://"+target+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	s := start(t, Config{Jobs: []Job{job}, ScrapeInterval: 500 * time.Millisecond})
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Fatalf("not loopback: %s", s.URL)
	}
	t0 := time.Now()
	up := poll(t, s, `up{job="app"}`, 15*time.Second, func(v Vector) bool { return len(v) == 1 && v[0].Value == 1 })
	t.Logf("up after %v", time.Since(t0))
	if up[0].Labels["instance"] != target {
		t.Fatalf("scraped %v, want %s", up[0].Labels, target)
	}
	// A rate over 3 s of 500 ms scrapes (it reads low until the series is older than the window); it must match the counter's true rate.
	v := poll(t, s, `rate(harness_requests_total{job="app"}[3s])`, 20*time.Second, func(v Vector) bool {
		return len(v) == 1 && math.Abs(v[0].Value-truth()) < 0.15*truth()
	})
	t.Logf("rate %.1f/s (true %.1f/s) after %v", v[0].Value, truth(), time.Since(t0))
	if d := time.Since(v[0].Time); d < 0 || d > 10*time.Second {
		t.Fatalf("sample time %v is not now", v[0].Time)
	}
	sc, err := s.Query(context.Background(), `scalar(count(up))`)
	if err != nil || len(sc) != 1 || sc[0].Value != 1 {
		t.Fatalf("scalar: %+v %v", sc, err)
	}
	if _, err := s.Query(context.Background(), `rate(harness_requests_total[`); err == nil {
		t.Fatal("a malformed query was not an error")
	}
}

func TestCloseStopsTheServer(t *testing.T) {
	s := start(t, Config{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(s.URL + "/-/ready"); err == nil {
		t.Fatal("prometheus still answers after Close")
	}
}

func TestJobFromURL(t *testing.T) {
	j, err := JobFromURL("haproxy", "http://127.0.0.1:8405/metrics")
	if err != nil || j.Targets[0] != "127.0.0.1:8405" || j.MetricsPath != "/metrics" {
		t.Fatalf("%+v %v", j, err)
	}
	if _, err := JobFromURL("x", "127.0.0.1:8405"); err == nil {
		t.Error("a URL without a scheme and host was accepted")
	}
}

func TestConfig(t *testing.T) {
	got := config(Config{ScrapeInterval: 500 * time.Millisecond, Jobs: []Job{{Name: "haproxy", Targets: []string{"127.0.0.1:8404", "127.0.0.1:8405"}}}})
	for _, want := range []string{"scrape_interval: 500ms", `job_name: "haproxy"`, `metrics_path: "/metrics"`, `targets: ["127.0.0.1:8404", "127.0.0.1:8405"]`} {
		if !strings.Contains(got, want) {
			t.Errorf("config lacks %q:\n%s", want, got)
		}
	}
}
