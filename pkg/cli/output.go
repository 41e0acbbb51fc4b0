package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

func fmtWeights(w deploy.Weights) string {
	return fmt.Sprintf("blue %d (%.1f%%) / green %d (%.1f%%)", w.Blue, w.Percent(deploy.SlotBlue), w.Green, w.Percent(deploy.SlotGreen))
}

func fmtPercent(p float64) string { return fmt.Sprintf("%g%%", p) }

func fmtStrategy(s deploy.Strategy) string {
	bake := ""
	if s.Bake > 0 {
		bake = ", bake " + s.Bake.String()
	}
	switch s.Type {
	case deploy.StrategyCanary:
		p := s.CanaryPercent
		if p == 0 {
			p = 10
		}
		return "canary " + fmtPercent(p) + bake
	case deploy.StrategyLinear:
		return fmt.Sprintf("linear %d steps%s", s.LinearSteps, bake)
	case deploy.StrategySteps:
		return "steps " + fmtSteps(s.Steps)
	case "":
		return "-"
	}
	return string(s.Type)
}

// fmtSteps renders steps the way --steps accepts them.
func fmtSteps(steps []deploy.Step) string {
	parts := make([]string, len(steps))
	for i, st := range steps {
		if st.KindOf() == deploy.StepPause {
			parts[i] = "pause"
			continue
		}
		parts[i] = fmt.Sprintf("%g", st.Percent)
		if st.Bake > 0 {
			parts[i] += ":" + st.Bake.String()
		}
	}
	return strings.Join(parts, ",")
}

// fmtStep shows the current step as i/n with its target percent.
func fmtStep(d *deploy.Deployment) string {
	if st, ok := d.CurrentStep(); ok {
		if st.KindOf() == deploy.StepPause {
			return fmt.Sprintf("%d/%d (pause)", d.Step+1, len(d.Steps))
		}
		return fmt.Sprintf("%d/%d (%s)", d.Step+1, len(d.Steps), fmtPercent(st.Percent))
	}
	return fmt.Sprintf("0/%d", len(d.Steps))
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

func fmtTimePtr(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return fmtTime(*t)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// fmtOutcome explains the end (or current state) of a deployment in a few words.
func fmtOutcome(d *deploy.Deployment) string {
	s := string(d.State)
	if d.Cause != "" {
		s += " (" + string(d.Cause) + ")"
	}
	if d.Reason != "" {
		s += ": " + d.Reason
	}
	return s
}

func printDeployment(w io.Writer, d *deploy.Deployment) error {
	t := newTable(w)
	row := func(k, v string) { fmt.Fprintf(t, "%s:\t%s\n", k, v) }
	row("ID", d.ID)
	row("Service", d.Service)
	row("Image", orDash(d.Image)+" (tag "+d.ImageTag+")")
	state := string(d.State)
	if d.State == deploy.StatePaused && d.PausedFrom != "" {
		state += " (from " + string(d.PausedFrom) + ")"
	}
	if d.Promote {
		state += " (promoted)"
	}
	row("State", state)
	row("Step", fmtStep(d))
	row("Weights", fmtWeights(d.Weights))
	if d.From != "" {
		row("Slots", fmt.Sprintf("%s -> %s", d.From, d.To))
	}
	row("Strategy", fmtStrategy(d.Strategy))
	if len(d.Steps) > 0 {
		row("Plan", fmtSteps(d.Steps))
	}
	if d.Cause != "" {
		row("Cause", string(d.Cause))
	}
	if d.Reason != "" {
		row("Reason", d.Reason)
	}
	row("Created", fmtTime(d.CreatedAt)+" by "+orDash(d.CreatedBy))
	row("Updated", fmtTime(d.UpdatedAt))
	if d.FinishedAt != nil {
		row("Finished", fmtTimePtr(d.FinishedAt))
	}
	return t.Flush()
}

func printDeployments(w io.Writer, ds []*deploy.Deployment) error {
	t := newTable(w)
	fmt.Fprintln(t, "ID\tSTATE\tTAG\tSTRATEGY\tSTEP\tCREATED\tBY\tCAUSE/REASON")
	for _, d := range ds {
		why := string(d.Cause)
		if d.Reason != "" {
			why = strings.TrimPrefix(why+": "+d.Reason, ": ")
		}
		fmt.Fprintf(t, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.State, d.ImageTag, fmtStrategy(d.Strategy),
			fmtStep(d), fmtTime(d.CreatedAt), orDash(d.CreatedBy), orDash(why))
	}
	return t.Flush()
}

// serviceWeights summarises a service's routes: one weight pair when they agree, "mixed" otherwise.
func serviceWeights(s deploy.ServiceStatus) string {
	if len(s.Routes) == 0 {
		return "-"
	}
	w := s.Routes[0].Weights
	for _, r := range s.Routes[1:] {
		if r.Weights != w {
			return "mixed across routes"
		}
	}
	return fmtWeights(w)
}

func printServices(w io.Writer, ss []deploy.ServiceStatus) error {
	t := newTable(w)
	fmt.Fprintln(t, "SERVICE\tLIVE\tWEIGHTS\tACTIVE DEPLOYMENT\tERROR")
	for _, s := range ss {
		live := string(s.LiveSlot)
		if live == "" {
			live = "split"
		}
		fmt.Fprintf(t, "%s\t%s\t%s\t%s\t%s\n", s.Name, live, serviceWeights(s), orDash(s.Active), orDash(s.Error))
	}
	return t.Flush()
}

// fmtDetail renders an event's detail map as sorted k=v pairs.
func fmtDetail(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, " ")
}

func printEvents(w io.Writer, evs []deploy.Event) error {
	t := newTable(w)
	fmt.Fprintln(t, "SEQ\tTIME\tACTOR\tACTION\tSTATE\tREASON\tDETAIL")
	for _, e := range evs {
		fmt.Fprintf(t, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, fmtTime(e.Time), e.Actor, e.Action, orDash(string(e.State)),
			orDash(e.Reason), fmtDetail(e.Detail))
	}
	return t.Flush()
}
