// Package grafana holds the Grafana dashboard for the daemon's Prometheus metrics (switchyard.json)
// and the test that keeps it honest.
package grafana

import (
	"encoding/json"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/switchyard/switchyard/pkg/metrics"
)

// exported returns every metric name the daemon's registry exports (histograms with their _bucket,
// _sum and _count series) and its labels. Every vector gets one child so that Gather lists it.
func exported(t *testing.T) map[string]map[string]bool {
	m := metrics.New()
	m.Deployments.WithLabelValues("s", "succeeded")
	m.StepDuration.WithLabelValues("s")
	m.RollbackDecision.WithLabelValues("abort")
	m.RollbackTotal.WithLabelValues("abort")
	m.AWSCalls.WithLabelValues("s", "op")
	m.AWSErrors.WithLabelValues("s", "op", "c")
	m.HTTPRequests.WithLabelValues("r", "200")
	fams, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]bool{}
	for _, f := range fams {
		labels := map[string]bool{}
		for _, mt := range f.GetMetric() {
			for _, l := range mt.GetLabel() {
				labels[l.GetName()] = true
			}
		}
		names := []string{f.GetName()}
		if f.GetType() == dto.MetricType_HISTOGRAM {
			labels["le"] = true
			names = append(names, f.GetName()+"_bucket", f.GetName()+"_sum", f.GetName()+"_count")
		}
		for _, n := range names {
			out[n] = labels
		}
	}
	if len(out) < 10 || out["switchyard_deployments_total"] == nil {
		t.Fatalf("registry gathered too little: %v", out)
	}
	return out
}

var (
	// A metric name in PromQL: an identifier not followed by "(" (a function) and not a label
	// name inside braces or after by/without (those are removed first).
	identRE    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	selectorRE = regexp.MustCompile(`\{([^}]*)\}`)
	groupRE    = regexp.MustCompile(`\b(by|without)\s*\(([^)]*)\)`)
	stringRE   = regexp.MustCompile(`"[^"]*"`)
	rangeRE    = regexp.MustCompile(`\[[^\]]*\]`)
	matcherRE  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)`)
)

var promqlWords = map[string]bool{"sum": true, "rate": true, "increase": true, "histogram_quantile": true, "clamp_min": true,
	"by": true, "without": true, "le": true, "label_values": true, "and": true, "or": true, "unless": true, "bool": true}

// exprs returns every PromQL expression of the dashboard: panel targets and template queries.
func exprs(t *testing.T) []string {
	b, err := os.ReadFile("switchyard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Query string `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("switchyard.json: %v", err)
	}
	var out []string
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			out = append(out, tg.Expr)
		}
	}
	for _, v := range d.Templating.List {
		out = append(out, v.Query)
	}
	return out
}

// Every expression names at least one metric, every metric it names is one the daemon exports, and
// every label it selects or groups by is a label of one of the metrics it names.
func TestDashboardNamesOnlyExportedMetrics(t *testing.T) {
	have := exported(t)
	used := map[string]bool{}
	for _, e := range exprs(t) {
		var labels []string
		for _, m := range selectorRE.FindAllStringSubmatch(e, -1) {
			for _, l := range matcherRE.FindAllStringSubmatch(m[1], -1) {
				labels = append(labels, l[1])
			}
		}
		for _, g := range groupRE.FindAllStringSubmatch(e, -1) {
			for _, l := range strings.Split(g[2], ",") {
				labels = append(labels, strings.TrimSpace(l))
			}
		}
		rest := stringRE.ReplaceAllString(selectorRE.ReplaceAllString(groupRE.ReplaceAllString(rangeRE.ReplaceAllString(e, ""), ""), ""), "")
		// label_values(metric, label): the second argument is a label.
		if strings.HasPrefix(rest, "label_values(") {
			args := strings.Split(strings.TrimSuffix(strings.TrimPrefix(rest, "label_values("), ")"), ",")
			rest, labels = args[0], append(labels, strings.TrimSpace(args[1]))
		}
		var names []string
		for _, loc := range identRE.FindAllStringIndex(rest, -1) {
			id := rest[loc[0]:loc[1]]
			after := strings.TrimLeft(rest[loc[1]:], " ")
			if promqlWords[id] || strings.HasPrefix(after, "(") || (loc[0] > 0 && (rest[loc[0]-1] >= '0' && rest[loc[0]-1] <= '9' || rest[loc[0]-1] == '.')) {
				continue
			}
			names = append(names, id)
		}
		if len(names) == 0 {
			t.Errorf("expression names no metric: %s", e)
		}
		known := map[string]bool{}
		for _, n := range names {
			if have[n] == nil {
				t.Errorf("%q is not exported by the daemon (pkg/metrics): %s", n, e)
				continue
			}
			used[n] = true
			for l := range have[n] {
				known[l] = true
			}
		}
		for _, l := range labels {
			if !known[l] {
				t.Errorf("label %q is on none of %v: %s", l, names, e)
			}
		}
	}
	// And the dashboard shows every switchyard metric (a histogram through any of its series).
	var missing []string
	for n := range have {
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(n, "_bucket"), "_sum"), "_count")
		if !strings.HasPrefix(n, "switchyard_") || used[base] || used[base+"_bucket"] || used[base+"_sum"] || used[base+"_count"] {
			continue
		}
		missing = append(missing, n)
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("not on the dashboard: %v", missing)
	}
}
