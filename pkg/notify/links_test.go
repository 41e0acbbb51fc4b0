package notify_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/notify"
)

const linkSecret = "link-secret-at-least-16-bytes"

// fakeActions records the controller actions a link takes.
type fakeActions struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (f *fakeActions) do(kind string, req deploy.ActionRequest) (*deploy.Deployment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, kind+" "+req.ID+" as "+req.Actor)
	if f.err != nil {
		return nil, f.err
	}
	return &deploy.Deployment{ID: req.ID, Service: "web", State: deploy.StateShifting}, nil
}

func (f *fakeActions) Resume(_ context.Context, r deploy.ActionRequest) (*deploy.Deployment, error) {
	return f.do("resume", r)
}
func (f *fakeActions) Promote(_ context.Context, r deploy.ActionRequest) (*deploy.Deployment, error) {
	return f.do("promote", r)
}
func (f *fakeActions) Abort(_ context.Context, r deploy.ActionRequest) (*deploy.Deployment, error) {
	return f.do("abort", r)
}

func (f *fakeActions) taken() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

type linkEnv struct {
	links *notify.Links
	acts  *fakeActions
	srv   *httptest.Server
	clk   *clock.Fake
}

func newLinkEnv(t *testing.T) *linkEnv {
	t.Helper()
	s := openStore(t)
	clk := clock.NewFake(t0)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	l, err := notify.NewLinks(notify.NewSecret([]byte(linkSecret)), srv.URL+"/v1/links", "oncall", time.Hour, clk, s)
	if err != nil {
		t.Fatal(err)
	}
	acts := &fakeActions{}
	mux.Handle("/v1/links", notify.LinkHandler(l, acts, nil))
	return &linkEnv{links: l, acts: acts, srv: srv, clk: clk}
}

func (e *linkEnv) post(t *testing.T, link string) (int, string) {
	t.Helper()
	u, _ := url.Parse(link)
	resp, err := http.PostForm(e.srv.URL+u.Path, url.Values{"t": {u.Query().Get("t")}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func get(t *testing.T, link string) (int, string) {
	t.Helper()
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// GET shows a confirmation and changes nothing; the POST acts once as the link's owner; the second
// use is refused.
func TestLinkConfirmThenActOnceAsOwner(t *testing.T) {
	e := newLinkEnv(t)
	link, err := e.links.URL(notify.LinkAbort, "d1")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // a chat preview and the person: both only look
		code, body := get(t, link)
		if code != 200 || !strings.Contains(body, `method="post"`) || !strings.Contains(body, "d1") {
			t.Fatalf("GET: %d %s", code, body)
		}
	}
	if n := len(e.acts.taken()); n != 0 {
		t.Fatalf("GET acted %d times", n)
	}
	if code, body := e.post(t, link); code != 200 || !strings.Contains(body, "d1") {
		t.Fatalf("first use: %d %s", code, body)
	}
	if code, body := e.post(t, link); code != http.StatusConflict || !strings.Contains(body, "already used") {
		t.Fatalf("second use: %d %s", code, body)
	}
	if got := e.acts.taken(); len(got) != 1 || got[0] != "abort d1 as oncall" {
		t.Fatalf("actions %v, want one abort of d1 as oncall", got)
	}
	// A second link for the same action is a different link (its own nonce): usable once too.
	link2, _ := e.links.URL(notify.LinkAbort, "d1")
	if code, _ := e.post(t, link2); code != 200 {
		t.Errorf("a fresh link: %d", code)
	}
}

// Two uses at once: exactly one acts (the create-only claim decides).
func TestLinkConcurrentUsesActOnce(t *testing.T) {
	e := newLinkEnv(t)
	link, _ := e.links.URL(notify.LinkPromote, "d1")
	var wg sync.WaitGroup
	codes := make(chan int, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); c, _ := e.post(t, link); codes <- c }()
	}
	wg.Wait()
	close(codes)
	ok := 0
	for c := range codes {
		if c == 200 {
			ok++
		} else if c != http.StatusConflict {
			t.Errorf("status %d", c)
		}
	}
	if ok != 1 || len(e.acts.taken()) != 1 {
		t.Errorf("%d successes, %d actions; want 1 and 1", ok, len(e.acts.taken()))
	}
}

func TestLinkExpiredOrTamperedRefused(t *testing.T) {
	e := newLinkEnv(t)
	link, _ := e.links.URL(notify.LinkResume, "d1")
	tok := mustQuery(t, link)
	payload, sig, _ := strings.Cut(tok, ".")

	// Another deployment's claims under the original signature.
	other, _ := e.links.URL(notify.LinkResume, "d2")
	otherPayload, _, _ := strings.Cut(mustQuery(t, other), ".")
	flip := func(s string) string {
		b := []byte(s)
		if b[len(b)/2] == 'A' {
			b[len(b)/2] = 'B'
		} else {
			b[len(b)/2] = 'A'
		}
		return string(b)
	}
	forged, _ := notify.NewLinks(notify.NewSecret([]byte("another-secret-of-16-bytes")), e.srv.URL+"/v1/links", "oncall", time.Hour, e.clk, openStore(t))
	forgedLink, _ := forged.URL(notify.LinkResume, "d1")
	for name, bad := range map[string]string{
		"payload changed":   flip(payload) + "." + sig,
		"signature changed": payload + "." + flip(sig),
		"claims swapped":    otherPayload + "." + sig,
		"no signature":      payload,
		"empty":             "",
		"other secret":      mustQuery(t, forgedLink),
	} {
		u := e.srv.URL + "/v1/links?t=" + url.QueryEscape(bad)
		if code, _ := get(t, u); code != http.StatusUnauthorized {
			t.Errorf("%s: GET %d, want 401", name, code)
		}
		if code, _ := e.post(t, u); code != http.StatusUnauthorized {
			t.Errorf("%s: POST %d, want 401", name, code)
		}
	}
	e.clk.Advance(time.Hour) // the expiry itself is already too late
	if code, body := e.post(t, link); code != http.StatusGone || !strings.Contains(body, "expired") {
		t.Errorf("expired: %d %s", code, body)
	}
	if n := len(e.acts.taken()); n != 0 {
		t.Errorf("refused links acted %d times", n)
	}
}

// A link whose action the controller refuses stays used (single use is never given back) and says why.
func TestLinkActionRefusedByController(t *testing.T) {
	e := newLinkEnv(t)
	e.acts.err = deploy.Errorf("controller.Resume", deploy.KindPrecondition, "deployment d1 is not paused")
	link, _ := e.links.URL(notify.LinkResume, "d1")
	if code, body := e.post(t, link); code != http.StatusPreconditionFailed || !strings.Contains(body, "not paused") {
		t.Errorf("refused action: %d %s", code, body)
	}
	e.acts.err = nil
	if code, _ := e.post(t, link); code != http.StatusConflict {
		t.Errorf("reuse after a refused action: %d, want 409", code)
	}
}

func TestLinksForPausedAndHeldOnly(t *testing.T) {
	e := newLinkEnv(t)
	cases := []struct {
		ev   deploy.Event
		want string
	}{
		{deploy.Event{DeploymentID: "d1", Action: "pause", State: deploy.StatePaused}, "abort,promote,resume"},
		{deploy.Event{DeploymentID: "d1", Action: "step.hold", State: deploy.StateShifting}, "abort,promote"},
		{deploy.Event{DeploymentID: "d1", Action: "rollback", State: deploy.StateRollingBack}, ""},
	}
	for _, c := range cases {
		links, err := e.links.ForDeployment(c.ev)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for a := range links {
			got = append(got, a)
		}
		sortStrings(got)
		if strings.Join(got, ",") != c.want {
			t.Errorf("%s: links %v, want %s", c.ev.Action, got, c.want)
		}
	}
}

func mustQuery(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("t")
}
