package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/pkg/deploy"
)

func (a *app) analysisCommand() *cobra.Command {
	var points int
	cmd := &cobra.Command{
		Use:   "analysis DEPLOYMENT_ID",
		Short: "Show a deployment's analysis: each metric's verdict and why, and the latest measurements",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			run, err := c.Analysis(cmd.Context(), args[0])
			if err != nil {
				return explain(err)
			}
			if a.json() {
				return a.printJSON(run)
			}
			return printAnalysis(a.stdout, run, points)
		},
	}
	cmd.Flags().IntVar(&points, "points", 10, "how many of the latest measurements to show per metric (0: none)")
	return cmd
}

// printAnalysis renders a run: the overall verdict, one line per metric with its statistics, then the
// latest measurements of each metric, newest last.
func printAnalysis(w io.Writer, run *deploy.AnalysisRun, points int) error {
	state := "running"
	if run.FinishedAt != nil {
		state = "finished " + fmtTime(*run.FinishedAt)
	}
	fmt.Fprintf(w, "verdict: %s (%s)\nstarted: %s, %s\n\n", run.Verdict, run.Why, fmtTime(run.StartedAt), state)
	t := newTable(w)
	fmt.Fprintln(t, "METRIC\tVERDICT\tWHY\tSTATS\tERRORS")
	for _, m := range run.Metrics {
		errs := "-"
		if m.Errors > 0 {
			errs = fmt.Sprintf("%d in a row: %s", m.Errors, m.LastError)
		}
		fmt.Fprintf(t, "%s\t%s\t%s\t%s\t%s\n", m.Name, m.Verdict, orDash(m.Why), fmtStats(m.Stats), errs)
	}
	if err := t.Flush(); err != nil {
		return err
	}
	if points <= 0 || len(run.Points) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	t = newTable(w)
	fmt.Fprintln(t, "TIME\tMETRIC\tBASE REQ\tBASE ERR\tBASE VALUE\tNEW REQ\tNEW ERR\tNEW VALUE\tVERDICT")
	for _, p := range latestPoints(run.Points, points) {
		fmt.Fprintf(t, "%s\t%s\t%g\t%g\t%.4g\t%g\t%g\t%.4g\t%s\n", fmtTime(p.At), p.Metric, p.BaseRequests, p.BaseErrors,
			p.BaseValue, p.CanaryRequests, p.CanaryErrors, p.CanaryValue, p.Verdict)
	}
	return t.Flush()
}

// latestPoints keeps the last n points of each metric, in time order.
func latestPoints(ps []deploy.AnalysisPoint, n int) []deploy.AnalysisPoint {
	seen := map[string]int{}
	var keep []deploy.AnalysisPoint
	for i := len(ps) - 1; i >= 0; i-- {
		if seen[ps[i].Metric] < n {
			seen[ps[i].Metric]++
			keep = append(keep, ps[i])
		}
	}
	for i, j := 0, len(keep)-1; i < j; i, j = i+1, j-1 {
		keep[i], keep[j] = keep[j], keep[i]
	}
	return keep
}

func fmtStats(s map[string]float64) string {
	if len(s) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%.4g", k, s[k])
	}
	return strings.Join(parts, " ")
}
