package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/notify"
)

const hookSecret = "webhook-secret-for-tests"

func webhookDispatcher(t *testing.T, s notify.EventSource, objs deploy.ObjectStore, r *receiver, clk clock.Clock, mut func(*notify.Options)) *notify.Dispatcher {
	t.Helper()
	o := notify.Options{Events: s, Objects: objs, Clock: clk,
		Sinks:        map[string]notify.Sink{"hook": notify.NewWebhook(r.srv.URL, notify.NewSecret([]byte(hookSecret)), nil, clk)},
		Routes:       []notify.Route{{Services: []string{"web"}, Actions: []string{"pause", "rollback", "succeeded"}, Sinks: []string{"hook"}}},
		PollInterval: 10 * time.Millisecond, Backoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}
	if mut != nil {
		mut(&o)
	}
	d, err := notify.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// markerStored waits until the sink's first start is recorded: events after it are news.
func markerStored(t *testing.T, objs deploy.ObjectStore, sink string) {
	eventually(t, "the sink's start marker", 5*time.Second, func() bool {
		cs, _ := objs.ListObjects(context.Background(), notify.KindCursor)
		for _, c := range cs {
			if c.ID == sink {
				return true
			}
		}
		return false
	})
}

// A dispatcher stopped with a delivery in flight and events appended while it is down, then started
// again (a new instance on the same store, as after a daemon restart), delivers every routed event:
// none lost, only the one in flight at the stop repeated, nothing unrouted and no history from before
// the sink existed.
func TestRestartLosesNothingAndRepeatsOnlyInFlight(t *testing.T) {
	s := openStore(t)
	r := newReceiver(t, hookSecret, time.Now)
	seed(t, s, "d1", "web")
	seed(t, s, "d2", "api")
	appendEvent(t, s, "d1", "web", "pause", time.Now().Add(-time.Hour)) // history: before the sink started

	stop := run(webhookDispatcher(t, s, s, r, clock.Real{}, nil))
	markerStored(t, s, "hook")
	var want []string
	for _, a := range []string{"pause", "create", "rollback", "succeeded"} {
		e := appendEvent(t, s, "d1", "web", a, time.Now())
		if a != "create" {
			want = append(want, e.ID)
		}
	}
	appendEvent(t, s, "d2", "api", "rollback", time.Now()) // another service: not routed to the hook
	eventually(t, "the first three deliveries", 5*time.Second, func() bool { return len(r.counts()) == 3 })

	// Block the endpoint, let a delivery start, and stop the dispatcher while it is in flight.
	r.mu.Lock()
	r.block, r.inside = make(chan struct{}), make(chan string, 16)
	inside := r.inside
	r.mu.Unlock()
	inFlight := appendEvent(t, s, "d1", "web", "pause", time.Now())
	if id := <-inside; id != inFlight.ID {
		t.Fatalf("in flight: %s, want %s", id, inFlight.ID)
	}
	stop()
	whileDown := appendEvent(t, s, "d1", "web", "rollback", time.Now())
	r.mu.Lock()
	close(r.block)
	r.block, r.inside = nil, nil
	r.mu.Unlock()

	stop = run(webhookDispatcher(t, s, s, r, clock.Real{}, nil))
	defer stop()
	want = append(want, inFlight.ID, whileDown.ID)
	eventually(t, "every routed event delivered after the restart", 5*time.Second, func() bool {
		return r.counts()[whileDown.ID] == 1
	})
	stop()
	counts := r.counts()
	for _, id := range want {
		n := counts[id]
		limit := 1
		if id == inFlight.ID {
			limit = 2 // in flight at the stop: sent again, the receiver dedupes on X-Switchyard-Delivery
		}
		if n < 1 || n > limit {
			t.Errorf("event %s delivered %d times, want 1..%d", id, n, limit)
		}
	}
	if len(counts) != len(want) {
		t.Errorf("delivered %d distinct events, want %d (unrouted or history sent): %v", len(counts), len(want), counts)
	}
	for _, d := range r.deliveries() {
		if d.VerifyErr != nil {
			t.Errorf("delivery %s: signature: %v", d.ID, d.VerifyErr)
		}
		if d.Msg.Event.Service != "web" || d.Msg.Deployment.ID != "d1" || d.Msg.Text == "" {
			t.Errorf("delivery %s: body %s", d.ID, d.Body)
		}
	}
}

// A dead endpoint is retried with exponential back-off on the injected clock, recorded as failed
// after MaxAttempts, and does not hold back the events after it; after a restart the given-up message
// is not sent again.
func TestDeadEndpointRetriedWithBackoffThenRecorded(t *testing.T) {
	s := openStore(t)
	clk := clock.NewFake(t0)
	r := newReceiver(t, hookSecret, clk.Now)
	seed(t, s, "d1", "web")
	dead := appendEvent(t, s, "d1", "web", "rollback", t0.Add(time.Second))
	r.status = func(d delivery) int {
		if d.ID == dead.ID {
			return 503
		}
		return 200
	}
	mut := func(o *notify.Options) {
		o.MaxAttempts, o.Backoff, o.MaxBackoff, o.PollInterval = 5, time.Second, 4*time.Second, time.Hour
	}
	stop := run(webhookDispatcher(t, s, s, r, clk, mut))
	for {
		fs, err := notify.Failures(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) > 0 {
			break
		}
		eventually(t, "the dispatcher parked on the clock", 5*time.Second, func() bool { return clk.Pending() > 0 })
		if clk.Now().Sub(t0) > time.Minute {
			t.Fatal("no failure recorded after a minute of virtual time")
		}
		clk.Advance(time.Second)
	}
	var offsets []time.Duration
	for _, d := range r.deliveries() {
		offsets = append(offsets, d.At.Sub(r.deliveries()[0].At))
	}
	want := []time.Duration{0, time.Second, 3 * time.Second, 7 * time.Second, 11 * time.Second} // 1s, 2s, 4s, 4s (capped)
	if len(offsets) != len(want) {
		t.Fatalf("attempts at %v, want %v", offsets, want)
	}
	for i := range want {
		if offsets[i] != want[i] {
			t.Fatalf("attempts at %v, want %v", offsets, want)
		}
	}
	fs, _ := notify.Failures(context.Background(), s)
	if f := fs[0]; f.Sink != "hook" || f.MessageID != dead.ID || f.Attempts != 5 || !strings.Contains(f.LastError, "503") || f.DeploymentID != "d1" {
		t.Errorf("failure record %+v", f)
	}

	next := appendEvent(t, s, "d1", "web", "succeeded", clk.Now())
	eventually(t, "the dispatcher parked on its poll", 5*time.Second, func() bool { return clk.Pending() > 0 })
	clk.Advance(time.Hour)
	eventually(t, "the next event delivered past the failed one", 5*time.Second, func() bool { return r.counts()[next.ID] == 1 })
	stop()

	stop = run(webhookDispatcher(t, s, s, r, clk, mut))
	eventually(t, "the restarted dispatcher parked on its poll", 5*time.Second, func() bool { return clk.Pending() > 0 })
	stop()
	if n := r.counts()[dead.ID]; n != 5 {
		t.Errorf("the given-up message was sent %d times in all, want 5 (not again after the restart)", n)
	}
}

// An endpoint answering 4xx (other than 408/429) cannot succeed by repetition: recorded at once.
func TestClientErrorRecordedWithoutRetries(t *testing.T) {
	s := openStore(t)
	clk := clock.NewFake(t0)
	r := newReceiver(t, hookSecret, clk.Now)
	r.status = func(delivery) int { return 400 }
	seed(t, s, "d1", "web")
	appendEvent(t, s, "d1", "web", "pause", t0.Add(time.Second))
	stop := run(webhookDispatcher(t, s, s, r, clk, nil))
	defer stop()
	eventually(t, "the failure recorded", 5*time.Second, func() bool {
		fs, _ := notify.Failures(context.Background(), s)
		return len(fs) == 1 && fs[0].Attempts == 1
	})
	if n := len(r.deliveries()); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
}

func TestMatch(t *testing.T) {
	routes := []notify.Route{
		{Services: []string{"web"}, Actions: []string{"rollback", "pause"}, Sinks: []string{"chat", "sns"}},
		{Actions: []string{"*"}, Sinks: []string{"hook", "sns"}},
		{Services: []string{"*"}, Actions: []string{"failed"}, Sinks: []string{"pager"}},
	}
	cases := []struct {
		service, action string
		want            string
	}{
		{"web", "rollback", "chat,sns,hook"},
		{"api", "rollback", "hook,sns"},
		{"api", "failed", "hook,sns,pager"},
		{"web", "create", "hook,sns"},
	}
	for _, c := range cases {
		got := strings.Join(notify.Match(routes, deploy.Event{Service: c.service, Action: c.action}), ",")
		if got != c.want {
			t.Errorf("%s %s: %q, want %q", c.service, c.action, got, c.want)
		}
	}
}

func TestConfigCheckNamesKeys(t *testing.T) {
	c := notify.Config{
		Sinks: map[string]notify.SinkConfig{
			"hook":  {Type: "webhook", URL: "ftp://x"},
			"chat":  {Type: "slack", URL: "https://hooks.slack.com/x", URLEnv: "SLACK"},
			"ops":   {Type: "sns", TopicARN: "topic"},
			"other": {Type: "pager"},
		},
		Routes: []notify.Route{{Actions: nil, Sinks: []string{"nope"}}},
		Links:  &notify.LinksConfig{BaseURL: "/links"},
	}
	err := c.Check()
	for _, want := range []string{"sinks.hook.url", "sinks.hook: set exactly one of secret_env", "sinks.chat: set exactly one of url",
		"sinks.ops.topic_arn", "sinks.other.type", "routes[0].actions", `routes[0].sinks: unknown sink "nope"`,
		"links.base_url", "links.owner", "links: set exactly one"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %q", err, want)
		}
	}
	ok := notify.Config{Sinks: map[string]notify.SinkConfig{"hook": {Type: "webhook", URL: "https://h/x", SecretEnv: "S"}},
		Routes: []notify.Route{{Actions: []string{"*"}, Sinks: []string{"hook"}}}}
	if err := ok.Check(); err != nil {
		t.Errorf("valid config refused: %v", err)
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	t.Setenv("NOTIFY_TEST_SECRET", "  s3cr3t-value \n")
	sec, err := notify.LoadSecret("NOTIFY_TEST_SECRET", "")
	if err != nil {
		t.Fatal(err)
	}
	if string(sec.Bytes()) != "s3cr3t-value" {
		t.Errorf("value %q", sec.Bytes())
	}
	b, _ := jsonMarshal(struct{ S notify.Secret }{sec})
	for _, s := range []string{sec.String(), string(b)} {
		if strings.Contains(s, "s3cr3t") {
			t.Errorf("secret shown: %s", s)
		}
	}
	if _, err := notify.LoadSecret("NOTIFY_TEST_UNSET", ""); err == nil || !strings.Contains(err.Error(), "NOTIFY_TEST_UNSET") {
		t.Errorf("empty variable: %v", err)
	}
}
