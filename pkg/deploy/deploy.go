// Package deploy holds switchyard's domain: deployments and their states, services, strategies and the
// narrow interfaces (ports) through which the controller reaches AWS and the store. It imports no SDK.
package deploy

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/schedule"
	"github.com/switchyard/switchyard/pkg/window"
)

// Slot names one of a service's two ECS services / target groups. Which slot is live changes with every
// successful deployment; the live slot is read from the ALB weights, never assumed.
type Slot string

const (
	SlotBlue  Slot = "blue"
	SlotGreen Slot = "green"
)

// Other returns the opposite slot.
func (s Slot) Other() Slot {
	if s == SlotBlue {
		return SlotGreen
	}
	return SlotBlue
}

func (s Slot) Valid() bool { return s == SlotBlue || s == SlotGreen }

// State is a deployment's place in its state machine.
type State string

const (
	StatePending     State = "pending"      // accepted and persisted; nothing done yet
	StatePreparing   State = "preparing"    // registering the task definition and bringing the idle service up
	StateShifting    State = "shifting"     // moving weights step by step, baking between steps
	StatePaused      State = "paused"       // operator paused; weights held where they are, still guarded
	StateFinalizing  State = "finalizing"   // 100% on the new slot; waiting out deregistration, scaling the old down
	StateSucceeded   State = "succeeded"    // terminal: the new slot is live
	StateRollingBack State = "rolling_back" // weights going back to the previous slot
	StateRolledBack  State = "rolled_back"  // terminal: previous slot live at 100%, new slot scaled down
	StateFailed      State = "failed"       // terminal: could not proceed nor roll back cleanly; needs an operator
)

// Terminal reports whether no further transitions happen from s.
func (s State) Terminal() bool {
	return s == StateSucceeded || s == StateRolledBack || s == StateFailed
}

// Active reports whether a deployment in this state holds the service's deployment lock.
func (s State) Active() bool { return !s.Terminal() }

// Cause says why a deployment was rolled back.
type Cause string

const (
	CauseAlarm     Cause = "alarm"     // a guarding CloudWatch alarm is in ALARM
	CauseUnhealthy Cause = "unhealthy" // new targets unhealthy past the threshold
	CauseECS       Cause = "ecs"       // ECS reported the deployment failed (circuit breaker, tasks stopping)
	CauseTimeout   Cause = "timeout"   // the new service did not become stable/healthy in time
	CauseAbort     Cause = "abort"     // an operator aborted
	CauseRecovery  Cause = "recovery"  // the daemon restarted and the recovery policy chose to roll back
	CauseError     Cause = "error"     // an AWS call kept failing
	CauseStale     Cause = "stale"     // the guards could not be read for guard_stale_after
	CauseAnalysis  Cause = "analysis"  // the analysis judged the new release worse (or could not measure it)
)

// Weights is a traffic split in ALB weights (each 0-999). Percent values are derived, never stored.
type Weights struct {
	Blue  int `json:"blue"`
	Green int `json:"green"`
}

// MaxWeight is the largest weight an ALB accepts for one target group in a forward action.
const MaxWeight = 999

// Of returns the weight of slot s.
func (w Weights) Of(s Slot) int {
	if s == SlotBlue {
		return w.Blue
	}
	return w.Green
}

// Validate rejects weights that an ALB would refuse or that send no traffic anywhere. The emulator accepts
// out-of-range weights silently, so the daemon checks them itself.
func (w Weights) Validate() error {
	if w.Blue < 0 || w.Blue > MaxWeight || w.Green < 0 || w.Green > MaxWeight {
		return Errorf("weights.Validate", KindInvalid, "weights %d/%d out of range 0-%d", w.Blue, w.Green, MaxWeight)
	}
	if w.Blue+w.Green == 0 {
		return Errorf("weights.Validate", KindInvalid, "weights 0/0 send no traffic")
	}
	return nil
}

// Percent returns the share of traffic (0-100) that slot s receives.
func (w Weights) Percent(s Slot) float64 {
	total := w.Blue + w.Green
	if total == 0 {
		return 0
	}
	return 100 * float64(w.Of(s)) / float64(total)
}

// AllOn returns weights that send all traffic to slot s.
func AllOn(s Slot) Weights {
	if s == SlotBlue {
		return Weights{Blue: MaxWeight}
	}
	return Weights{Green: MaxWeight}
}

// Split returns weights giving slot to the given percent (0-100) of traffic, using the ALB's full 0-999
// range so that fractional canaries such as 0.5% are expressible.
func Split(to Slot, percent float64) Weights {
	g := int(percent/100*MaxWeight + 0.5)
	if g > MaxWeight {
		g = MaxWeight
	}
	if g < 0 {
		g = 0
	}
	rest := MaxWeight - g
	if to == SlotGreen {
		return Weights{Blue: rest, Green: g}
	}
	return Weights{Blue: g, Green: rest}
}

// LiveSlot returns the slot that receives all traffic, or false when traffic is split (or nowhere).
func (w Weights) LiveSlot() (Slot, bool) {
	switch {
	case w.Blue > 0 && w.Green == 0:
		return SlotBlue, true
	case w.Green > 0 && w.Blue == 0:
		return SlotGreen, true
	}
	return "", false
}

func (w Weights) String() string { return fmt.Sprintf("blue=%d green=%d", w.Blue, w.Green) }

// Duration is a time.Duration that reads and writes as a Go duration string ("30s", "2m") in JSON and YAML.
type Duration time.Duration

func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n float64
		if err2 := json.Unmarshal(b, &n); err2 != nil {
			return fmt.Errorf("duration must be a string such as \"30s\": %w", err)
		}
		// A number of seconds; out of range (1e300) or negative must not wrap into some other duration.
		if math.IsNaN(n) || n < 0 || n*float64(time.Second) >= math.MaxInt64 {
			return fmt.Errorf("invalid duration %v seconds: out of range", n)
		}
		*d = Duration(time.Duration(n * float64(time.Second)))
		return nil
	}
	return d.parse(s)
}

func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

func (d *Duration) UnmarshalText(b []byte) error { return d.parse(string(b)) }

func (d *Duration) parse(s string) error {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("invalid duration %q (use e.g. 30s, 2m, 1h)", s)
	}
	if v < 0 {
		return fmt.Errorf("invalid duration %q: negative", s)
	}
	*d = Duration(v)
	return nil
}

// Route is one place in the ALB whose forward action carries the blue/green weights: a listener's default
// action (RuleARN empty) or a listener rule.
type Route struct {
	ListenerARN string `json:"listener_arn,omitempty"`
	RuleARN     string `json:"rule_arn,omitempty"`
}

func (r Route) String() string {
	if r.RuleARN != "" {
		return "rule " + r.RuleARN
	}
	return "listener " + r.ListenerARN
}

// Service is one deployable application as the controller sees it: two ECS services (slots) behind two
// target groups whose weights are set on one or more routes.
type Service struct {
	Name      string `json:"name"`
	Cluster   string `json:"cluster"`
	Container string `json:"container"`
	// ImageRepository is the image name without tag (e.g. 123.dkr.ecr.us-east-1.amazonaws.com/web).
	// When it is an ECR repository, the tag's existence is checked before a deployment starts.
	ImageRepository string          `json:"image_repository"`
	ECSServices     map[Slot]string `json:"ecs_services"`
	TargetGroups    map[Slot]string `json:"target_groups"`
	Routes          []Route         `json:"routes"`
	// TestRoute, when set, is the test listener: it forwards only to the colour being released, so the
	// release can be checked before it gets production traffic.
	TestRoute      *Route            `json:"test_route,omitempty"`
	Alarms         []string          `json:"alarms"`      // watched during every deployment
	SlotAlarms     map[Slot][]string `json:"slot_alarms"` // watched while that slot takes traffic as the new one
	Strategy       Strategy          `json:"strategy"`    // default strategy
	DeregDelay     Duration          `json:"deregistration_delay"`
	ReadyTimeout   Duration          `json:"ready_timeout"`   // new slot stable + healthy within this
	StepTimeout    Duration          `json:"step_timeout"`    // a weight change must verify within this
	UnhealthyAfter Duration          `json:"unhealthy_after"` // new targets unhealthy this long => rollback
	UnhealthyMax   int               `json:"unhealthy_max"`   // this many unhealthy new targets are tolerated
	// Guards: GuardStaleAfter is how long the guards (alarms, the new slot's ECS service and targets) may
	// go without a good reading before GuardStalePolicy applies; InsufficientData says what an alarm in
	// INSUFFICIENT_DATA means. See docs/recovery.md, "Guards".
	GuardStaleAfter  Duration         `json:"guard_stale_after"`
	GuardStalePolicy StalePolicy      `json:"guard_stale_policy"`
	InsufficientData InsufficientData `json:"insufficient_data"`
	// Analysis, when set, judges every release from evidence (README, "Analysis").
	Analysis *AnalysisSpec `json:"analysis,omitempty"`
	// Window, when set, is when this service's steps may start (nil: always); WindowPolicy is what a
	// deployment caught outside it does (docs/schedules.md).
	Window       *window.Spec           `json:"window,omitempty"`
	WindowPolicy schedule.OutsidePolicy `json:"window_policy,omitempty"`
}

// StalePolicy is what a deployment does when its guards cannot be read for GuardStaleAfter.
type StalePolicy string

const (
	StaleRollback StalePolicy = "rollback" // default: no evidence, no release
	StalePause    StalePolicy = "pause"    // hold the weights, paused, for an operator
)

// InsufficientData is the meaning of a guarding alarm in INSUFFICIENT_DATA.
type InsufficientData string

const (
	// InsufficientStale (default): not evidence either way. No step advances on it, and an alarm that
	// stays there for GuardStaleAfter is stale.
	InsufficientStale InsufficientData = "stale"
	InsufficientOK    InsufficientData = "ok"    // counts as a good reading (alarms on sparse metrics)
	InsufficientAlarm InsufficientData = "alarm" // counts as firing: roll back
)

// Defaults of the guard settings.
const (
	DefaultGuardStaleAfter = 30 * time.Second
	// MaxBake bounds a step's bake (ECS native blue/green allows 1440 minutes).
	MaxBake = 24 * time.Hour
)

// AlarmsFor returns the alarms guarding a deployment whose new slot is to.
func (s Service) AlarmsFor(to Slot) []string {
	out := append([]string(nil), s.Alarms...)
	return append(out, s.SlotAlarms[to]...)
}

var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// ServiceNameRE is the rule for service names (config keys, API paths, Terraform controller output).
var ServiceNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

// ValidateTag checks an image tag against the OCI/Docker tag grammar.
func ValidateTag(tag string) error {
	if !tagRE.MatchString(tag) {
		return Errorf("deploy.ValidateTag", KindInvalid,
			"invalid image tag %q: use 1-128 characters from [A-Za-z0-9_.-], not starting with '.' or '-'", tag)
	}
	return nil
}

// Deployment is one release of an image tag to a service: a persisted state machine. Every field needed
// to resume after a crash is here.
type Deployment struct {
	ID      string `json:"id"`
	Service string `json:"service"`
	// Spec is the service as configured when the deployment was created: a config reload never changes
	// an in-flight deployment, and recovery after a restart needs no configuration lookup.
	Spec     Service  `json:"spec"`
	ImageTag string   `json:"image_tag"`
	Image    string   `json:"image"`
	Strategy Strategy `json:"strategy"`
	Steps    []Step   `json:"steps"`
	State    State    `json:"state"`
	// PausedFrom is the state to return to on resume.
	PausedFrom State `json:"paused_from,omitempty"`
	// Step is the index in Steps of the current (or last) weight step; -1 before the first shift.
	Step int `json:"step"`
	// From is the slot that was live when the deployment started; To receives the new release.
	From Slot `json:"from"`
	To   Slot `json:"to"`
	// PreviousTaskDef is the task definition From runs; TaskDef is the one registered for To.
	PreviousTaskDef string `json:"previous_task_definition,omitempty"`
	TaskDef         string `json:"task_definition,omitempty"`
	// PreviousToTaskDef is what the idle slot ran before, so a rollback can restore it exactly.
	PreviousToTaskDef string `json:"previous_to_task_definition,omitempty"`
	DesiredCount      int    `json:"desired_count"`
	// Weights are the last weights read back and verified on every route.
	Weights Weights `json:"weights"`
	// Intended is written before every ModifyListener/ModifyRule (the journal): a restart that finds live
	// weights equal to Intended or Weights can explain them.
	Intended *Weights `json:"intended,omitempty"`
	Cause    Cause    `json:"cause,omitempty"`
	Reason   string   `json:"reason,omitempty"`
	// Promote asks the controller to skip the remaining steps.
	Promote bool `json:"promote,omitempty"`
	// ForcedAlarms were already in ALARM when the deployment was forced through: they are acknowledged
	// (neither a trigger nor blocking) until they are first read in OK, and guard normally from then on.
	ForcedAlarms []string `json:"forced_alarms,omitempty"`
	CreatedBy    string   `json:"created_by"`
	// Analysis is the run of Spec.Analysis: stored at each verdict change and checkpoint, read live
	// through the controller while the deployment is active.
	Analysis *AnalysisRun `json:"analysis,omitempty"`
	// Guard holds the guarding alarms' last polled states. It is filled when a deployment is read through
	// the controller and never stored.
	Guard []AlarmState `json:"guard,omitempty"`
	// Live holds the weights read from the ALB, route by route, when the deployment is read through the
	// controller while active. Never stored.
	Live []RouteWeights `json:"live,omitempty"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// StartAt holds a pending deployment until then (deploy --at): nothing is changed before.
	StartAt *time.Time `json:"start_at,omitempty"`
	// StepReadyAt is when the current step became ready (the one before it baked): a step's timing
	// (cron) and window gate are computed from it, so a restart or a late wake recomputes the same start.
	StepReadyAt   *time.Time `json:"step_ready_at,omitempty"`
	StepStartedAt *time.Time `json:"step_started_at,omitempty"`
	// ShiftedAt is when the final weights were verified on To (finalizing starts the dereg wait then).
	ShiftedAt *time.Time `json:"shifted_at,omitempty"`
	// RetireAt is the point of no return: set (and stored) right before the old slot is scaled down.
	// From then on the deployment can only finish forwards; a rollback would send traffic to a slot
	// with no tasks.
	RetireAt   *time.Time `json:"retire_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// Quarantine, when set, says why the store could not read this record back: the daemon does not
	// run it, reports it, keeps its service locked and goes on guarding everything else.
	Quarantine string `json:"quarantine,omitempty"`
	// Version increases with every update; the store rejects stale writes.
	Version int64 `json:"version"`
}

// CurrentStep returns the step in progress, if any.
func (d *Deployment) CurrentStep() (Step, bool) {
	if d.Step < 0 || d.Step >= len(d.Steps) {
		return Step{}, false
	}
	return d.Steps[d.Step], true
}

// Event is one entry of a deployment's audit trail: who did what, when and why. Operator actions,
// automatic decisions and every weight change are events.
type Event struct {
	Seq int64 `json:"seq"`
	// ID, when set by the writer, makes AppendEvent idempotent: a retried append of the same ID (after a
	// write whose outcome was unknown) stores nothing new.
	ID           string            `json:"id,omitempty"`
	DeploymentID string            `json:"deployment_id"`
	Service      string            `json:"service"`
	Time         time.Time         `json:"time"`
	Actor        string            `json:"actor"`  // token name, or "controller" for automatic actions
	Action       string            `json:"action"` // e.g. "create", "weights.set", "rollback", "abort"
	State        State             `json:"state,omitempty"`
	Reason       string            `json:"reason,omitempty"`
	Detail       map[string]string `json:"detail,omitempty"`
}

// ActorController is the actor of automatic actions.
const ActorController = "controller"
