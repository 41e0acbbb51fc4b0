package loadgen_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/test/apptask"
	"github.com/switchyard/switchyard/test/traffic/loadgen"
)

func server(t *testing.T, spec apptask.Spec) *apptask.Server {
	t.Helper()
	s, err := apptask.Start(spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

func run(t *testing.T, o loadgen.Options) *loadgen.Results {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), o.Duration+30*time.Second)
	defer cancel()
	r, err := loadgen.Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRateHeldAndEveryRequestRecorded: 200/s for 2 s is 400 requests, every one recorded and every one
// the server counted, spread evenly over the two seconds.
func TestRateHeldAndEveryRequestRecorded(t *testing.T) {
	s := server(t, apptask.Spec{TaskARN: "arn:task/blue-1", Colour: "blue", Tag: "v1"})
	r := run(t, loadgen.Options{URL: "http://" + s.Addr() + "/api/x", Rate: 200, Duration: 2 * time.Second})
	if n := r.Total(); n < 396 || n > 402 {
		t.Fatalf("%d requests, want 400 (±1%%)", n)
	}
	if c := s.Counts(); c.Served != int64(r.Total()) {
		t.Errorf("server served %d, loadgen recorded %d", c.Served, r.Total())
	}
	if o := r.ByOutcome(); o[loadgen.OK] != r.Total() || r.ByColour()["blue"] != r.Total() || r.ByStatus()[200] != r.Total() {
		t.Errorf("outcomes %v colours %v statuses %v", o, r.ByColour(), r.ByStatus())
	}
	secs := r.PerSecond()
	if len(secs) < 2 || len(secs) > 3 {
		t.Fatalf("%d seconds:\n%s", len(secs), r.Table())
	}
	for _, sec := range secs[:2] {
		if sec.Total < 180 || sec.Total > 220 {
			t.Errorf("second %d had %d requests, want 200 ± 10%%:\n%s", sec.Index, sec.Total, r.Table())
		}
	}
	seen := map[uint64]bool{}
	for _, q := range r.Requests {
		if seen[q.Seq] || q.Start.IsZero() || q.Latency <= 0 || q.Task != "arn:task/blue-1" || q.Tag != "v1" {
			t.Fatalf("request %+v (duplicate %v)", q, seen[q.Seq])
		}
		seen[q.Seq] = true
	}
	if first, ok := r.FirstSeen("blue"); !ok || first.Sub(r.Began) > 50*time.Millisecond {
		t.Errorf("blue first seen %v after the start", first.Sub(r.Began))
	}
	if last, _ := r.LastSeen("blue"); last.Sub(r.Began) < 1900*time.Millisecond {
		t.Errorf("blue last seen %v after the start", last.Sub(r.Began))
	}
}

// TestFailuresCounted: the 500s the server chose are exactly the 5xx the load generator counted.
func TestFailuresCounted(t *testing.T) {
	tbl := apptask.NewTable(map[string]apptask.Behaviour{"bad": {ErrorRate: 0.2}})
	s := server(t, apptask.Spec{TaskARN: "arn:task/green-1", Colour: "green", Tag: "bad", Table: tbl, Seed: 7})
	r := run(t, loadgen.Options{URL: "http://" + s.Addr() + "/", Rate: 300, Duration: time.Second})
	c := s.Counts()
	fails := r.Failures(time.Time{}, time.Time{})
	if c.Errors == 0 || int64(len(fails)) != c.Errors || int64(r.ByStatus()[500]) != c.Errors || int64(r.Total()) != c.Served {
		t.Fatalf("server %+v; loadgen %d failures, statuses %v, total %d", c, len(fails), r.ByStatus(), r.Total())
	}
	if n := r.Count(func(q loadgen.Request) bool { return q.Colour == "green" && q.Status == 500 }); n != len(fails) {
		t.Errorf("Count of green 500s %d, failures %d", n, len(fails))
	}
	for _, f := range fails {
		if f.Outcome != loadgen.ServerError || f.Colour != "green" {
			t.Fatalf("failure %+v", f)
		}
	}
	// A time range: the failures of the first half and the second half add up.
	mid := r.Began.Add(500 * time.Millisecond)
	if a, b := len(r.Failures(time.Time{}, mid)), len(r.Failures(mid, time.Time{})); a+b != len(fails) || a == 0 || b == 0 {
		t.Errorf("halves %d + %d, total %d", a, b, len(fails))
	}
	var sum int
	for _, sec := range r.PerSecond() {
		sum += sec.ByFail[loadgen.ServerError]
	}
	if sum != len(fails) {
		t.Errorf("per-second 5xx sum %d, want %d", sum, len(fails))
	}
}

// TestTimeoutsAndConnectionErrors: answers slower than the timeout are timeouts; a task that is gone is
// a connection error. Both are failures; the load generator stops by itself regardless.
func TestTimeoutsAndConnectionErrors(t *testing.T) {
	tbl := apptask.NewTable(map[string]apptask.Behaviour{"slow": {Latency: time.Second}, "boom": {CrashOnStart: true}})
	slow := server(t, apptask.Spec{TaskARN: "arn:task/slow", Tag: "slow", Table: tbl})
	t0 := time.Now()
	r := run(t, loadgen.Options{URL: "http://" + slow.Addr() + "/", Rate: 40, Duration: 500 * time.Millisecond, Timeout: 100 * time.Millisecond})
	if o := r.ByOutcome(); r.Total() < 18 || o[loadgen.Timeout] != r.Total() {
		t.Fatalf("outcomes %v of %d", o, r.Total())
	}
	if d := time.Since(t0); d > 3*time.Second {
		t.Errorf("run took %v", d)
	}
	if len(r.Failures(time.Time{}, time.Time{})) != r.Total() {
		t.Errorf("timeouts are failures")
	}
	dead := server(t, apptask.Spec{TaskARN: "arn:task/dead", Tag: "boom", Table: tbl})
	r = run(t, loadgen.Options{URL: "http://" + dead.Addr() + "/", Rate: 40, Duration: 500 * time.Millisecond})
	if o := r.ByOutcome(); r.Total() < 18 || o[loadgen.ConnError] != r.Total() || r.ByStatus()[0] != r.Total() {
		t.Fatalf("outcomes %v statuses %v of %d", o, r.ByStatus(), r.Total())
	}
	if !strings.Contains(r.Requests[0].Err, "refused") {
		t.Errorf("error %q", r.Requests[0].Err)
	}
}

// TestColourSwitch: behind a switch that moves traffic from blue to green, the load generator sees
// when green first answered and when blue last did.
func TestColourSwitch(t *testing.T) {
	blue := server(t, apptask.Spec{TaskARN: "arn:task/b", Colour: "blue"})
	green := server(t, apptask.Spec{TaskARN: "arn:task/g", Colour: "green"})
	var toGreen atomic.Bool
	proxy := func(s *apptask.Server) *httputil.ReverseProxy {
		return httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: s.Addr()})
	}
	pb, pg := proxy(blue), proxy(green)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sw := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if toGreen.Load() {
			pg.ServeHTTP(w, r)
			return
		}
		pb.ServeHTTP(w, r)
	})}
	go func() { _ = sw.Serve(ln) }()
	t.Cleanup(func() { _ = sw.Close() })

	a, err := loadgen.Start(context.Background(), loadgen.Options{URL: "http://" + ln.Addr().String() + "/", Rate: 100, Duration: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for a.Snapshot().ByColour()["blue"] < 30 {
		if time.Now().After(deadline) {
			t.Fatal("no blue answers")
		}
		time.Sleep(10 * time.Millisecond)
	}
	switched := time.Now()
	toGreen.Store(true)
	for a.Snapshot().ByColour()["green"] < 30 {
		if time.Now().After(deadline) {
			t.Fatal("no green answers")
		}
		time.Sleep(10 * time.Millisecond)
	}
	a.Stop() // early: well before the 10 s
	r := a.Wait()
	if r.Ended.Sub(r.Began) > 5*time.Second {
		t.Errorf("Stop did not end the run: %v", r.Ended.Sub(r.Began))
	}
	firstGreen, ok := r.FirstSeen("green")
	lastBlue, _ := r.LastSeen("blue")
	if !ok || firstGreen.Before(switched.Add(-20*time.Millisecond)) || lastBlue.After(firstGreen) || firstGreen.Sub(switched) > 100*time.Millisecond {
		t.Errorf("switched at %v, green first %v, blue last %v", switched, firstGreen, lastBlue)
	}
	// No green answer before its first sighting, no blue one after its last.
	for _, q := range r.Between(time.Time{}, firstGreen) {
		if q.Colour == "green" {
			t.Fatalf("green answered at %v, before FirstSeen %v", q.Start, firstGreen)
		}
	}
	for _, q := range r.Between(lastBlue.Add(time.Nanosecond), time.Time{}) {
		if q.Colour == "blue" {
			t.Fatalf("blue answered at %v, after LastSeen %v", q.Start, lastBlue)
		}
	}
	if c := r.ByColour(); c["blue"]+c["green"] != r.Total() || len(r.Failures(time.Time{}, time.Time{})) != 0 {
		t.Errorf("colours %v of %d; %s", c, r.Total(), r.Summary())
	}
	if !strings.Contains(r.Table(), "green") {
		t.Errorf("table:\n%s", r.Table())
	}
}

func TestContextEndsRun(t *testing.T) {
	s := server(t, apptask.Spec{TaskARN: "arn:task/c"})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	r, err := loadgen.Run(ctx, loadgen.Options{URL: "http://" + s.Addr() + "/", Rate: 100, Duration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > 2*time.Second || r.Total() < 20 || r.Total() > 40 {
		t.Errorf("after %v: %d requests", d, r.Total())
	}
}

func TestRefusesOutOfBounds(t *testing.T) {
	ok := loadgen.Options{URL: "http://127.0.0.1:1/", Rate: 10, Duration: time.Second}
	for name, edit := range map[string]func(*loadgen.Options){
		"not loopback":  func(o *loadgen.Options) { o.URL = "http://10.1.2.3/" },
		"a name":        func(o *loadgen.Options) { o.URL = "http://example.com/" },
		"https":         func(o *loadgen.Options) { o.URL = "https://127.0.0.1/" },
		"zero rate":     func(o *loadgen.Options) { o.Rate = 0 },
		"huge rate":     func(o *loadgen.Options) { o.Rate = loadgen.MaxRate + 1 },
		"no duration":   func(o *loadgen.Options) { o.Duration = 0 },
		"long duration": func(o *loadgen.Options) { o.Duration = loadgen.MaxDuration + time.Second },
		"too many":      func(o *loadgen.Options) { o.Rate, o.Duration = loadgen.MaxRate, loadgen.MaxDuration },
	} {
		o := ok
		edit(&o)
		if _, err := loadgen.Start(context.Background(), o); err == nil {
			t.Errorf("%s: accepted %+v", name, o)
		}
	}
}
