package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/api"
	"github.com/switchyard/switchyard/pkg/api/apitest"
	"github.com/switchyard/switchyard/pkg/deploy"
)

const (
	testToken = "cli-test-token-0123456789"
	roToken   = "cli-readonly-token-0123456789"
)

type cliEnv struct {
	t   *testing.T
	ctl *apitest.Controller
	url string
}

func newCLIEnv(t *testing.T) *cliEnv {
	t.Helper()
	t.Setenv(EnvServer, "")
	t.Setenv(EnvToken, "")
	ctl := apitest.New("web", "api")
	srv, err := api.New(api.Options{Controller: ctl, Tokens: []api.Token{
		{Name: "alice", Secret: testToken}, {Name: "viewer", Secret: roToken, ReadOnly: true}}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &cliEnv{t: t, ctl: ctl, url: ts.URL}
}

type result struct {
	code           int
	stdout, stderr string
}

func (e *cliEnv) runCtx(ctx context.Context, args ...string) result {
	var out, errb bytes.Buffer
	a := newApp(&out, &errb)
	a.pollInterval = time.Millisecond
	code := a.run(ctx, append([]string{"--server", e.url, "--token", testToken}, args...))
	return result{code, out.String(), errb.String()}
}

func (e *cliEnv) run(args ...string) result { return e.runCtx(context.Background(), args...) }

func (r result) must(t *testing.T, code int, contains ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	all := r.stdout + r.stderr
	for _, c := range contains {
		if !strings.Contains(all, c) {
			t.Fatalf("output lacks %q\nstdout:\n%s\nstderr:\n%s", c, r.stdout, r.stderr)
		}
	}
}

func TestDeployStrategies(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want deploy.Strategy
		nil_ bool
	}{
		{"service default", nil, deploy.Strategy{}, true},
		{"canary", []string{"--strategy", "canary", "--canary-percent", "5", "--bake", "1m"},
			deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 5, Bake: deploy.Duration(time.Minute)}, false},
		{"canary inferred", []string{"--canary-percent", "2.5"},
			deploy.Strategy{Type: deploy.StrategyCanary, CanaryPercent: 2.5}, false},
		{"linear", []string{"--strategy", "linear", "--linear-steps", "4", "--bake", "30s"},
			deploy.Strategy{Type: deploy.StrategyLinear, LinearSteps: 4, Bake: deploy.Duration(30 * time.Second)}, false},
		{"all at once", []string{"--strategy", "all-at-once"}, deploy.Strategy{Type: deploy.StrategyAllAtOnce}, false},
		{"steps with default bake", []string{"--steps", "10:30s, 50%,100", "--bake", "2m"},
			deploy.Strategy{Type: deploy.StrategySteps, Steps: []deploy.Step{
				{Percent: 10, Bake: deploy.Duration(30 * time.Second)}, {Percent: 50, Bake: deploy.Duration(2 * time.Minute)},
				{Percent: 100, Bake: deploy.Duration(2 * time.Minute)}}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newCLIEnv(t)
			args := append([]string{"deploy", "web", "v1.2.3", "--reason", "ship it"}, c.args...)
			e.run(args...).must(t, 0, "Deployment d-1 started", "switchyard watch d-1")
			calls := e.ctl.Calls()
			if len(calls) != 1 {
				t.Fatalf("calls %+v", calls)
			}
			req := calls[0].Create
			if req.Service != "web" || req.ImageTag != "v1.2.3" || req.Reason != "ship it" || req.Actor != "alice" {
				t.Fatalf("request %+v", req)
			}
			if c.nil_ {
				if req.Strategy != nil {
					t.Fatalf("strategy sent without strategy flags: %+v", req.Strategy)
				}
				return
			}
			got, _ := json.Marshal(req.Strategy)
			want, _ := json.Marshal(c.want)
			if string(got) != string(want) {
				t.Fatalf("strategy\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestDeployBadFlags(t *testing.T) {
	cases := []struct {
		name string
		args []string
		msg  string
	}{
		{"steps bad bake", []string{"--steps", "10:abc,100"}, `bake "abc"`},
		{"steps bad percent", []string{"--steps", "ten,100"}, `percent "ten"`},
		{"steps empty", []string{"--steps", " "}, "--steps is empty"},
		{"steps not increasing", []string{"--steps", "50,40,100"}, "percent must increase"},
		{"steps not ending at 100", []string{"--steps", "10,50"}, "last step must be 100"},
		{"steps strategy without steps", []string{"--strategy", "steps"}, "needs --steps"},
		{"linear without n", []string{"--strategy", "linear"}, "needs --linear-steps"},
		{"mismatched flag", []string{"--strategy", "linear", "--canary-percent", "5"}, "applies to the canary strategy"},
		{"two implied types", []string{"--canary-percent", "5", "--linear-steps", "3"}, "applies to the linear strategy"},
		{"bake alone", []string{"--bake", "30s"}, "--bake needs --strategy"},
		{"bake all-at-once", []string{"--strategy", "all-at-once", "--bake", "1s"}, "no effect"},
		{"unknown strategy", []string{"--strategy", "yolo"}, "must be one of"},
		{"canary out of range", []string{"--canary-percent", "100"}, "below 100"},
		{"malformed bake", []string{"--strategy", "canary", "--bake", "5x"}, "deploy --help"},
		{"unknown flag", []string{"--nope"}, "unknown flag"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newCLIEnv(t)
			e.run(append([]string{"deploy", "web", "v1"}, c.args...)...).must(t, 1, c.msg)
			if calls := e.ctl.Calls(); len(calls) != 0 {
				t.Fatalf("bad flags reached the server: %+v", calls)
			}
		})
	}
	e := newCLIEnv(t)
	e.run("deploy", "web").must(t, 1, "accepts 2 arg(s)")
	e.run("deploy", "web", "-bad").must(t, 1, "unknown shorthand")
	e.run("deploy", "web", "bad tag").must(t, 1, "invalid image tag")
	e.run("--output", "yaml", "status").must(t, 1, "must be text or json")
}

func TestDeployConflictAndAuthHints(t *testing.T) {
	e := newCLIEnv(t)
	e.run("deploy", "web", "v1").must(t, 0)
	e.run("deploy", "web", "v2").must(t, 1, "already has active deployment d-1", "switchyard abort d-1")
	e.run("deploy", "nosuch", "v2").must(t, 1, "unknown service")

	var out, errb bytes.Buffer
	code := newApp(&out, &errb).run(context.Background(), []string{"--server", e.url, "--token", roToken, "abort", "d-1"})
	if code != 1 || !strings.Contains(errb.String(), "read-only") {
		t.Fatalf("read-only abort: %d %s", code, errb.String())
	}
	code = newApp(&out, &errb).run(context.Background(), []string{"--server", e.url, "status"})
	if code != 1 || !strings.Contains(errb.String(), EnvToken) {
		t.Fatalf("missing token: %d %s", code, errb.String())
	}
}

func TestEnvironmentDefaults(t *testing.T) {
	e := newCLIEnv(t)
	t.Setenv(EnvServer, e.url)
	t.Setenv(EnvToken, testToken)
	var out, errb bytes.Buffer
	if code := newApp(&out, &errb).run(context.Background(), []string{"status"}); code != 0 {
		t.Fatalf("env server/token ignored: %d %s", code, errb.String())
	}
	// An explicit flag wins over the environment.
	if code := newApp(&out, &errb).run(context.Background(), []string{"--token", "wrong-token-0123456789", "status"}); code != 1 {
		t.Fatalf("--token did not override %s", EnvToken)
	}
}

func TestStatus(t *testing.T) {
	e := newCLIEnv(t)
	r := e.run("status")
	r.must(t, 0, "SERVICE", "web", "api", "blue 999 (100.0%) / green 0 (0.0%)")
	e.run("status", "web").must(t, 0, "No active deployment of web")

	e.run("deploy", "web", "v9", "--strategy", "canary").must(t, 0)
	e.run("status", "web").must(t, 0, "ID:", "d-1", "pending", "canary 10%", "10,100", "by alice")
	e.run("status", "d-1").must(t, 0, "Image:", "repo/web:v9 (tag v9)")
	e.run("status", "nothing").must(t, 1, "neither a configured service nor a known deployment")

	r = e.run("--output", "json", "status", "web")
	var v struct {
		Service deploy.ServiceStatus `json:"service"`
		Active  *deploy.Deployment   `json:"active_deployment"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.Service.Name != "web" || v.Active == nil || v.Active.ID != "d-1" {
		t.Fatalf("json status: %v %s", err, r.stdout)
	}
	r = e.run("-o", "json", "status")
	var ss []deploy.ServiceStatus
	if err := json.Unmarshal([]byte(r.stdout), &ss); err != nil || len(ss) != 2 {
		t.Fatalf("json services: %v %s", err, r.stdout)
	}
}

func TestHistoryActionsEvents(t *testing.T) {
	e := newCLIEnv(t)
	e.ctl.Put(deploy.Deployment{ID: "d-old", Service: "web", ImageTag: "v0", State: deploy.StateRolledBack, Cause: deploy.CauseAlarm, Reason: "5xx"})
	e.run("deploy", "web", "v1").must(t, 0)

	r := e.run("history", "web")
	r.must(t, 0, "ID", "d-old", "rolled_back", "alarm: 5xx")
	if strings.Index(r.stdout, "d-2") > strings.Index(r.stdout, "d-old") {
		t.Fatalf("history not newest first:\n%s", r.stdout)
	}
	r = e.run("history", "web", "--limit", "1")
	if !strings.Contains(r.stdout, "d-2") || strings.Contains(r.stdout, "d-old") {
		t.Fatalf("--limit 1:\n%s", r.stdout)
	}
	e.run("history", "web", "--limit", "0").must(t, 1, "--limit 0")
	e.run("history", "api").must(t, 0, "No deployments of api")

	e.run("pause", "d-2", "--reason", "looking").must(t, 0, "d-2: pause accepted; state paused")
	e.run("resume", "d-2").must(t, 0, "state pending")
	e.run("promote", "d-2").must(t, 0, "promote accepted")
	e.run("abort", "d-2", "--reason", "bad canary").must(t, 0, "d-2: abort accepted; state rolling_back")
	e.run("resume", "d-2").must(t, 1, "cannot resume")
	calls := e.ctl.Calls()
	last := calls[len(calls)-2] // the failed resume is last
	if last.Method != "abort" || last.ID != "d-2" || last.Reason != "bad canary" || last.Actor != "alice" {
		t.Fatalf("abort call %+v", last)
	}

	r = e.run("events", "d-2")
	r.must(t, 0, "SEQ", "create", "pause", "looking", "abort", "bad canary")
	r = e.run("-o", "json", "events", "d-2", "--after", "3")
	var evs []deploy.Event
	if err := json.Unmarshal([]byte(r.stdout), &evs); err != nil || len(evs) == 0 || evs[0].Seq <= 3 {
		t.Fatalf("events --after: %v %s", err, r.stdout)
	}
}

func scriptRun(ctl *apitest.Controller, final deploy.State, cause deploy.Cause) {
	split := deploy.Split(deploy.SlotGreen, 10)
	stages := []apitest.Stage{
		{State: deploy.StatePreparing, Step: -1, Weights: deploy.AllOn(deploy.SlotBlue),
			Events: []deploy.Event{{Actor: deploy.ActorController, Action: "prepare", Reason: "green service stable"}}},
		{State: deploy.StateShifting, Step: 0, Weights: split,
			Events: []deploy.Event{{Actor: deploy.ActorController, Action: "weights.set",
				Detail: map[string]string{"blue": "899", "green": "100", "alarm:web-5xx": "OK", "alarm:web-latency": "OK"}}}},
		{State: deploy.StateShifting, Step: 0, Weights: split}, // nothing new: no extra output line
	}
	switch final {
	case deploy.StateSucceeded:
		stages = append(stages,
			apitest.Stage{State: deploy.StateFinalizing, Step: 1, Weights: deploy.AllOn(deploy.SlotGreen),
				Events: []deploy.Event{{Actor: deploy.ActorController, Action: "weights.set", Detail: map[string]string{"blue": "0", "green": "999"}}}},
			apitest.Stage{State: deploy.StateSucceeded, Step: 1, Weights: deploy.AllOn(deploy.SlotGreen),
				Events: []deploy.Event{{Actor: deploy.ActorController, Action: "succeeded"}}})
	case deploy.StateRolledBack:
		stages = append(stages,
			apitest.Stage{State: deploy.StateRollingBack, Step: 0, Weights: split, Cause: cause,
				Events: []deploy.Event{{Actor: deploy.ActorController, Action: "rollback", Reason: "alarm web-5xx in ALARM",
					Detail: map[string]string{"alarm": "web-5xx", "alarm_state": "ALARM"}}}},
			apitest.Stage{State: deploy.StateRolledBack, Step: 0, Weights: deploy.AllOn(deploy.SlotBlue), Cause: cause,
				Events: []deploy.Event{{Actor: deploy.ActorController, Action: "rolled_back"}}})
	case deploy.StateFailed:
		stages = append(stages, apitest.Stage{State: deploy.StateFailed, Step: 0, Weights: split, Cause: cause,
			Events: []deploy.Event{{Actor: deploy.ActorController, Action: "failed", Reason: "ModifyListener kept failing"}}})
	}
	ctl.Script("d-1", stages...)
}

func TestDeployWaitSucceeded(t *testing.T) {
	e := newCLIEnv(t)
	scriptRun(e.ctl, deploy.StateSucceeded, "")
	r := e.run("deploy", "web", "v2", "--wait")
	r.must(t, ExitOK, "alice", "create", "prepare", "green service stable", "weights.set",
		"SHIFTING  step 1/2 (10%)  blue 899 (90.0%) / green 100 (10.0%)  alarms: web-5xx=OK web-latency=OK",
		"SUCCEEDED", "Deployment d-1 succeeded", "web v2 is live on green")
	// Non-TTY output appends a progress line only when it changes.
	if n := strings.Count(r.stdout, "SHIFTING  step 1/2"); n != 1 {
		t.Fatalf("unchanged progress printed %d times:\n%s", n, r.stdout)
	}
	if strings.Contains(r.stdout, "\r") {
		t.Fatalf("redraw sequences on a non-TTY:\n%q", r.stdout)
	}
	for _, c := range e.ctl.Calls() {
		if c.Method != "Create" {
			t.Fatalf("watching changed the deployment: %+v", c)
		}
	}
}

func TestDeployWaitRolledBack(t *testing.T) {
	e := newCLIEnv(t)
	scriptRun(e.ctl, deploy.StateRolledBack, deploy.CauseAlarm)
	r := e.run("deploy", "web", "v2", "--wait")
	r.must(t, ExitRolledBack, "rollback", "alarm web-5xx in ALARM", "web-5xx=ALARM", "ROLLED BACK", "rolled_back (alarm)", "back on blue")
}

func TestWatchFailed(t *testing.T) {
	e := newCLIEnv(t)
	e.run("deploy", "web", "v2").must(t, 0)
	scriptRun(e.ctl, deploy.StateFailed, deploy.CauseError)
	e.run("watch", "d-1").must(t, ExitError, "ModifyListener kept failing", "FAILED", "needs an operator")
	e.run("watch", "d-404").must(t, ExitError, "not found")
}

func TestWatchJSON(t *testing.T) {
	e := newCLIEnv(t)
	scriptRun(e.ctl, deploy.StateSucceeded, "")
	r := e.run("-o", "json", "deploy", "web", "v2", "--wait")
	r.must(t, ExitOK)
	// stdout is a stream of JSON values: events, then the final deployment.
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	var n int
	var lastVal map[string]any
	for dec.More() {
		lastVal = nil
		if err := dec.Decode(&lastVal); err != nil {
			t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
		}
		n++
	}
	if n < 5 || lastVal["state"] != "succeeded" || lastVal["id"] != "d-1" {
		t.Fatalf("%d values, last %v", n, lastVal)
	}
}

func TestWatchInterruptDoesNotAbort(t *testing.T) {
	e := newCLIEnv(t)
	e.run("deploy", "web", "v2").must(t, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // as if Ctrl-C arrived while watching
	e.runCtx(ctx, "watch", "d-1").must(t, ExitInterrupted, "Stopped watching d-1", "switchyard abort d-1")
	if calls := e.ctl.Calls(); len(calls) != 1 {
		t.Fatalf("interrupt changed the deployment: %+v", calls)
	}
}

func TestWatchTTYRedraws(t *testing.T) {
	e := newCLIEnv(t)
	scriptRun(e.ctl, deploy.StateSucceeded, "")
	var out, errb bytes.Buffer
	a := newApp(&out, &errb)
	a.pollInterval = time.Millisecond
	a.tty = true
	if code := a.run(context.Background(), []string{"--server", e.url, "--token", testToken, "deploy", "web", "v2", "--wait"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "\r\033[K") {
		t.Fatalf("no in-place redraw on a TTY: %q", out.String())
	}
	// The last redraw is kept, terminated by a newline, followed by the summary.
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if n := len(lines); n < 2 || !strings.Contains(lines[n-2], "SUCCEEDED") || !strings.HasPrefix(lines[n-1], "Deployment d-1 succeeded") {
		t.Fatalf("final progress line missing: %q", out.String())
	}
}

// flaky fails a window of requests with 503, as a daemon restarting behind a proxy would.
type flaky struct {
	next     http.Handler
	mu       sync.Mutex
	n        int
	from, to int
	failed   int
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.n++
	fail := f.n >= f.from && f.n < f.to
	if fail {
		f.failed++
	}
	f.mu.Unlock()
	if fail {
		http.Error(w, "upstream restarting", http.StatusServiceUnavailable)
		return
	}
	f.next.ServeHTTP(w, r)
}

func TestWatchSurvivesTransientErrors(t *testing.T) {
	t.Setenv(EnvServer, "")
	t.Setenv(EnvToken, "")
	ctl := apitest.New("web")
	srv, err := api.New(api.Options{Controller: ctl, Tokens: []api.Token{{Name: "alice", Secret: testToken}}})
	if err != nil {
		t.Fatal(err)
	}
	// Request 1 creates, 2-3 are the first poll; 4-8 fail.
	f := &flaky{next: srv, from: 4, to: 9}
	ts := httptest.NewServer(f)
	defer ts.Close()
	scriptRun(ctl, deploy.StateSucceeded, "")
	e := &cliEnv{t: t, ctl: ctl, url: ts.URL}
	e.run("deploy", "web", "v2", "--wait").must(t, ExitOK, "Deployment d-1 succeeded")
	if f.failed != 5 {
		t.Fatalf("%d requests failed, want 5", f.failed)
	}
}

func TestParseStepsWithPause(t *testing.T) {
	steps, err := parseSteps("1:2m, pause, 10:5m,100", 0)
	if err != nil || len(steps) != 4 || steps[1].KindOf() != deploy.StepPause || steps[0].Percent != 1 || steps[2].Bake.D() != 5*time.Minute {
		t.Fatalf("%+v %v", steps, err)
	}
	if got := fmtSteps(steps); got != "1:2m0s,pause,10:5m0s,100" {
		t.Fatalf("fmtSteps: %s", got)
	}
	if _, err := (deploy.Strategy{Type: deploy.StrategySteps, Steps: steps}).Plan(); err != nil {
		t.Fatal(err)
	}
}
