// Package apptask runs a real HTTP server for each ECS task of the test world, on its own loopback IP with a
// kernel-chosen port. What a task does follows its image tag, looked up in a Table the test sets and may
// change while tasks run: a share of requests answered 500, added latency, a slow start or a failing
// health check, or a crash at start. Every response names the task, colour and tag that served it, so a
// load generator in front of a load balancer can tell which colour answered.
package apptask

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Response headers every answer carries.
const (
	HeaderTask   = "X-Switchyard-Task"
	HeaderColour = "X-Switchyard-Colour"
	HeaderTag    = "X-Switchyard-Tag"
)

// DefaultHealthPath is the health check path when Spec.HealthPath is empty (the demo stack's target
// groups check /healthz).
const DefaultHealthPath = "/healthz"

// ErrCrashed is what Exited reports for a task whose image crashes on start.
var ErrCrashed = errors.New("apptask: essential container exited (crash on start)")

// Spec describes one task to run.
type Spec struct {
	TaskARN    string
	Service    string
	Colour     string
	Tag        string
	Table      *Table // nil: every tag is healthy and fast
	HealthPath string // "": DefaultHealthPath
	// Seed seeds the choice of which requests fail; 0 derives it from TaskARN, so runs repeat.
	Seed uint64
}

// Counts are a server's requests so far.
type Counts struct {
	Served         int64 // application requests answered (any status)
	Errors         int64 // application requests answered 5xx
	HealthChecks   int64 // health check requests answered
	HealthFailures int64 // health check requests answered 503
}

// Server is one running task.
type Server struct {
	spec    Spec
	ln      net.Listener
	ip      string
	srv     *http.Server
	started time.Time
	port    int

	rngMu sync.Mutex
	rng   *rand.Rand

	served, errs, checks, checkFails atomic.Int64
	metrics                          *metrics

	exitOnce sync.Once
	exited   chan error
	done     chan struct{} // closed when the task has exited (Exited is for ECS, which drains it)
	stopOnce sync.Once
}

// Start runs the task. A task whose tag's behaviour is CrashOnStart gets a port but never serves: its
// listener is closed at once and Exited reports ErrCrashed.
func Start(spec Spec) (*Server, error) {
	if spec.HealthPath == "" {
		spec.HealthPath = DefaultHealthPath
	}
	seed := spec.Seed
	if seed == 0 {
		h := fnv.New64a()
		_, _ = h.Write([]byte(spec.TaskARN))
		seed = h.Sum64()
	}
	ip := nextIP()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		return nil, fmt.Errorf("apptask: listen: %w", err)
	}
	s := &Server{
		spec: spec, ln: ln, ip: ip, started: time.Now(), port: ln.Addr().(*net.TCPAddr).Port,
		rng:    rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		exited: make(chan error, 1), done: make(chan struct{}), metrics: newMetrics(),
	}
	if spec.Table.Get(spec.Tag).CrashOnStart {
		_ = ln.Close()
		s.exit(ErrCrashed)
		return s, nil
	}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serveHTTP), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		err := s.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.exit(err)
	}()
	return s, nil
}

// IP is the loopback address the task listens on: each task gets its own, as each ECS task has its
// own ENI, because kumo (like the ALB's API) keys a target group's registrations by target id.
func (s *Server) IP() string { return s.ip }

var ipSeq atomic.Uint32

// nextIP hands out 127.0.1.1, 127.0.1.2, ... (Linux routes all of 127/8 to the loopback interface).
func nextIP() string {
	n := ipSeq.Add(1) - 1
	return fmt.Sprintf("127.%d.%d.%d", 1+n/(250*250)%250, n/250%250, n%250+1)
}

// Port is the task's kernel-chosen port.
func (s *Server) Port() int { return s.port }

// Addr is IP:port.
func (s *Server) Addr() string { return fmt.Sprintf("%s:%d", s.IP(), s.port) }

// Spec returns what the task was started with.
func (s *Server) Spec() Spec { return s.spec }

// Exited receives the task's exit: ErrCrashed for a crash, nil after Stop, then it is closed.
func (s *Server) Exited() <-chan error { return s.exited }

func (s *Server) exit(err error) {
	s.exitOnce.Do(func() {
		s.exited <- err
		close(s.exited)
		close(s.done)
	})
}

// Done is closed once the task has exited (stopped, crashed or never started serving). Unlike
// Exited, which the ECS stand-in drains, any number of watchers may wait on it.
func (s *Server) Done() <-chan struct{} { return s.done }

// Stop stops the task like ECS does (SIGTERM): no new connections, in-flight requests finish within
// five seconds, then it is gone. Stopping a stopped or crashed task does nothing.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		if s.srv == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			_ = s.srv.Close()
		}
	})
}

// Crash kills the task at once, as if its container died: open connections are cut and Exited reports err.
func (s *Server) Crash(err error) {
	if err == nil {
		err = errors.New("apptask: task killed")
	}
	s.exit(err)
	s.stopOnce.Do(func() {
		if s.srv != nil {
			_ = s.srv.Close()
		}
	})
}

// Counts returns the requests served so far.
func (s *Server) Counts() Counts {
	return Counts{Served: s.served.Load(), Errors: s.errs.Load(), HealthChecks: s.checks.Load(), HealthFailures: s.checkFails.Load()}
}

// body is the JSON an application request is answered with.
type body struct {
	Task    string `json:"task"`
	Service string `json:"service"`
	Colour  string `json:"colour"`
	Tag     string `json:"tag"`
	Status  int    `json:"status"`
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	began := time.Now()
	b := s.spec.Table.Get(s.spec.Tag)
	h := w.Header()
	h.Set(HeaderTask, s.spec.TaskARN)
	h.Set(HeaderColour, s.spec.Colour)
	h.Set(HeaderTag, s.spec.Tag)
	switch r.URL.Path {
	case s.spec.HealthPath:
		s.health(w, b)
		return
	case MetricsPath:
		s.metrics.handler.ServeHTTP(w, r)
		return
	}
	// Latency applies to application requests only: a health endpoint rarely runs the slow code path,
	// and a delayed check would turn a latency regression into a health failure.
	if b.Latency > 0 {
		t := time.NewTimer(b.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return // the client gave up; nothing to answer
		}
	}
	status := http.StatusOK
	if s.fails(b.ErrorRate) {
		status = http.StatusInternalServerError
		s.errs.Add(1)
	}
	s.served.Add(1)
	h.Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body{Task: s.spec.TaskARN, Service: s.spec.Service, Colour: s.spec.Colour, Tag: s.spec.Tag, Status: status})
	// Observed after the answer is written, as django-prometheus' middleware does: the added latency shows.
	s.metrics.observe(status, began)
}

func (s *Server) health(w http.ResponseWriter, b Behaviour) {
	s.checks.Add(1)
	if b.FailHealth || time.Since(s.started) < b.SlowStart {
		s.checkFails.Add(1)
		http.Error(w, "unhealthy", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

// fails draws whether this request is answered 500.
func (s *Server) fails(rate float64) bool {
	if rate <= 0 {
		return false
	}
	if rate >= 1 {
		return true
	}
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.Float64() < rate
}
