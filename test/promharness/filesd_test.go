package promharness

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Targets that come and go: a file_sd job follows its file, each target with its own labels, and a
// target taken out of the file is no longer scraped.
func TestFileSDFollowsRewrites(t *testing.T) {
	t.Parallel()
	a, _ := serveCounter(t)
	b, _ := serveCounter(t)
	sd := filepath.Join(t.TempDir(), "tasks.json")
	s := start(t, Config{Jobs: []Job{{Name: "tasks", FileSD: sd}}})
	if got, err := os.ReadFile(sd); err != nil || strings.TrimSpace(string(got)) != "[]" {
		t.Fatalf("Start left the file_sd file as %q (%v), want an empty list", got, err)
	}
	t0 := time.Now()
	if err := s.SetTargets("tasks", []TargetGroup{{Targets: []string{a}, Labels: map[string]string{"slot": "blue", "service": "svc-blue"}}}); err != nil {
		t.Fatal(err)
	}
	poll(t, s, `harness_requests_total{job="tasks",slot="blue",service="svc-blue"}`, 30*time.Second, func(v Vector) bool {
		return len(v) == 1 && v[0].Labels["instance"] == a && v[0].Value > 0
	})
	t.Logf("first target scraped %v after the file was written", time.Since(t0))
	t1 := time.Now()
	if err := s.SetTargets("tasks", []TargetGroup{{Targets: []string{b}, Labels: map[string]string{"slot": "green"}}}); err != nil {
		t.Fatal(err)
	}
	poll(t, s, `up{job="tasks"}`, 30*time.Second, func(v Vector) bool {
		return len(v) == 1 && v[0].Labels["instance"] == b && v[0].Labels["slot"] == "green" && v[0].Value == 1
	})
	t.Logf("rewrite followed (old target gone, new one up) %v after it was written", time.Since(t1))
	if err := s.SetTargets("nojob", nil); err == nil {
		t.Error("SetTargets on a job without a file_sd file succeeded")
	}
}

func TestConfigFileSD(t *testing.T) {
	got := config(Config{ScrapeInterval: time.Second, Jobs: []Job{{Name: "tasks", FileSD: "/tmp/x/tasks.json"}}})
	for _, want := range []string{`job_name: "tasks"`, `file_sd_configs:`, `files: ["/tmp/x/tasks.json"]`, `refresh_interval: 1s`} {
		if !strings.Contains(got, want) {
			t.Errorf("config lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "static_configs") {
		t.Errorf("a file_sd job has static targets:\n%s", got)
	}
}
