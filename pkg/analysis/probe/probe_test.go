package probe

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/analysis"
	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/deploy"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// waitFor polls cond until it holds: the checks run on their own goroutines and real sockets.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func req(key, name string, spec deploy.ProbeSpec) analysis.Request {
	return analysis.Request{Key: key, Metric: deploy.AnalysisMetric{Name: name, Provider: deploy.ProviderProbe, Probe: &spec}}
}

func measure(t *testing.T, p *Prober, r analysis.Request) analysis.Reading {
	t.Helper()
	out, errs := p.Measure(context.Background(), t0, []analysis.Request{r})
	if errs[0] != nil {
		t.Fatalf("Measure: %v", errs[0])
	}
	return out[0]
}

func counts(t *testing.T, p *Prober, key, name string) Counts {
	t.Helper()
	c, ok := p.Counts(key, name)
	if !ok {
		t.Fatalf("no checker for %s/%s", key, name)
	}
	return c
}

func bucket(c Counts, le float64) float64 {
	for _, b := range c.Buckets {
		if b.Le == le {
			return b.Count
		}
	}
	panic("no bucket")
}

// server answers by path; it counts every request it receives.
func server(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		switch r.URL.Path {
		case "/500":
			w.WriteHeader(http.StatusInternalServerError)
		case "/body":
			_, _ = w.Write([]byte("maintenance"))
		case "/redirect":
			http.Redirect(w, r, "/ok", http.StatusFound)
		case "/headers":
			if r.Method != http.MethodPost || r.Header.Get("X-Probe") != "yes" || r.Host != "app.example" {
				w.WriteHeader(http.StatusBadRequest)
			}
		default:
			_, _ = w.Write([]byte("status: ok"))
		}
	}))
	t.Cleanup(s.Close)
	return s, &n
}

func TestFailuresCountedByKind(t *testing.T) {
	s, _ := server(t)
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + dead.Addr().String() + "/"
	dead.Close() // connection refused from now on
	clk := clock.NewFake(t0)
	p := New(clk, nil)
	defer p.Close()
	cases := []struct {
		name string
		spec deploy.ProbeSpec
		fail Failure
	}{
		{"ok", deploy.ProbeSpec{URL: s.URL + "/ok", Body: "ok"}, ""},
		{"status", deploy.ProbeSpec{URL: s.URL + "/500"}, FailStatus},
		{"expected-500", deploy.ProbeSpec{URL: s.URL + "/500", Status: 500}, ""},
		{"body", deploy.ProbeSpec{URL: s.URL + "/body", Body: "ok"}, FailBody},
		{"redirect-not-followed", deploy.ProbeSpec{URL: s.URL + "/redirect"}, FailStatus},
		{"headers", deploy.ProbeSpec{URL: s.URL + "/headers", Method: "post", Headers: map[string]string{"X-Probe": "yes", "Host": "app.example"}}, ""},
		{"refused", deploy.ProbeSpec{URL: deadURL}, FailConnection},
	}
	for _, c := range cases {
		measure(t, p, req("d1", c.name, c.spec)) // starts the checker: check 0 at once
	}
	for _, c := range cases {
		waitFor(t, c.name+" first check", func() bool { return counts(t, p, "d1", c.name).Checks == 1 })
	}
	clk.Advance(time.Second) // five more each at the default 5/s
	for _, c := range cases {
		waitFor(t, c.name+" six checks", func() bool { return counts(t, p, "d1", c.name).Checks == 6 })
		got := counts(t, p, "d1", c.name)
		var want map[Failure]float64
		if c.fail != "" {
			want = map[Failure]float64{c.fail: 6}
		}
		if len(got.Failures) != len(want) || got.Failures[c.fail] != want[c.fail] {
			t.Errorf("%s: failures %v, want %v", c.name, got.Failures, want)
		}
		r := measure(t, p, req("d1", c.name, c.spec))
		if r.Canary.Requests != 6 || r.Canary.Errors != float64(len(want))*6 || r.Base.Requests != 0 || len(r.Base.Buckets) != 0 {
			t.Errorf("%s: reading %+v", c.name, r)
		}
	}
}

// hanging answers only when released (or when the client gives up); arrived hears each request.
func hanging(t *testing.T) (url string, arrived chan struct{}, release chan struct{}) {
	arrived, release = make(chan struct{}, 100), make(chan struct{})
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); s.Close() })
	return s.URL, arrived, release
}

func TestTimeoutOnTheInjectedClock(t *testing.T) {
	url, arrived, _ := hanging(t)
	clk := clock.NewFake(t0)
	p := New(clk, nil)
	defer p.Close()
	spec := deploy.ProbeSpec{URL: url, Rate: 0.25, Timeout: deploy.Duration(2 * time.Second)}
	measure(t, p, req("d1", "slow", spec))
	<-arrived
	clk.Advance(1999 * time.Millisecond)
	if c := counts(t, p, "d1", "slow"); c.Checks != 0 {
		t.Fatalf("check ended before its timeout: %+v", c)
	}
	clk.Advance(time.Millisecond)
	waitFor(t, "the timeout", func() bool { return counts(t, p, "d1", "slow").Checks == 1 })
	c := counts(t, p, "d1", "slow")
	if c.Failures[FailTimeout] != 1 || len(c.Failures) != 1 {
		t.Fatalf("failures %v, want one timeout", c.Failures)
	}
	// The timed-out check's latency is its timeout: inside the 2 s bucket, outside 1.5 s.
	if bucket(c, 2) != 1 || bucket(c, 1.5) != 0 {
		t.Fatalf("buckets %+v", c.Buckets)
	}
}

func TestLatencyBuckets(t *testing.T) {
	url, arrived, release := hanging(t)
	clk := clock.NewFake(t0)
	p := New(clk, nil)
	defer p.Close()
	measure(t, p, req("d1", "lat", deploy.ProbeSpec{URL: url, Rate: 1}))
	<-arrived
	clk.Advance(260 * time.Millisecond) // the answer takes 260 ms of clock time
	release <- struct{}{}
	waitFor(t, "the answer", func() bool { return counts(t, p, "d1", "lat").Checks == 1 })
	c := counts(t, p, "d1", "lat")
	for _, b := range c.Buckets {
		want := 0.0
		if b.Le >= 0.3 {
			want = 1
		}
		if b.Count != want {
			t.Errorf("bucket le=%v: %v, want %v", b.Le, b.Count, want)
		}
	}
	if len(c.Failures) != 0 {
		t.Errorf("failures %v", c.Failures)
	}
}

func TestRateRespectedOnAFakeClock(t *testing.T) {
	s, served := server(t)
	clk := clock.NewFake(t0)
	p := New(clk, nil)
	defer p.Close()
	measure(t, p, req("d1", "rate", deploy.ProbeSpec{URL: s.URL}))
	want := 1.0
	for range 3 {
		waitFor(t, "checks done", func() bool { return counts(t, p, "d1", "rate").Checks == want })
		waitFor(t, "ticker parked", func() bool { return clk.Pending() == 1 })
		clk.Advance(time.Second)
		want += 5
	}
	// A jump of ten seconds fires at most one second's worth: a stall never becomes a flood.
	waitFor(t, "checks done", func() bool { return counts(t, p, "d1", "rate").Checks == want })
	waitFor(t, "ticker parked", func() bool { return clk.Pending() == 1 })
	clk.Advance(10 * time.Second)
	want += 5
	waitFor(t, "checks done", func() bool { return counts(t, p, "d1", "rate").Checks == want })
	waitFor(t, "ticker parked", func() bool { return clk.Pending() == 1 })
	if got := served.Load(); float64(got) != want {
		t.Fatalf("server saw %d requests, want %v", got, want)
	}
}

func TestStopReallyStops(t *testing.T) {
	s, served := server(t)
	url, arrived, _ := hanging(t)
	clk := clock.NewFake(t0)
	p := New(clk, nil)
	defer p.Close()
	measure(t, p, req("d1", "a", deploy.ProbeSpec{URL: s.URL}))
	measure(t, p, req("d1", "hang", deploy.ProbeSpec{URL: url}))
	measure(t, p, req("d2", "a", deploy.ProbeSpec{URL: s.URL, Rate: 1}))
	waitFor(t, "first checks", func() bool {
		return counts(t, p, "d1", "a").Checks == 1 && counts(t, p, "d2", "a").Checks == 1
	})
	<-arrived
	p.Stop("d1") // returns with the hanging check cancelled, not counted
	if _, ok := p.Counts("d1", "a"); ok {
		t.Fatal("d1 still has a checker")
	}
	before := served.Load()
	// d2's ticker is the only timer left: d1's schedule and its check's timeout are gone.
	waitFor(t, "d2 parked", func() bool { return clk.Pending() == 1 })
	clk.Advance(time.Second)
	waitFor(t, "d2 checks on", func() bool { return counts(t, p, "d2", "a").Checks == 2 })
	if got := served.Load(); got != before+1 {
		t.Fatalf("after Stop the server saw %d more requests, want 1 (d2's)", got-before)
	}
	select {
	case <-arrived:
		t.Fatal("a stopped checker probed again")
	default:
	}
	p.Close()
	if clk.Pending() != 0 {
		t.Fatalf("%d timers left after Close", clk.Pending())
	}
	if _, errs := p.Measure(context.Background(), t0, []analysis.Request{req("d3", "a", deploy.ProbeSpec{URL: s.URL})}); deploy.KindOf(errs[0]) != deploy.KindUnavailable {
		t.Fatalf("Measure after Close: %v", errs[0])
	}
}

func TestChangedSpecRestartsFromZero(t *testing.T) {
	s, _ := server(t)
	clk := clock.NewFake(t0)
	p := New(clk, nil)
	defer p.Close()
	measure(t, p, req("d1", "m", deploy.ProbeSpec{URL: s.URL}))
	waitFor(t, "first check", func() bool { return counts(t, p, "d1", "m").Checks == 1 })
	measure(t, p, req("d1", "m", deploy.ProbeSpec{URL: s.URL + "/500"}))
	waitFor(t, "new checker's check", func() bool { return counts(t, p, "d1", "m").Failures[FailStatus] == 1 })
	if c := counts(t, p, "d1", "m"); c.Checks != 1 {
		t.Fatalf("counts %+v, want the new checker's one failed check", c)
	}
}

func TestInvalidSpecs(t *testing.T) {
	p := New(clock.NewFake(t0), nil)
	defer p.Close()
	reqs := []analysis.Request{
		{Key: "d", Metric: deploy.AnalysisMetric{Name: "none"}},
		req("d", "url", deploy.ProbeSpec{URL: "ftp://x/"}),
		req("d", "method", deploy.ProbeSpec{URL: "http://127.0.0.1:1/", Method: "BAD METHOD"}),
		req("d", "rate", deploy.ProbeSpec{URL: "http://127.0.0.1:1/", Rate: -1}),
		req("d", "fast", deploy.ProbeSpec{URL: "http://127.0.0.1:1/", Rate: 1000}),
	}
	_, errs := p.Measure(context.Background(), t0, reqs)
	for i, err := range errs {
		if deploy.KindOf(err) != deploy.KindInvalid {
			t.Errorf("%s: %v, want invalid", reqs[i].Metric.Name, err)
		}
	}
	if _, ok := p.Counts("d", "url"); ok {
		t.Error("an invalid spec started a checker")
	}
}
