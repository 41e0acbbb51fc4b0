package notify_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/notify"
)

// The whole loop: a release pauses before traffic, its pause reaches the webhook with signed links,
// the abort link's page is fetched (nothing happens), its button posted: the controller rolls the
// release back with the link's owner as the audit actor, and the link cannot be used again.
func TestPausedMessageLinkAbortsAsOwner(t *testing.T) {
	s := openStore(t)
	w := newWorld()
	c := startController(t, s, w)
	mux := http.NewServeMux()
	api := httptest.NewServer(mux)
	defer api.Close()
	links, err := notify.NewLinks(notify.NewSecret([]byte(linkSecret)), api.URL+"/v1/links", "oncall", time.Hour, clock.Real{}, s)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/v1/links", notify.LinkHandler(links, c, nil))

	r := newReceiver(t, hookSecret, time.Now)
	d, err := notify.New(notify.Options{Events: s, Objects: s, Links: links, DashboardURL: "https://switchyard.example",
		Sinks:        map[string]notify.Sink{"hook": notify.NewWebhook(r.srv.URL, notify.NewSecret([]byte(hookSecret)), nil, nil)},
		Routes:       []notify.Route{{Services: []string{"web"}, Actions: []string{"pause", "rollback", "rolled_back"}, Sinks: []string{"hook"}}},
		PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(d)
	defer stop()
	markerStored(t, s, "hook")

	strategy := deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 10, Bake: deploy.Duration(time.Hour), PauseBeforeTraffic: true}
	dep, err := c.Create(context.Background(), deploy.CreateRequest{Service: "web", ImageTag: "v2", Strategy: &strategy, Actor: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	var paused notify.Message
	eventually(t, "the pause message", 10*time.Second, func() bool {
		for _, dl := range r.deliveries() {
			if dl.Action == "pause" {
				paused = dl.Msg
				return true
			}
		}
		return false
	})
	if paused.Deployment.ID != dep.ID || paused.Event.State != deploy.StatePaused || paused.URL != "https://switchyard.example/#/deployments/"+dep.ID {
		t.Fatalf("pause message %+v", paused)
	}
	abort := paused.Links[notify.LinkAbort]
	if abort == "" || paused.Links[notify.LinkResume] == "" || paused.Links[notify.LinkPromote] == "" {
		t.Fatalf("links %v", paused.Links)
	}
	if code, _ := get(t, abort); code != 200 {
		t.Fatalf("GET the abort link: %d", code)
	}
	if got, _ := s.GetDeployment(context.Background(), dep.ID); got.State != deploy.StatePaused {
		t.Fatalf("a GET changed the deployment: %s", got.State)
	}
	post := func() int {
		resp, err := http.PostForm(strings.Split(abort, "?")[0], url.Values{"t": {mustQuery(t, abort)}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(); code != 200 {
		t.Fatalf("POST the abort link: %d", code)
	}
	eventually(t, "the rollback", 10*time.Second, func() bool {
		got, _ := s.GetDeployment(context.Background(), dep.ID)
		return got.State == deploy.StateRolledBack
	})
	if code := post(); code != http.StatusConflict {
		t.Errorf("second use: %d, want 409", code)
	}
	evs, _ := s.Events(context.Background(), dep.ID, 0)
	found := false
	for _, e := range evs {
		if e.Action == "rollback" { // an abort is audited as the rollback it starts, cause abort
			found = e.Actor == "oncall" && e.Detail["cause"] == "abort" && strings.Contains(e.Reason, "via notification link")
			b, _ := json.Marshal(e)
			t.Logf("audit: %s", b)
		}
	}
	if !found {
		t.Errorf("no abort by oncall via the link in the audit trail: %+v", evs)
	}
	eventually(t, "the rolled_back message, without links", 10*time.Second, func() bool {
		for _, dl := range r.deliveries() {
			if dl.Action == "rolled_back" {
				return len(dl.Msg.Links) == 0
			}
		}
		return false
	})
}

func TestSlackMessage(t *testing.T) {
	m := notify.Message{ID: "e1", URL: "https://dash/#/deployments/d1",
		Event:      deploy.Event{DeploymentID: "d1", Service: "web", Action: "pause", State: deploy.StatePaused, Actor: "controller", Reason: "check <@here> & go", Time: t0},
		Deployment: notify.DeploymentRef{ID: "d1", Service: "web", ImageTag: "v2"},
		Links:      map[string]string{"abort": "https://x/a", "resume": "https://x/r", "promote": "https://x/p"}}
	m.Text = notify.Summary(m)
	b, _ := json.Marshal(notify.SlackMessage(m))
	s := string(b)
	for _, want := range []string{`"text":"web deployment d1 (v2): pause [paused] by controller: check \u003c@here\u003e \u0026 go"`,
		`check \u0026lt;@here\u0026gt; \u0026amp; go`, `"type":"actions"`, `"url":"https://x/a"`, `"style":"danger"`, `"url":"https://dash/#/deployments/d1"`} {
		if !strings.Contains(s, want) {
			t.Errorf("slack message lacks %s:\n%s", want, s)
		}
	}
	if i, j, k := strings.Index(s, "https://x/r"), strings.Index(s, "https://x/p"), strings.Index(s, "https://x/a"); !(i < j && j < k) {
		t.Errorf("buttons not in resume, promote, abort order: %s", s)
	}
}
