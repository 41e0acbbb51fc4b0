package schedule

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/switchyard/switchyard/pkg/window"
)

// Step is what the timeline needs of a deployment step (the controller converts deploy.Step).
type Step struct {
	Percent float64
	Bake    time.Duration
	Pause   bool // waits for an operator; the timeline assumes an immediate resume
	Timing  Timing
}

// EntryKind names a timeline line.
type EntryKind string

const (
	EntryRequested EntryKind = "requested"
	EntryHold      EntryKind = "hold"
	EntryShift     EntryKind = "shift"
	EntryBakeEnd   EntryKind = "bake end"
	EntryPause     EntryKind = "pause"
	EntryDone      EntryKind = "done"
	EntryRefused   EntryKind = "refused"
)

// Entry is one line of a dry run.
type Entry struct {
	At   time.Time `json:"at"`
	Kind EntryKind `json:"kind"`
	Step int       `json:"step"` // index of the step, -1 for the deployment as a whole
	// Percent is the new release's share after the entry (its weights: Percent / 100-Percent).
	Percent float64 `json:"percent"`
	Text    string  `json:"text"`
}

// Timeline is the dry run of a deployment requested at start: every step's start and weights, its
// bake's end, and where it would hold (and why) or be refused. The window carries the calendar and
// freezes (nil: always open). Steps start when the one before has baked; each starts only if its
// worst case (bake + timeouts) fits the window. Times are the earliest possible: a real run is later
// by the seconds its shifts take.
func Timeline(start time.Time, steps []Step, w *window.Window, to Timeouts) []Entry {
	out := []Entry{{At: start, Kind: EntryRequested, Step: -1, Text: "deployment requested in " + windowName(w)}}
	t, pct := start, 0.0
	for i, st := range steps {
		if st.Pause {
			out = append(out, Entry{At: t, Kind: EntryPause, Step: i, Percent: pct,
				Text: "pause: holds until an operator resumes (times below assume an immediate resume)"})
			continue
		}
		last := i == len(steps)-1
		need := to.Need(st.Bake, last)
		s, why, err := StepStart(t, st.Timing, need, w)
		if err != nil {
			out = append(out, Entry{At: t, Kind: EntryRefused, Step: i, Percent: pct,
				Text: fmt.Sprintf("refused: step %d (%s%%) cannot start: %v", i+1, num(st.Percent), err)})
			return out
		}
		if s.After(t) {
			out = append(out, Entry{At: t, Kind: EntryHold, Step: i, Percent: pct,
				Text: "hold until " + show(s, w) + " because " + why})
		}
		pct = st.Percent
		out = append(out, Entry{At: s, Kind: EntryShift, Step: i, Percent: pct,
			Text: fmt.Sprintf("step %d: new %s%% / old %s%%; worst case ends %s (%s)", i+1, num(pct), num(100-pct),
				show(s.Add(need), w), needText(st.Bake, to, last))})
		t = s.Add(st.Bake)
		if st.Bake > 0 {
			out = append(out, Entry{At: t, Kind: EntryBakeEnd, Step: i, Percent: pct, Text: fmt.Sprintf("bake of %s ends", st.Bake)})
		}
	}
	return append(out, Entry{At: t, Kind: EntryDone, Step: -1, Percent: pct, Text: "all traffic on the new release; finalizing"})
}

func needText(bake time.Duration, to Timeouts, last bool) string {
	parts := []string{"bake " + bake.String(), "step timeout " + to.Step.String()}
	if to.Verify > 0 {
		parts = append(parts, "verify "+to.Verify.String())
	}
	if last && to.Finalize > 0 {
		parts = append(parts, "finalize "+to.Finalize.String())
	}
	return strings.Join(parts, " + ")
}

func num(p float64) string { return fmt.Sprintf("%g", p) }

// Render writes a timeline as aligned columns, times in loc (the window's zone) with their offset.
func Render(entries []Entry, loc *time.Location) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tEVENT\tSTEP\tNEW/OLD\tDETAIL")
	for _, e := range entries {
		step := "-"
		if e.Step >= 0 {
			step = fmt.Sprint(e.Step + 1)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s/%s\t%s\n", e.At.In(loc).Format(window.Layout), e.Kind, step, num(e.Percent), num(100-e.Percent), e.Text)
	}
	tw.Flush()
	return b.String()
}
