package probe

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/pkg/analysis/judge"
	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/deploy"
)

// Failure is why a check failed.
type Failure string

const (
	FailStatus     Failure = "status"     // an answer with another status than expected
	FailBody       Failure = "body"       // the expected text is not in the body
	FailTimeout    Failure = "timeout"    // no complete answer within the timeout
	FailConnection Failure = "connection" // no answer: refused, reset, DNS, TLS
)

// maxBody is how much of an answer is read to look for the expected text.
const maxBody = 1 << 20

// Counts are a checker's cumulative counts since it started.
type Counts struct {
	Checks   float64 // checks completed, failed ones included
	Failures map[Failure]float64
	// Buckets: checks completed within each of Bounds (cumulative; Checks is the +Inf bucket).
	Buckets []judge.Bucket
}

// checker probes one URL at a fixed rate until stopped.
type checker struct {
	clk      clock.Clock
	client   Doer
	spec     deploy.ProbeSpec // as given, to notice a changed spec
	method   string
	url      string
	status   int
	interval time.Duration
	timeout  time.Duration
	// burst is the most ticks one wake-up fires when the clock jumped (a Fake advanced by seconds,
	// or a stalled process): one second's worth, so a stall never turns into a flood.
	burst    int64
	inflight atomic.Int64
	maxIn    int64

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	wg     sync.WaitGroup

	mu       sync.Mutex
	checks   float64
	failures map[Failure]float64
	buckets  []float64
}

func newChecker(clk clock.Clock, client Doer, spec deploy.ProbeSpec) (*checker, error) {
	const op = "probe.Measure"
	u, err := url.Parse(spec.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, deploy.Errorf(op, deploy.KindInvalid, "probe url %q is not an http(s) URL", spec.URL)
	}
	method := strings.ToUpper(spec.Method)
	if method == "" {
		method = http.MethodGet
	}
	if _, err := http.NewRequest(method, spec.URL, nil); err != nil {
		return nil, deploy.Errorf(op, deploy.KindInvalid, "probe method %q: %v", spec.Method, err)
	}
	rate := spec.Rate
	if rate == 0 {
		rate = DefaultRate
	}
	if rate < 0 || rate > MaxRate || math.IsNaN(rate) {
		return nil, deploy.Errorf(op, deploy.KindInvalid, "probe rate %v: want 0 < rate <= %v per second", spec.Rate, MaxRate)
	}
	timeout := spec.Timeout.D()
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	status := spec.Status
	if status == 0 {
		status = DefaultStatus
	}
	c := &checker{
		clk: clk, client: client, spec: spec, method: method, url: spec.URL, status: status,
		interval: time.Duration(float64(time.Second) / rate), timeout: timeout,
		burst:    int64(math.Max(1, math.Ceil(rate))),
		failures: make(map[Failure]float64), buckets: make([]float64, len(Bounds)),
		done: make(chan struct{}),
	}
	// A target that hangs keeps about rate x timeout checks open; beyond that ticks are skipped.
	c.maxIn = int64(math.Ceil(rate*timeout.Seconds())) + 1
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// run fires check n at start + n*interval (check 0 at once), on the injected clock.
func (c *checker) run() {
	defer close(c.done)
	start := c.clk.Now()
	var n int64
	for {
		now := c.clk.Now()
		due := int64(now.Sub(start)/c.interval) + 1
		if due-n > c.burst {
			n = due - c.burst
		}
		for ; n < due; n++ {
			c.fire()
		}
		wake, stop := c.clk.After(start.Add(time.Duration(n) * c.interval).Sub(now))
		select {
		case <-wake:
		case <-c.ctx.Done():
			stop()
			return
		}
	}
}

func (c *checker) fire() {
	if c.inflight.Load() >= c.maxIn {
		return
	}
	c.inflight.Add(1)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer c.inflight.Add(-1)
		c.check()
	}()
}

// check sends one request and records its outcome. A check cut short by stop is not counted.
func (c *checker) check() {
	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	var timedOut atomic.Bool
	expired, stopTimer := c.clk.After(c.timeout)
	defer stopTimer()
	go func() {
		select {
		case <-expired:
			timedOut.Store(true)
			cancel()
		case <-ctx.Done():
		}
	}()
	t0 := c.clk.Now()
	fail, counted := c.send(ctx, &timedOut)
	if !counted {
		return
	}
	c.record(c.clk.Now().Sub(t0), fail)
}

// send returns the failure ("" for a pass) and whether the check counts at all.
func (c *checker) send(ctx context.Context, timedOut *atomic.Bool) (Failure, bool) {
	req, err := http.NewRequestWithContext(ctx, c.method, c.url, nil)
	if err != nil {
		return FailConnection, true
	}
	for k, v := range c.spec.Headers {
		if strings.EqualFold(k, "host") {
			req.Host = v // Go sends Host from req.Host, not from the header map
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return c.errFailure(timedOut)
	}
	defer resp.Body.Close()
	var body []byte
	if c.spec.Body != "" {
		body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
	} else {
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody)) // lets the connection be reused
	}
	if err != nil {
		return c.errFailure(timedOut)
	}
	switch {
	case resp.StatusCode != c.status:
		return FailStatus, true
	case c.spec.Body != "" && !bytes.Contains(body, []byte(c.spec.Body)):
		return FailBody, true
	}
	return "", true
}

func (c *checker) errFailure(timedOut *atomic.Bool) (Failure, bool) {
	switch {
	case timedOut.Load():
		return FailTimeout, true
	case c.ctx.Err() != nil:
		return "", false // stopped
	}
	return FailConnection, true
}

func (c *checker) record(latency time.Duration, fail Failure) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checks++
	if fail != "" {
		c.failures[fail]++
	}
	s := latency.Seconds()
	for i, le := range Bounds {
		if s <= le {
			c.buckets[i]++
		}
	}
}

func (c *checker) counts() Counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := Counts{Checks: c.checks, Failures: make(map[Failure]float64, len(c.failures)),
		Buckets: make([]judge.Bucket, len(Bounds))}
	for k, v := range c.failures {
		out.Failures[k] = v
	}
	for i, le := range Bounds {
		out.Buckets[i] = judge.Bucket{Le: le, Count: c.buckets[i]}
	}
	return out
}

func (c *checker) arm() judge.Arm {
	cs := c.counts()
	var errs float64
	for _, v := range cs.Failures {
		errs += v
	}
	return judge.Arm{Requests: cs.Checks, Errors: errs, Buckets: cs.Buckets}
}

// stop ends the schedule, cancels the checks in flight and waits for them.
func (c *checker) stop() {
	c.cancel()
	<-c.done
	c.wg.Wait()
}
