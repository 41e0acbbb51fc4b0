package faultproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options configures a proxy.
type Options struct {
	Upstream string           // base URL of the AWS stand-in, e.g. http://127.0.0.1:4566
	Now      func() time.Time // clock for buckets and counts; time.Now if nil
}

// Proxy is a running fault-injecting reverse proxy on a loopback port. All methods are safe for
// concurrent use, also while calls are in flight.
type Proxy struct {
	upstream string
	now      func() time.Time
	srv      *http.Server
	ln       net.Listener
	client   *http.Client

	mu      sync.Mutex
	rules   []*liveRule
	buckets []*liveBucket
	nextID  int
	records []record
}

// Start listens on a free loopback port and proxies to opts.Upstream.
func Start(opts Options) (*Proxy, error) {
	if opts.Upstream == "" {
		return nil, errors.New("faultproxy: no upstream")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second}
	p := &Proxy{upstream: strings.TrimRight(opts.Upstream, "/"), now: opts.Now, ln: ln, client: &http.Client{Transport: tr}}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// URL is the proxy's base URL, to use as an SDK endpoint.
func (p *Proxy) URL() string { return "http://" + p.ln.Addr().String() }

// Upstream is the base URL the proxy forwards to.
func (p *Proxy) Upstream() string { return p.upstream }

// Close stops the proxy and cuts open connections.
func (p *Proxy) Close() {
	_ = p.srv.Close()
	p.client.CloseIdleConnections()
}

// ServeHTTP identifies, counts, and forwards or fails one call.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "faultproxy: read request: "+err.Error(), http.StatusBadRequest)
		return
	}
	call := identify(r, body)
	p.mu.Lock()
	now := p.now()
	act := p.decideLocked(call, now)
	p.records = append(p.records, record{at: now, key: call.Key(), outcome: act.outcome})
	p.mu.Unlock()

	if act.latency > 0 && !sleep(r.Context(), act.latency) {
		return
	}
	if act.fault != nil {
		act.fault.write(w, r, call)
		return
	}
	resp, err := p.forward(r, body)
	if err != nil {
		http.Error(w, "faultproxy: upstream: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	if act.drop {
		// The upstream has answered in full, so its side effect happened; the client never learns.
		_, _ = io.Copy(io.Discard, resp.Body)
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
		}
		return
	}
	for k, vs := range resp.Header {
		if !hopByHop(k) {
			w.Header()[k] = vs
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// forward sends the call, byte for byte, to the upstream (Host kept, as the SigV4 signature covers it).
func (p *Proxy) forward(r *http.Request, body []byte) (*http.Response, error) {
	out, err := http.NewRequestWithContext(r.Context(), r.Method, p.upstream+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, vs := range r.Header {
		if !hopByHop(k) {
			out.Header[k] = vs
		}
	}
	out.Host = r.Host
	return p.client.Do(out)
}

func hopByHop(h string) bool {
	switch http.CanonicalHeaderKey(h) {
	case "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
