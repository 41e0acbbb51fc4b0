package notify_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/notify"
)

// FromConfig builds what the daemon runs: secrets from the environment, the link route at the base
// URL's path, and a dispatcher that delivers.
func TestFromConfigRuns(t *testing.T) {
	t.Setenv("TEST_HOOK_SECRET", hookSecret)
	t.Setenv("TEST_LINK_SECRET", linkSecret)
	s := openStore(t)
	r := newReceiver(t, hookSecret, time.Now)
	cfg := notify.Config{
		Sinks:        map[string]notify.SinkConfig{"hook": {Type: notify.SinkWebhook, URL: r.srv.URL, SecretEnv: "TEST_HOOK_SECRET"}},
		Routes:       []notify.Route{{Actions: []string{"pause"}, Sinks: []string{"hook"}}},
		Links:        &notify.LinksConfig{BaseURL: "https://switchyard.internal/v1/links", Owner: "oncall", SecretEnv: "TEST_LINK_SECRET"},
		PollInterval: deploy.Duration(5 * time.Millisecond),
	}
	rt, err := notify.FromConfig(cfg, notify.Deps{Events: s, Objects: s, Actions: &fakeActions{}, Clock: clock.Real{}})
	if err != nil {
		t.Fatal(err)
	}
	path, h := rt.LinkRoute()
	if path != "/v1/links" || h == nil {
		t.Fatalf("link route %q %v", path, h)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rt.Start(ctx)
	defer func() { cancel(); rt.Wait() }()
	markerStored(t, s, "hook")
	seed(t, s, "d1", "web")
	e := &deploy.Event{ID: "p1", DeploymentID: "d1", Service: "web", Time: time.Now(), Actor: "controller", Action: "pause", State: deploy.StatePaused}
	if err := s.AppendEvent(ctx, e); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the pause delivered", 5*time.Second, func() bool { return r.counts()["p1"] == 1 })
	msg := r.deliveries()[0].Msg
	link := msg.Links[notify.LinkResume]
	if !strings.HasPrefix(link, "https://switchyard.internal/v1/links?t=") {
		t.Fatalf("link %q", link)
	}
	// The daemon's handler verifies what the dispatcher signed.
	req := httptest.NewRequest(http.MethodGet, "/v1/links?t="+mustQuery(t, link), nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Header().Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("GET the link: %d %v", rec.Code, rec.Header())
	}

	cfg.Sinks["hook"] = notify.SinkConfig{Type: notify.SinkWebhook, URL: r.srv.URL, SecretEnv: "TEST_UNSET_SECRET"}
	if _, err := notify.FromConfig(cfg, notify.Deps{Events: s, Objects: s}); err == nil ||
		!strings.Contains(err.Error(), "notifications.sinks.hook") || !strings.Contains(err.Error(), "TEST_UNSET_SECRET") {
		t.Errorf("missing secret: %v", err)
	}
}
