package logging

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/pkg/config"
	"github.com/switchyard/switchyard/pkg/deploy"
)

func TestJSONDefaultAndDeploymentFields(t *testing.T) {
	var buf bytes.Buffer
	l, err := NewWriter(config.Log{}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	ForDeployment(l, &deploy.Deployment{ID: "d-1", Service: "web", Step: 2}).Info("shifted")
	l.Debug("hidden at info")
	_ = l.Sync()

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want 1 line (debug filtered at default info level), got %d: %q", len(lines), buf.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatalf("default format is not JSON: %v: %s", err, lines[0])
	}
	if rec["deployment_id"] != "d-1" || rec["service"] != "web" || rec["step"] != float64(2) || rec["msg"] != "shifted" {
		t.Fatalf("missing deployment fields: %v", rec)
	}
}

func TestConsoleFormatAndLevel(t *testing.T) {
	var buf bytes.Buffer
	l, err := NewWriter(config.Log{Format: "console", Level: "warn"}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	l.Info("not shown")
	l.Warn("shown")
	_ = l.Sync()
	out := buf.String()
	if strings.Contains(out, "not shown") || !strings.Contains(out, "shown") {
		t.Fatalf("level filter wrong: %q", out)
	}
	if strings.HasPrefix(strings.TrimSpace(out), "{") {
		t.Fatalf("console format produced JSON: %q", out)
	}
}

func TestRejectsBadConfig(t *testing.T) {
	if _, err := NewWriter(config.Log{Format: "xml"}, &bytes.Buffer{}); err == nil {
		t.Fatal("format xml accepted")
	}
	if _, err := NewWriter(config.Log{Level: "loud"}, &bytes.Buffer{}); err == nil {
		t.Fatal("level loud accepted")
	}
}

func TestForDeploymentNils(t *testing.T) {
	if ForDeployment(nil, &deploy.Deployment{ID: "x"}) == nil {
		t.Fatal("nil logger must yield a usable logger")
	}
}
