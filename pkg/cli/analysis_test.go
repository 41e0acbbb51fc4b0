package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

func TestPrintAnalysisShowsVerdictsWhyAndLatestPoints(t *testing.T) {
	at := time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)
	run := &deploy.AnalysisRun{StartedAt: at, Verdict: deploy.VerdictFail, Why: "errors: new colour is worse",
		Metrics: []deploy.MetricStatus{
			{Name: "errors", Verdict: deploy.VerdictFail, Why: "new colour is worse", Stats: map[string]float64{"log_bf": 5.1}},
			{Name: "latency", Verdict: deploy.VerdictInconclusive, Errors: 2, LastError: "prometheus down"}}}
	for i := 0; i < 5; i++ {
		run.Points = append(run.Points, deploy.AnalysisPoint{At: at.Add(time.Duration(i) * time.Second), Metric: "errors",
			BaseRequests: 90, CanaryRequests: 10, CanaryErrors: float64(i), Verdict: deploy.VerdictInconclusive})
	}
	var b bytes.Buffer
	if err := printAnalysis(&b, run, 2); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"verdict: fail (errors: new colour is worse)", "errors", "log_bf=5.1", "2 in a row: prometheus down"} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
	// Only the 2 latest points: canary errors 3 and 4.
	lines := strings.Split(strings.TrimSpace(out[strings.Index(out, "TIME"):]), "\n")
	if len(lines) != 3 || !strings.Contains(lines[2], "14:00:04") {
		t.Fatalf("points table:\n%s", strings.Join(lines, "\n"))
	}
}
