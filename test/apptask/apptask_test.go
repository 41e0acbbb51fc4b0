package apptask

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

func start(t *testing.T, spec Spec) *Server {
	t.Helper()
	s, err := Start(spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

func get(t *testing.T, c *http.Client, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestHealthyTaskNamesItself(t *testing.T) {
	s := start(t, Spec{TaskARN: "arn:task/1", Service: "svc-blue", Colour: "blue", Tag: "v1"})
	other := start(t, Spec{TaskARN: "arn:task/2", Service: "svc-blue", Colour: "blue", Tag: "v1"})
	if ip := net.ParseIP(s.IP()); ip == nil || !ip.IsLoopback() || s.Port() == 0 || other.IP() == s.IP() {
		t.Fatalf("addr %s:%d, other task %s: each task needs its own loopback IP", s.IP(), s.Port(), other.IP())
	}
	for _, path := range []string{"/api/x", "/healthz"} {
		resp, b := get(t, http.DefaultClient, "http://"+s.Addr()+path)
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d", path, resp.StatusCode)
		}
		h := resp.Header
		if h.Get(HeaderTask) != "arn:task/1" || h.Get(HeaderColour) != "blue" || h.Get(HeaderTag) != "v1" {
			t.Errorf("%s: headers %v", path, h)
		}
		if path == "/api/x" {
			var got body
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("body %q: %v", b, err)
			}
			if got != (body{Task: "arn:task/1", Service: "svc-blue", Colour: "blue", Tag: "v1", Status: 200}) {
				t.Errorf("body %+v", got)
			}
		}
	}
	if c := s.Counts(); c != (Counts{Served: 1, HealthChecks: 1}) {
		t.Errorf("counts %+v", c)
	}
}

// TestErrorRate: 2000 requests at a 10% error rate answer 500 within five standard deviations of 200.
func TestErrorRate(t *testing.T) {
	tbl := NewTable(map[string]Behaviour{"bad": {ErrorRate: 0.1}})
	s := start(t, Spec{TaskARN: "arn:task/err", Colour: "green", Tag: "bad", Table: tbl, Seed: 42})
	const n = 2000
	var fails int
	for range n {
		resp, b := get(t, http.DefaultClient, "http://"+s.Addr()+"/")
		switch resp.StatusCode {
		case 500:
			fails++
			var got body
			if err := json.Unmarshal(b, &got); err != nil || got.Status != 500 || resp.Header.Get(HeaderColour) != "green" {
				t.Fatalf("500 answer %q %v", b, resp.Header)
			}
		case 200:
		default:
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	sd := math.Sqrt(n * 0.1 * 0.9)
	if math.Abs(float64(fails)-n*0.1) > 5*sd {
		t.Errorf("%d of %d failed, want %d ± %.0f", fails, n, n/10, 5*sd)
	}
	if c := s.Counts(); c.Served != n || c.Errors != int64(fails) {
		t.Errorf("counts %+v, saw %d failures", c, fails)
	}
	// Changed at run time: a healthy tag from now on.
	tbl.Set("bad", Behaviour{})
	for range 200 {
		if resp, _ := get(t, http.DefaultClient, "http://"+s.Addr()+"/"); resp.StatusCode != 200 {
			t.Fatalf("after the table changed: %d", resp.StatusCode)
		}
	}
	tbl.Set("bad", Behaviour{ErrorRate: 1})
	if resp, _ := get(t, http.DefaultClient, "http://"+s.Addr()+"/"); resp.StatusCode != 500 {
		t.Fatalf("error rate 1: %d", resp.StatusCode)
	}
}

func TestLatency(t *testing.T) {
	tbl := NewTable(map[string]Behaviour{"slow": {Latency: 150 * time.Millisecond}})
	s := start(t, Spec{TaskARN: "arn:task/slow", Tag: "slow", Table: tbl})
	t0 := time.Now()
	if resp, _ := get(t, http.DefaultClient, "http://"+s.Addr()+"/"); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if d := time.Since(t0); d < 150*time.Millisecond || d > 2*time.Second {
		t.Errorf("slow request took %v", d)
	}
	// The health check is not slowed.
	t0 = time.Now()
	get(t, http.DefaultClient, "http://"+s.Addr()+"/healthz")
	if d := time.Since(t0); d >= 150*time.Millisecond {
		t.Errorf("health check took %v", d)
	}
	// The wait ends with the request: a client that gives up is not answered later.
	tbl.Set("slow", Behaviour{Latency: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.Addr()+"/", nil)
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want a client timeout, got %v", err)
	}
	stopped := make(chan struct{})
	go func() { s.Stop(); close(stopped) }()
	select {
	case <-stopped: // the abandoned handler returned, so shutdown did not wait for it
	case <-time.After(3 * time.Second):
		t.Fatal("Stop waited on an abandoned hour-long request")
	}
}

func TestSlowStartAndFailingHealth(t *testing.T) {
	tbl := NewTable(map[string]Behaviour{"warm": {SlowStart: 300 * time.Millisecond}, "sick": {FailHealth: true}})
	warm := start(t, Spec{TaskARN: "arn:task/warm", Tag: "warm", Table: tbl, HealthPath: "/ready"})
	sick := start(t, Spec{TaskARN: "arn:task/sick", Tag: "sick", Table: tbl})
	if resp, _ := get(t, http.DefaultClient, "http://"+warm.Addr()+"/ready"); resp.StatusCode != 503 {
		t.Fatalf("warming task health %d, want 503", resp.StatusCode)
	}
	// The app itself answers while warming; only its health check fails.
	if resp, _ := get(t, http.DefaultClient, "http://"+warm.Addr()+"/"); resp.StatusCode != 200 {
		t.Fatalf("warming task app %d", resp.StatusCode)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, _ := get(t, http.DefaultClient, "http://"+warm.Addr()+"/ready")
		if resp.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("slow start never ended")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if since := time.Since(warm.started); since < 300*time.Millisecond {
		t.Errorf("healthy %v after start, want >= 300ms", since)
	}
	for range 5 {
		if resp, _ := get(t, http.DefaultClient, "http://"+sick.Addr()+"/healthz"); resp.StatusCode != 503 {
			t.Fatalf("failing health check answered %d", resp.StatusCode)
		}
	}
	if c := sick.Counts(); c.HealthChecks != 5 || c.HealthFailures != 5 {
		t.Errorf("sick counts %+v", c)
	}
}

func TestCrashOnStart(t *testing.T) {
	tbl := NewTable(map[string]Behaviour{"boom": {CrashOnStart: true}})
	s := start(t, Spec{TaskARN: "arn:task/boom", Tag: "boom", Table: tbl})
	select {
	case err := <-s.Exited():
		if !errors.Is(err, ErrCrashed) {
			t.Fatalf("exit %v", err)
		}
	default:
		t.Fatal("a crashing task has not exited when Start returns")
	}
	if _, err := http.Get("http://" + s.Addr() + "/healthz"); err == nil {
		t.Fatal("a crashed task answered")
	}
}

func TestStopAndCrash(t *testing.T) {
	s := start(t, Spec{TaskARN: "arn:task/a"})
	s.Stop()
	if err, ok := <-s.Exited(); err != nil || !ok {
		t.Fatalf("after Stop: %v %v", err, ok)
	}
	if _, err := http.Get("http://" + s.Addr() + "/"); err == nil {
		t.Fatal("a stopped task answered")
	}
	c := start(t, Spec{TaskARN: "arn:task/b"})
	c.Crash(nil)
	if err := <-c.Exited(); err == nil {
		t.Fatal("a crash reported no error")
	}
}

// TestConcurrentRequests: many clients at once, the table changing underneath (run with -race).
func TestConcurrentRequests(t *testing.T) {
	tbl := NewTable(nil)
	s := start(t, Spec{TaskARN: "arn:task/c", Tag: "v", Table: tbl})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				if i == 0 && j%10 == 0 {
					tbl.Set("v", Behaviour{ErrorRate: float64(j) / 100})
				}
				resp, err := http.Get("http://" + s.Addr() + "/")
				if err != nil {
					errs <- err
					return
				}
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if c := s.Counts(); c.Served != 400 {
		t.Errorf("served %d, want 400", c.Served)
	}
}

func TestColourOf(t *testing.T) {
	for in, want := range map[string]string{
		"svc-blue-web": "blue", "svc-green-web": "green", "svc-green-bluesky1": "green", "svc-blue-greenfield": "blue", "api": "api",
	} {
		if got := ColourOf(in); got != want {
			t.Errorf("ColourOf(%q) = %q, want %q", in, got, want)
		}
	}
}
