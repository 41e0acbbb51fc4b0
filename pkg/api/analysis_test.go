package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

func TestAnalysisEndpoint(t *testing.T) {
	e := newEnv(t)
	d := deploy.Deployment{ID: "d-9", Service: "web", State: deploy.StateShifting, From: deploy.SlotBlue, To: deploy.SlotGreen,
		Weights: deploy.AllOn(deploy.SlotBlue)}
	e.ctl.Put(d)
	if r := e.do("GET", "/v1/deployments/d-9/analysis", viewTok, ""); r.status != http.StatusNotFound || r.errBody(t).Code != "not_found" {
		t.Fatalf("a deployment without analysis: %d %s", r.status, r.body)
	}
	d.Analysis = &deploy.AnalysisRun{StartedAt: time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC), Verdict: deploy.VerdictFail, Why: "errors: worse",
		Metrics: []deploy.MetricStatus{{Name: "errors", Verdict: deploy.VerdictFail, Stats: map[string]float64{"log_bf": 5}}}}
	e.ctl.Put(d)
	r := e.do("GET", "/v1/deployments/d-9/analysis", viewTok, "")
	got := decode[deploy.AnalysisRun](t, r)
	if r.status != http.StatusOK || got.Verdict != deploy.VerdictFail || len(got.Metrics) != 1 || got.Metrics[0].Stats["log_bf"] != 5 {
		t.Fatalf("analysis: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/v1/deployments/d-9/analysis?points=3", viewTok, ""); r.status != http.StatusBadRequest {
		t.Fatalf("an unknown query parameter: %d, want 400", r.status)
	}
}
