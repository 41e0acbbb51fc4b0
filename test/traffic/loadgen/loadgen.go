// Package loadgen is an open-loop, constant-rate HTTP load generator for the test world (vegeta as a
// library). It records every request it sends: when it started, its status, latency, the colour that
// answered (apptask's X-Switchyard-Colour header) and its error (connection error or timeout). It only
// reaches loopback addresses, and a run is bounded in rate, duration and count: it stops by itself.
package loadgen

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Limits and defaults.
const (
	MaxRate        = 5000             // requests per second
	MaxDuration    = 15 * time.Minute // of one run
	MaxRequests    = 1_000_000        // Rate × Duration
	DefaultTimeout = 2 * time.Second
	maxWorkers     = 10_000
)

// Response headers read from each answer (apptask sets them).
const (
	HeaderColour = "X-Switchyard-Colour"
	HeaderTask   = "X-Switchyard-Task"
	HeaderTag    = "X-Switchyard-Tag"
)

// Options describe one run.
type Options struct {
	URL      string        // http:// on a loopback address (127.0.0.0/8, ::1 or localhost)
	Rate     int           // requests per second, 1..MaxRate
	Duration time.Duration // how long to send, up to MaxDuration
	Timeout  time.Duration // per request; 0: DefaultTimeout
	// NewConnections sends every request on a new connection (no keep-alive).
	NewConnections bool
	Header         http.Header // added to every request
}

// Attack is a run in progress.
type Attack struct {
	opts     Options
	attacker *vegeta.Attacker
	began    time.Time
	done     chan struct{}

	mu   sync.Mutex
	reqs []Request
	end  time.Time
}

// Run sends the load and returns every request once the last answer is in (or ctx ends the run early).
func Run(ctx context.Context, opts Options) (*Results, error) {
	a, err := Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	return a.Wait(), nil
}

// Start begins sending the load in the background. ctx's end stops it like Stop.
func Start(ctx context.Context, opts Options) (*Attack, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	client := &http.Client{
		Timeout: opts.Timeout,
		Transport: &http.Transport{
			Proxy:               nil, // never through a proxy from the environment
			DialContext:         loopbackDial,
			MaxIdleConnsPerHost: maxWorkers,
			DisableKeepAlives:   opts.NewConnections,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	// Open loop: enough workers that slow answers do not slow the sending, within the bound.
	workers := uint64(opts.Rate) * uint64(opts.Timeout/time.Second+2)
	a := &Attack{
		opts: opts,
		attacker: vegeta.NewAttacker(vegeta.Client(client), vegeta.MaxBody(0), vegeta.Redirects(vegeta.NoFollow),
			vegeta.MaxWorkers(min(workers, maxWorkers))),
		done: make(chan struct{}),
	}
	target := vegeta.Target{Method: http.MethodGet, URL: opts.URL, Header: opts.Header}
	a.began = time.Now()
	results := a.attacker.Attack(vegeta.NewStaticTargeter(target), vegeta.ConstantPacer{Freq: opts.Rate, Per: time.Second}, opts.Duration, "loadgen")
	go func() {
		select {
		case <-ctx.Done():
			a.attacker.Stop()
		case <-a.done:
		}
	}()
	go a.collect(results)
	return a, nil
}

func (o Options) validate() error {
	switch {
	case o.Rate < 1 || o.Rate > MaxRate:
		return fmt.Errorf("loadgen: rate %d/s out of 1..%d", o.Rate, MaxRate)
	case o.Duration <= 0 || o.Duration > MaxDuration:
		return fmt.Errorf("loadgen: duration %v out of (0, %v]", o.Duration, MaxDuration)
	case float64(o.Rate)*o.Duration.Seconds() > MaxRequests:
		return fmt.Errorf("loadgen: %d/s for %v is more than %d requests", o.Rate, o.Duration, MaxRequests)
	case o.Timeout > time.Minute:
		return fmt.Errorf("loadgen: timeout %v over a minute", o.Timeout)
	}
	u, err := url.Parse(o.URL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("loadgen: URL %q is not an http:// URL", o.URL)
	}
	if !loopbackHost(u.Hostname()) {
		return fmt.Errorf("loadgen: %s is not a loopback address", u.Hostname())
	}
	return nil
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

var dialer = &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}

// loopbackDial refuses anything but a loopback address, whatever the URL resolved to.
func loopbackDial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("loadgen: refusing to dial %s: not loopback", addr)
	}
	return dialer.DialContext(ctx, network, net.JoinHostPort(host, port))
}

func (a *Attack) collect(results <-chan *vegeta.Result) {
	defer close(a.done)
	for r := range results {
		req := record(r)
		a.mu.Lock()
		a.reqs = append(a.reqs, req)
		a.mu.Unlock()
	}
	a.mu.Lock()
	a.end = time.Now()
	a.mu.Unlock()
}

// record turns vegeta's result into a Request.
func record(r *vegeta.Result) Request {
	req := Request{Seq: r.Seq, Start: r.Timestamp, Latency: r.Latency, Status: int(r.Code), Err: r.Error}
	if r.Headers != nil {
		req.Colour, req.Task, req.Tag = r.Headers.Get(HeaderColour), r.Headers.Get(HeaderTask), r.Headers.Get(HeaderTag)
	}
	req.Outcome = classify(req.Status, r.Error)
	return req
}

func classify(status int, errText string) Outcome {
	switch {
	case status >= 500:
		return ServerError
	case status >= 400:
		return ClientError
	case status > 0 && errText == "":
		return OK
	case strings.Contains(errText, "Timeout") || strings.Contains(errText, "timeout") ||
		strings.Contains(errText, context.DeadlineExceeded.Error()):
		return Timeout
	default:
		return ConnError
	}
}

// Stop stops sending; requests in flight are still recorded. Wait returns once they are in.
func (a *Attack) Stop() { a.attacker.Stop() }

// Done is closed when the run is over and every request recorded.
func (a *Attack) Done() <-chan struct{} { return a.done }

// Wait waits for the run to end and returns every request.
func (a *Attack) Wait() *Results {
	<-a.done
	return a.Snapshot()
}

// Snapshot returns the requests answered so far (all of them once Done is closed).
func (a *Attack) Snapshot() *Results {
	a.mu.Lock()
	defer a.mu.Unlock()
	end := a.end
	if end.IsZero() {
		end = time.Now()
	}
	return newResults(a.opts, a.began, end, append([]Request(nil), a.reqs...))
}
