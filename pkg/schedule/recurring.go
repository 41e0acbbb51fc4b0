package schedule

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/switchyard/switchyard/pkg/calendar"
	"github.com/switchyard/switchyard/pkg/window"
)

// Policy is what a recurring schedule does when it fires in a closed window or while the service has
// an active deployment.
type Policy string

const (
	// PolicySkip (the default) records why and waits for the next activation.
	PolicySkip Policy = "skip"
	// PolicyDefer tries again later, choosing the tag again then: when the window next fits the first
	// step, or when the active deployment ends.
	PolicyDefer Policy = "defer"
	// PolicyQueue fixes the tag now and enqueues a deployment of it, which starts when the active one
	// ends and the window fits (the controller's step gate holds it until then).
	PolicyQueue Policy = "queue"
)

// Recurring is a recurring deployment schedule: "every trading day at 07:15 ET deploy the newest tag
// matching ^v\d+\.\d+\.\d+$ if it differs from the live one".
type Recurring struct {
	Name    string `json:"name" yaml:"name"`
	Service string `json:"service" yaml:"service"`
	Cron    string `json:"cron" yaml:"cron"`
	TZ      string `json:"tz,omitempty" yaml:"tz,omitempty"`
	// Tags selects candidate image tags; the newest by push time is deployed.
	Tags   string `json:"tags" yaml:"tags"`
	Policy Policy `json:"policy,omitempty" yaml:"policy,omitempty"`
	Paused bool   `json:"paused,omitempty" yaml:"paused,omitempty"`
}

// Validate checks every field; the error names the first bad one.
func (r Recurring) Validate() error {
	_, _, err := r.compile()
	return err
}

func (r Recurring) compile() (Cron, *regexp.Regexp, error) {
	const op = "schedule.Recurring.Validate"
	switch {
	case r.Name == "":
		return Cron{}, nil, calendar.Invalid(op, "name", "required")
	case r.Service == "":
		return Cron{}, nil, calendar.Invalid(op, "service", "required")
	case r.Tags == "":
		return Cron{}, nil, calendar.Invalid(op, "tags", `required: a regular expression such as ^v\d+\.\d+\.\d+$`)
	}
	switch r.Policy {
	case "", PolicySkip, PolicyDefer, PolicyQueue:
	default:
		return Cron{}, nil, calendar.Invalid(op, "policy", "%q: want skip, defer or queue", r.Policy)
	}
	re, err := regexp.Compile(r.Tags)
	if err != nil {
		return Cron{}, nil, calendar.Invalid(op, "tags", "%v", err)
	}
	c, err := ParseCron(r.Cron, r.TZ, "cron")
	if err != nil {
		return Cron{}, nil, err
	}
	return c, re, nil
}

// Next is the schedule's first activation strictly after t (zero when paused or never).
func (r Recurring) Next(t time.Time) (time.Time, error) {
	c, _, err := r.compile()
	if err != nil || r.Paused {
		return time.Time{}, err
	}
	return c.FireAtOrAfter(t.Add(time.Nanosecond)), nil
}

// Candidate is an image tag in the repository.
type Candidate struct {
	Tag      string
	PushedAt time.Time
}

// Fire is what the daemon knows when a schedule fires.
type Fire struct {
	At         time.Time
	Window     *window.Window // the service's window (nil: always)
	Need       time.Duration  // the first step's worst-case length (Timeouts.Need)
	ActiveID   string         // the service's active deployment, "" when none
	LiveTag    string
	Candidates []Candidate
}

// Action is what a schedule's activation does.
type Action string

const (
	ActionDeploy  Action = "deploy"  // create a deployment of Tag now
	ActionNothing Action = "nothing" // no tag to deploy (none matches, or the newest is live)
	ActionSkip    Action = "skip"
	ActionDefer   Action = "defer" // decide again at RetryAt (zero: when the active deployment ends)
	ActionQueue   Action = "queue" // enqueue a deployment of Tag, not to start before RetryAt
)

// Decision is an activation's outcome and the reason to record.
type Decision struct {
	Action  Action
	Tag     string
	RetryAt time.Time
	Reason  string
}

// Decide is what the schedule does at an activation. It chooses the newest matching tag first (so a
// record says what would have been deployed), then applies the policy to an active deployment, then to
// the window: the first step must fit the window from the activation on.
func (r Recurring) Decide(f Fire) (Decision, error) {
	_, re, err := r.compile()
	if err != nil {
		return Decision{}, err
	}
	if r.Paused {
		return Decision{Action: ActionSkip, Reason: "schedule is paused"}, nil
	}
	tag, ok := newest(f.Candidates, re)
	switch {
	case !ok:
		return Decision{Action: ActionNothing, Reason: fmt.Sprintf("no tag matches %s", r.Tags)}, nil
	case tag == f.LiveTag:
		return Decision{Action: ActionNothing, Tag: tag, Reason: fmt.Sprintf("newest tag matching %s is %s, already live", r.Tags, tag)}, nil
	}
	policy := cmp.Or(r.Policy, PolicySkip)
	if f.ActiveID != "" {
		why := "deployment " + f.ActiveID + " of " + r.Service + " is active"
		switch policy {
		case PolicyDefer:
			return Decision{Action: ActionDefer, Tag: tag, Reason: why + ": deferred until it ends"}, nil
		case PolicyQueue:
			return Decision{Action: ActionQueue, Tag: tag, Reason: why + ": " + tag + " queued behind it"}, nil
		}
		return Decision{Action: ActionSkip, Tag: tag, Reason: why + ": skipped " + tag}, nil
	}
	if f.Window == nil || f.Window.CanFinish(f.At, f.Need) {
		return Decision{Action: ActionDeploy, Tag: tag, Reason: fmt.Sprintf("newest tag matching %s is %s (live: %s)", r.Tags, tag, cmp.Or(f.LiveTag, "none"))}, nil
	}
	why := "window shut at " + show(f.At, f.Window) + ": " + f.Window.Why(f.At, f.Need)
	if policy == PolicySkip {
		return Decision{Action: ActionSkip, Tag: tag, Reason: why + ": skipped " + tag}, nil
	}
	next, err := f.Window.NextStart(f.At, f.Need)
	if err != nil {
		return Decision{Action: ActionSkip, Tag: tag, Reason: why + ": skipped, " + err.Error()}, nil
	}
	if policy == PolicyDefer {
		return Decision{Action: ActionDefer, Tag: tag, RetryAt: next, Reason: why + ": deferred to " + show(next, f.Window)}, nil
	}
	return Decision{Action: ActionQueue, Tag: tag, RetryAt: next, Reason: why + ": " + tag + " queued to start at " + show(next, f.Window)}, nil
}

// newest is the matching tag pushed last (ties: the greater tag, so the choice is deterministic).
func newest(cs []Candidate, re *regexp.Regexp) (string, bool) {
	var m []Candidate
	for _, c := range cs {
		if re.MatchString(c.Tag) {
			m = append(m, c)
		}
	}
	if len(m) == 0 {
		return "", false
	}
	best := slices.MaxFunc(m, func(a, b Candidate) int {
		return cmp.Or(a.PushedAt.Compare(b.PushedAt), cmp.Compare(a.Tag, b.Tag))
	})
	return best.Tag, true
}
