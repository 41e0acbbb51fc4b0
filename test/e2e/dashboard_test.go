package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/switchyard/switchyard/pkg/api/apitest"
	"github.com/switchyard/switchyard/pkg/dashboard"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/eventhub"
)

// browser starts Debian's chromium, headless, on a fresh profile, for loopback pages only. Without
// it the test is skipped on a workstation and fails in CI (scripts/tools.sh installs it).
func browser(t *testing.T) context.Context {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed (apt-get install -y chromium)")
		}
		t.Skip("chromium is not installed (apt-get install -y chromium)")
	}
	alloc, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin), chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 1000))
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(alloc)
	t.Cleanup(cancel2)
	if err := chromedp.Do(ctx); err != nil { // starts the browser on a context without a deadline
		t.Fatal(err)
	}
	return ctx
}

// do runs actions with a deadline (a derived context: a deadline on the first run would bound the
// browser's life).
func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(c, actions...); err != nil {
		t.Fatalf("%s: %v\npage: %s", what, err, pageText(ctx))
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitJS waits until the page's expression is true.
func waitJS(t *testing.T, ctx context.Context, what, js string, timeout time.Duration) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, timeout+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(c, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		t.Fatalf("waiting for %s: %v\npage: %s", what, err, pageText(ctx))
	}
}

// pageText is what the page shows and its script's state, for a failure message.
func pageText(ctx context.Context) string {
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(c, chromedp.Evaluate[string](`JSON.stringify({errors: window.__errors || [], active: typeof S === 'undefined' ? null : S.active, details: typeof S === 'undefined' ? null : Object.keys(S.details), text: document.body.innerText.slice(0, 3000)})`))
	if err != nil {
		return err.Error()
	}
	return s
}

// screenshot saves the page to $SWITCHYARD_SCREENSHOTS (docs/images when refreshing the docs) or a
// temporary directory.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("SWITCHYARD_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(c, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func signIn(t *testing.T, ctx context.Context, url, token string) {
	t.Helper()
	do(t, ctx, "sign in", chromedp.Navigate(url+"/"), chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SetValue(chromedp.CSS("#token"), token), chromedp.Click(chromedp.CSS("#signin-button")),
		chromedp.WaitVisible(chromedp.CSS("#services tbody tr")))
}

// The dashboard in a real headless Chromium against a real `switchyard serve` on the emulator: it
// follows a deployment live (the weights change on the page with no reload), a read-only user sees it
// all and has no buttons, forged actions are refused (read-only session, no CSRF token, a page of
// another origin), and an abort from the page rolls the deployment back.
func TestDashboardInChromium(t *testing.T) {
	admin := browser(t)
	e := newEnv(t, "dash", poll, "")
	url := e.d.URL

	do(t, admin, "open", chromedp.Navigate(url+"/"), chromedp.WaitVisible(chromedp.CSS("#token")))
	screenshot(t, admin, "dashboard-signin.png")
	// No session, no data: the page holds none and its data endpoints refuse.
	if st := eval[int](t, admin, `fetch('/ui/api/overview').then(r => r.status)`); st != 401 {
		t.Fatalf("overview without a session: %d", st)
	}
	signIn(t, admin, url, adminToken)
	eval[bool](t, admin, `window.__notReloaded = true`)
	waitJS(t, admin, "the live stream", `document.querySelector('#live').textContent === 'live'`, 10*time.Second)

	d := e.deploy("v2", steps(10, 2*time.Second, 50, 90*time.Second, 100, time.Duration(0)))
	weights := fmt.Sprintf(`document.querySelector('[data-testid="weights-%s"]')`, d.ID)
	// The deployment appears and its weights move on the page, from the stream alone.
	waitJS(t, admin, "the canary at 10% on the page", weights+`?.dataset.green === '100'`, 30*time.Second)
	waitJS(t, admin, "50% on the page", weights+`?.dataset.green === '500'`, 30*time.Second)
	waitJS(t, admin, "the service's weights on the page", `document.querySelector('[data-testid="weights-service-`+e.name+`"]')?.dataset.green === '500'`, 30*time.Second)
	if !eval[bool](t, admin, `window.__notReloaded === true`) {
		t.Fatal("the page reloaded")
	}
	if got := e.waitFor(d.ID, "50%", 10*time.Second, func(d *deploy.Deployment) bool { return d.Weights.Green == 500 }); got.State != deploy.StateShifting {
		t.Fatalf("state %s", got.State)
	}
	waitJS(t, admin, "the bake countdown", fmt.Sprintf(`document.querySelector('[data-bake-id="%s"]')?.textContent.includes('left')`, d.ID), 5*time.Second)
	screenshot(t, admin, "dashboard-active.png")

	// A read-only user (another browser, so another cookie jar) sees the same deployment and has no
	// action button.
	viewer := browser(t)
	signIn(t, viewer, url, roToken)
	do(t, viewer, "the deployment for the viewer", chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`[data-deployment="%s"]`, d.ID))))
	if n := eval[int](t, viewer, `document.querySelectorAll('button[data-action]').length`); n != 0 {
		t.Fatalf("the read-only user has %d action buttons", n)
	}
	if n := eval[int](t, admin, fmt.Sprintf(`document.querySelectorAll('button[data-action][data-id="%s"]').length`, d.ID)); n < 2 {
		t.Fatalf("the admin has %d action buttons", n)
	}
	screenshot(t, viewer, "dashboard-readonly.png")

	// Forged actions. The read-only session with its own valid CSRF token, from the page:
	abort := fmt.Sprintf(`'/ui/api/deployments/%s/abort'`, d.ID)
	if st := eval[int](t, viewer, `fetch(`+abort+`, {method: 'POST', headers: {'Content-Type': 'application/json', 'X-CSRF-Token': S.session.csrf_token}, body: '{"reason":"forged"}'}).then(r => r.status)`); st != 403 {
		t.Fatalf("abort from a read-only session: %d", st)
	}
	// The admin's session without the CSRF token:
	if st := eval[int](t, admin, `fetch(`+abort+`, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{"reason":"forged"}'}).then(r => r.status)`); st != 403 {
		t.Fatalf("abort without a CSRF token: %d", st)
	}
	// A page of another origin (same host, other port: the browser sends the SameSite cookie, the
	// Origin check refuses) posting a form at the daemon, in the admin's browser.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><form id=f method=post enctype=text/plain action="%s/ui/api/deployments/%s/abort"><input name='{"reason":"x","a":"' value='"}'></form><script>document.getElementById('f').submit()</script>`, url, d.ID)
	}))
	defer evil.Close()
	// (In the dashboard's own tab: chromedp's evaluations hang in a second tab of a browser.)
	do(t, admin, "the forging page", chromedp.Navigate(evil.URL))
	waitJS(t, admin, "the forged form's answer", `location.href.includes('/abort') && document.body.innerText.includes('forbidden')`, 10*time.Second)
	if body := eval[string](t, admin, `document.body.innerText`); !strings.Contains(body, "cross-origin request refused") {
		t.Fatalf("forged form answered %s", body)
	}
	if got, err := e.c.Deployment(e.ctx, d.ID); err != nil || got.State != deploy.StateShifting {
		t.Fatalf("after the forged requests: %+v %v", got, err)
	}
	// Back to the dashboard: the session holds.
	do(t, admin, "back to the dashboard", chromedp.Navigate(url+"/"), chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`[data-deployment="%s"]`, d.ID))))
	eval[bool](t, admin, `window.__notReloaded = true`)

	// The abort from the page, with a reason, rolls it back.
	do(t, admin, "abort", chromedp.Click(chromedp.CSS(fmt.Sprintf(`button[data-action="abort"][data-id="%s"]`, d.ID))),
		chromedp.WaitVisible(chromedp.CSS("#confirm-reason")), chromedp.SetValue(chromedp.CSS("#confirm-reason"), "e2e: abort from the dashboard"),
		chromedp.Click(chromedp.CSS("#confirm-ok")))
	done := e.waitState(d.ID, deploy.StateRolledBack, 30*time.Second)
	if done.Cause != deploy.CauseAbort || !strings.Contains(done.Reason, "e2e-admin: e2e: abort from the dashboard") {
		t.Fatalf("cause %s reason %q", done.Cause, done.Reason)
	}
	e.assertWeights(deploy.AllOn(deploy.SlotBlue))
	if acts := e.actions(d.ID); !slices.Contains(acts, "e2e-admin:rollback") {
		t.Fatalf("audit trail %v has no rollback by the dashboard's token", acts)
	}
	waitJS(t, admin, "rolled_back on the page", fmt.Sprintf(`document.querySelector('#history tr[data-id="%s"] .state')?.textContent === 'rolled_back'`, d.ID), 15*time.Second)
	if !eval[bool](t, admin, `window.__notReloaded === true`) {
		t.Fatal("the page reloaded")
	}
	// The deployment's page: plan, weights over time and the audit trail with the abort.
	do(t, admin, "open the deployment", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#history tr[data-id="%s"]`, d.ID))),
		chromedp.WaitVisible(chromedp.CSS(`#selected tr[data-action="rolled_back"]`)))
	screenshot(t, admin, "dashboard-deployment.png")
}

// tokenAuth is a fixed token set for the dashboard over a fake controller.
type tokenAuth map[string]string

func (a tokenAuth) Identify(secret string) (string, bool, bool) {
	n, ok := a[secret]
	return n, false, ok
}

// The per-colour error-rate and latency charts, drawn from a deployment's analysis points. The
// emulated world has no Prometheus, so this one runs the dashboard over the API's fake controller
// in the same browser: the page draws one chart per metric, each colour a line, and the verdicts.
func TestDashboardAnalysisChartsInChromium(t *testing.T) {
	ctx := browser(t)
	ctl := apitest.New("web")
	start := time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC)
	d := deploy.Deployment{ID: "d-analysis", Service: "web", ImageTag: "v7", State: deploy.StateShifting, Step: 1,
		From: deploy.SlotBlue, To: deploy.SlotGreen, Weights: deploy.Weights{Blue: 899, Green: 100}, CreatedBy: "alice", CreatedAt: start, UpdatedAt: start,
		Steps: []deploy.Step{{Kind: deploy.StepAnalysis, Bake: deploy.Duration(time.Minute)}, {Percent: 10, Bake: deploy.Duration(10 * time.Minute)}, {Percent: 100}},
		Spec: deploy.Service{Name: "web", Analysis: &deploy.AnalysisSpec{Metrics: []deploy.AnalysisMetric{
			{Name: "errors", Provider: deploy.ProviderPrometheus, Judge: deploy.JudgeErrors},
			{Name: "latency", Provider: deploy.ProviderPrometheus, Judge: deploy.JudgeLatency}}}},
		Analysis: &deploy.AnalysisRun{StartedAt: start, Verdict: deploy.VerdictFail, Why: "errors: green's error rate is higher than blue's",
			Metrics: []deploy.MetricStatus{{Name: "errors", Verdict: deploy.VerdictFail, Why: "rate ratio 3.1"}, {Name: "latency", Verdict: deploy.VerdictInconclusive}}}}
	for i := 0; i < 30; i++ {
		at := start.Add(time.Duration(i) * 10 * time.Second)
		d.Analysis.Points = append(d.Analysis.Points,
			deploy.AnalysisPoint{At: at, Metric: "errors", BaseRequests: 900, BaseErrors: 9, CanaryRequests: 100, CanaryErrors: float64(1 + i/5), Verdict: deploy.VerdictInconclusive},
			deploy.AnalysisPoint{At: at, Metric: "latency", BaseRequests: 900, CanaryRequests: 100, BaseValue: 0.120, CanaryValue: 0.120 + 0.2*float64(i)/30, Verdict: deploy.VerdictInconclusive})
	}
	ctl.Put(d)
	dash := dashboard.New(dashboard.Options{Controller: ctl, Auth: tokenAuth{adminToken: "alice"}, Hub: eventhub.New()})
	ts := httptest.NewServer(dash)
	defer ts.Close()
	defer dash.Close() // first: the page's stream would hold ts.Close

	signIn(t, ctx, ts.URL, adminToken)
	do(t, ctx, "the charts", chromedp.WaitVisible(chromedp.CSS(`svg[aria-label="latency latency p90 (s)"]`)))
	labels := eval[[]string](t, ctx, `[...document.querySelectorAll('[data-deployment="d-analysis"] svg.chart')].map(s => s.getAttribute('aria-label'))`)
	want := []string{"traffic per colour (%)", "errors error rate", "latency latency p90 (s)"}
	if !slices.Equal(labels, want) {
		t.Fatalf("charts %v, want %v", labels, want)
	}
	// Two lines per analysis chart, blue (live) and green (new), each with a point per interval.
	lines := eval[[]string](t, ctx, `[...document.querySelectorAll('svg[aria-label="errors error rate"] path')].map(p => p.getAttribute('class') + ':' + (p.getAttribute('d').match(/L/g) || []).length)`)
	if !slices.Equal(lines, []string{"s-blue:29", "s-green:29"}) {
		t.Fatalf("error-rate lines %v", lines)
	}
	if v := eval[string](t, ctx, `document.querySelector('[data-deployment="d-analysis"]').innerText`); !strings.Contains(v, "errors fail") || !strings.Contains(v, "latency inconclusive") {
		t.Fatalf("verdicts missing: %s", v)
	}
	screenshot(t, ctx, "dashboard-analysis.png")
}
