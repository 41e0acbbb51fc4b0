package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/deploy/storetest"
	"github.com/switchyard/switchyard/pkg/notify"
	"github.com/switchyard/switchyard/pkg/sqlite"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "switchyard.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// seed stores a pending deployment of service.
func seed(t *testing.T, s *sqlite.Store, id, service string) {
	t.Helper()
	if err := s.CreateDeployment(context.Background(), storetest.Pending(id, service, 0)); err != nil {
		t.Fatal(err)
	}
}

func appendEvent(t *testing.T, s *sqlite.Store, id, service, action string, at time.Time) deploy.Event {
	t.Helper()
	e := &deploy.Event{ID: id + "-" + action + "-" + at.Format("150405.000000000"), DeploymentID: id, Service: service,
		Time: at, Actor: "tester", Action: action, State: deploy.StateShifting, Reason: "because"}
	if err := s.AppendEvent(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	return *e
}

// delivery is one request the receiver saw.
type delivery struct {
	ID        string
	Action    string
	Signature string
	Body      []byte
	Msg       notify.Message
	At        time.Time // on the test's clock
	VerifyErr error
}

// receiver is a local webhook endpoint that verifies signatures and records every request.
type receiver struct {
	srv    *httptest.Server
	secret []byte
	now    func() time.Time

	mu     sync.Mutex
	got    []delivery
	status func(d delivery) int // nil: 200
	block  chan struct{}        // non-nil: every request waits for it to close (or the client to go)
	inside chan string          // receives each delivery id as its handler starts (when non-nil)
}

func newReceiver(t *testing.T, secret string, now func() time.Time) *receiver {
	r := &receiver{secret: []byte(secret), now: now}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	d := delivery{ID: req.Header.Get(notify.HeaderDelivery), Action: req.Header.Get(notify.HeaderEvent),
		Signature: req.Header.Get(notify.HeaderSignature), Body: body, At: r.now()}
	d.VerifyErr = notify.VerifySignature(r.secret, d.Signature, body, r.now(), 5*time.Minute)
	_ = json.Unmarshal(body, &d.Msg)
	r.mu.Lock()
	r.got = append(r.got, d)
	status, block, inside := r.status, r.block, r.inside
	r.mu.Unlock()
	if inside != nil {
		inside <- d.ID
	}
	if block != nil {
		select {
		case <-block:
		case <-req.Context().Done():
			return
		}
	}
	code := http.StatusOK
	if status != nil {
		code = status(d)
	}
	w.WriteHeader(code)
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

// counts returns how often each delivery id arrived with a 2xx outcome possible (every request).
func (r *receiver) counts() map[string]int {
	out := map[string]int{}
	for _, d := range r.deliveries() {
		out[d.ID]++
	}
	return out
}

// eventually waits until cond holds (the event a test expects), failing after limit.
func eventually(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// run starts d and returns a stop function that waits for it.
func run(d *notify.Dispatcher) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	return func() { cancel(); <-done }
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func sortStrings(s []string) { sort.Strings(s) }
