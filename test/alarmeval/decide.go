package alarmeval

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Alarm states.
const (
	StateOK               = "OK"
	StateAlarm            = "ALARM"
	StateInsufficientData = "INSUFFICIENT_DATA"
)

// Missing-data treatments.
const (
	Missing      = "missing"
	Ignore       = "ignore"
	Breaching    = "breaching"
	NotBreaching = "notBreaching"
)

// Rule is what decides an alarm's state.
type Rule struct {
	EvaluationPeriods  int
	DatapointsToAlarm  int
	Threshold          float64
	ComparisonOperator string
	TreatMissingData   string
}

// Slot is one period of the evaluation range, oldest first.
type Slot struct {
	Start   time.Time
	Value   float64
	Missing bool
}

// Breaches reports whether v is on the alarming side of the threshold.
func (r Rule) Breaches(v float64) bool {
	switch r.ComparisonOperator {
	case "GreaterThanThreshold":
		return v > r.Threshold
	case "GreaterThanOrEqualToThreshold":
		return v >= r.Threshold
	case "LessThanThreshold":
		return v < r.Threshold
	case "LessThanOrEqualToThreshold":
		return v <= r.Threshold
	}
	return false
}

// Validate reports a rule Decide cannot evaluate.
func (r Rule) Validate() error {
	if r.EvaluationPeriods < 1 || r.DatapointsToAlarm < 1 || r.DatapointsToAlarm > r.EvaluationPeriods {
		return fmt.Errorf("alarmeval: %d out of %d datapoints is not an alarm", r.DatapointsToAlarm, r.EvaluationPeriods)
	}
	switch r.ComparisonOperator {
	case "GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold":
	default:
		return fmt.Errorf("alarmeval: comparison operator %q is not evaluated", r.ComparisonOperator)
	}
	switch r.TreatMissingData {
	case Missing, Ignore, Breaching, NotBreaching:
	default:
		return fmt.Errorf("alarmeval: treat missing data %q is not one of missing, ignore, breaching, notBreaching", r.TreatMissingData)
	}
	return nil
}

// Decide returns the state the evaluation range (oldest slot first) puts the alarm in, given its
// current state, and CloudWatch-like reason text.
func (r Rule) Decide(slots []Slot, current string) (string, string) {
	n, m := r.EvaluationPeriods, r.DatapointsToAlarm
	var real []Slot
	oldestReal := -1
	for i, s := range slots {
		if !s.Missing {
			if oldestReal < 0 {
				oldestReal = i
			}
			real = append(real, s)
		}
	}
	if len(real) >= n { // enough real datapoints: the most recent decide, missing data is not needed
		eval := real[len(real)-n:]
		return r.verdict(eval, 0, false)
	}
	fill := n - len(real)
	b, g := r.count(real)
	switch r.TreatMissingData {
	case Breaching:
		return r.verdict(real, fill, true)
	case NotBreaching:
		return r.verdict(real, fill, false)
	}
	// missing or ignore
	switch {
	case len(real) > 0 && b >= m:
		return r.verdict(real, 0, false)
	case g > 0:
		return r.verdict(real, 0, false)
	case r.TreatMissingData == Ignore:
		return current, fmt.Sprintf("Unchanged: %s, missing data is ignored.", unknown(fill, len(real)))
	case len(real) > 0 && oldestReal <= len(slots)-n:
		return StateAlarm, fmt.Sprintf("Threshold Crossed: %s, and the oldest evaluated datapoint %s %s the threshold (%s).",
			unknown(fill, len(real)), list(real[:1]), r.verb(true), num(r.Threshold))
	default:
		return StateInsufficientData, fmt.Sprintf("Insufficient Data: %s.", unknown(fill, len(real)))
	}
}

func unknown(fill, real int) string {
	return fmt.Sprintf("%d datapoint%s %s unknown (%d received)", fill, plural(fill), wasWere(fill), real)
}

func (r Rule) count(s []Slot) (breaching, not int) {
	for _, x := range s {
		if r.Breaches(x.Value) {
			breaching++
		} else {
			not++
		}
	}
	return breaching, not
}

// verdict decides from real datapoints plus fill missing ones counted as breaching or not.
func (r Rule) verdict(real []Slot, fill int, fillBreaches bool) (string, string) {
	b, g := r.count(real)
	if fillBreaches {
		b += fill
	} else {
		g += fill
	}
	total := len(real) + fill
	var shown []Slot
	state, from, count, neg := StateOK, StateAlarm, g, true
	if b >= r.DatapointsToAlarm {
		state, from, count, neg = StateAlarm, StateOK, b, false
	}
	for _, s := range real {
		if r.Breaches(s.Value) != neg {
			shown = append(shown, s)
		}
	}
	if len(real) == 0 {
		return state, fmt.Sprintf("Threshold Crossed: no datapoints were received for %d period%s and %d missing datapoint%s %s treated as [%s].",
			fill, plural(fill), fill, plural(fill), wasWere(fill), treated(fillBreaches))
	}
	reason := fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints %s %s %s the threshold (%s)",
		count, total, list(shown), wasWere(count), r.verb(!neg), num(r.Threshold))
	if fill > 0 && fillBreaches != neg {
		reason += fmt.Sprintf(" and %d missing datapoint%s %s treated as [%s]", fill, plural(fill), wasWere(fill), treated(fillBreaches))
	}
	return state, reason + fmt.Sprintf(" (minimum %d datapoint%s for %s -> %s transition).", r.DatapointsToAlarm, plural(r.DatapointsToAlarm), from, state)
}

func treated(breaching bool) string {
	if breaching {
		return "Breaching"
	}
	return "NonBreaching"
}

func (r Rule) verb(breaching bool) string {
	op := map[string]string{"GreaterThanThreshold": "greater than", "GreaterThanOrEqualToThreshold": "greater than or equal to",
		"LessThanThreshold": "less than", "LessThanOrEqualToThreshold": "less than or equal to"}[r.ComparisonOperator]
	if breaching {
		return op
	}
	return "not " + op
}

// list renders datapoints as CloudWatch does: [10.0 (01/12/26 23:40:00), ...], newest first.
func list(s []Slot) string {
	parts := make([]string, 0, len(s))
	for i := len(s) - 1; i >= 0; i-- {
		parts = append(parts, fmt.Sprintf("%s (%s)", num(s[i].Value), s[i].Start.UTC().Format("02/01/06 15:04:05")))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func num(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eEInN") {
		s += ".0"
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func wasWere(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}
