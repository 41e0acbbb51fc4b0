// Package provision drives tofu/terraform through terraform-exec to stand up the stack in terraform/,
// reports plans and progress for humans, classifies failures into typed errors, and turns the stack's
// controller output into the daemon's service configuration (see configfile.go).
package provision

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"
)

// LocalBackendOverrideFile is written into the stack directory in local-backend mode. Terraform merges
// *_override.tf files last, and a backend block in one replaces the stack's backend "s3" {}, so trials
// keep their state in a local file and no bucket is ever contacted. It stays while in local mode
// (every later command must see the same backend as init did) and is removed when a run uses
// --backend-config. Add it to .gitignore.
const LocalBackendOverrideFile = "_switchyard_local_backend_override.tf"

const overrideMarker = "# Written by `switchyard provision --local-backend`"

// DefaultLocalStatePath is the local backend's state file, relative to the stack directory.
const DefaultLocalStatePath = "terraform.tfstate"

// Options configure a Provisioner.
type Options struct {
	Dir            string   // stack directory (default "terraform")
	Binary         string   // tofu/terraform path or name; empty: tofu, then terraform, on PATH
	BackendConfig  string   // -backend-config file for the stack's backend (S3 + DynamoDB lock)
	LocalBackend   bool     // force a local backend; implied when BackendConfig is empty
	LocalStatePath string   // local backend state path (default DefaultLocalStatePath)
	VarFiles       []string // -var-file
	Vars           []string // -var name=value
	LockTimeout    string   // how long to wait for the state lock (default "0s": fail at once, naming the holder)
	SkipInit       bool     // do not run init first
	// Progress receives human progress lines (nil: discard); OnEvent receives them as structures.
	Progress io.Writer
	OnEvent  func(Event)
	// Tick is the interval of the elapsed-time line during long operations (0: 5s; negative: never).
	Tick time.Duration
}

// Provisioner runs one stack. It is not safe for concurrent use (terraform-exec keeps per-command
// writers on its Terraform value), so methods serialise.
type Provisioner struct {
	mu          sync.Mutex
	opts        Options
	dir         string
	tf          *tfexec.Terraform
	bin         Binary
	initialized bool
}

// New finds and checks the binary (version >= MinVersion) and prepares a Provisioner for opts.Dir.
func New(ctx context.Context, opts Options) (*Provisioner, error) {
	const op = "provision.New"
	if opts.Dir == "" {
		opts.Dir = "terraform"
	}
	if opts.LocalBackend && opts.BackendConfig != "" {
		return nil, &Error{Op: op, Kind: KindInvalidConfig, Message: "choose either a local backend or --backend-config, not both"}
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, &Error{Op: op, Kind: KindInvalidConfig, Err: err, Message: "stack directory"}
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, &Error{Op: op, Kind: KindInvalidConfig, Err: err, Message: fmt.Sprintf("stack directory %s does not exist", dir)}
	}
	if opts.BackendConfig != "" {
		if opts.BackendConfig, err = filepath.Abs(opts.BackendConfig); err != nil {
			return nil, &Error{Op: op, Kind: KindInvalidConfig, Err: err, Message: "backend config"}
		}
		if _, err := os.Stat(opts.BackendConfig); err != nil {
			return nil, &Error{Op: op, Kind: KindInvalidConfig, Err: err, Message: "backend config file"}
		}
	}
	for i, vf := range opts.VarFiles {
		if opts.VarFiles[i], err = filepath.Abs(vf); err != nil {
			return nil, &Error{Op: op, Kind: KindInvalidConfig, Err: err, Message: "var file"}
		}
		if _, err := os.Stat(opts.VarFiles[i]); err != nil {
			return nil, &Error{Op: op, Kind: KindInvalidConfig, Err: err, Message: "var file " + vf}
		}
	}
	for _, v := range opts.Vars {
		if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
			return nil, &Error{Op: op, Kind: KindInvalidConfig, Message: fmt.Sprintf("--var %q: want name=value", v)}
		}
	}
	if opts.LocalStatePath == "" {
		opts.LocalStatePath = DefaultLocalStatePath
	}
	if opts.LockTimeout == "" {
		opts.LockTimeout = "0s"
	}
	if opts.Tick == 0 {
		opts.Tick = 5 * time.Second
	}
	path, err := FindBinary(opts.Binary)
	if err != nil {
		return nil, err
	}
	tf, err := tfexec.NewTerraform(dir, path)
	if err != nil {
		return nil, &Error{Op: op, Kind: KindBinaryMissing, Err: err, Message: "binary missing"}
	}
	bin, err := checkBinary(ctx, tf, path)
	if err != nil {
		return nil, err
	}
	return &Provisioner{opts: opts, dir: dir, tf: tf, bin: bin}, nil
}

// Binary describes the executable in use (product, version, path).
func (p *Provisioner) Binary() Binary { return p.bin }

// Dir is the absolute stack directory.
func (p *Provisioner) Dir() string { return p.dir }

// Local reports whether state is kept by a local backend.
func (p *Provisioner) Local() bool { return p.opts.BackendConfig == "" }

func (p *Provisioner) say(format string, args ...any) {
	if p.opts.Progress != nil {
		fmt.Fprintf(p.opts.Progress, format+"\n", args...)
	}
}

// Init writes or removes the local-backend override and runs init (-reconfigure, so switching between
// local trials and the S3 backend never prompts for a state migration).
func (p *Provisioner) Init(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.init(ctx)
}

func (p *Provisioner) init(ctx context.Context) error {
	const op = "provision.init"
	if err := p.syncBackendOverride(); err != nil {
		return &Error{Op: op, Kind: KindFailed, Err: err, Message: "writing the local backend override"}
	}
	opts := []tfexec.InitOption{tfexec.Reconfigure(true), tfexec.Backend(true)}
	backend := "local " + p.opts.LocalStatePath
	if !p.Local() {
		opts = append(opts, tfexec.BackendConfig(p.opts.BackendConfig))
		backend = "from " + p.opts.BackendConfig
	}
	p.say("Initialising %s with %s (backend: %s)...", p.dir, p.bin, backend)
	start := time.Now()
	p.tf.SetStdout(nil)
	if err := classify(ctx, op, p.bin.Name(), p.tf.Init(ctx, opts...), nil); err != nil {
		return err
	}
	p.say("Initialised in %s.", fmtElapsed(time.Since(start)))
	p.initialized = true
	return nil
}

// syncBackendOverride writes the local backend override in local mode and removes ours otherwise.
func (p *Provisioner) syncBackendOverride() error {
	path := filepath.Join(p.dir, LocalBackendOverrideFile)
	if !p.Local() {
		b, err := os.ReadFile(path)
		if err == nil && strings.HasPrefix(string(b), overrideMarker) {
			return os.Remove(path)
		}
		return nil
	}
	content := fmt.Sprintf("%s for a local trial: it replaces the\n# stack's backend with a local state file. Removed by a run with --backend-config.\nterraform {\n  backend \"local\" {\n    path = %q\n  }\n}\n",
		overrideMarker, filepath.ToSlash(p.opts.LocalStatePath))
	if b, err := os.ReadFile(path); err == nil && string(b) == content {
		return nil
	}
	return os.WriteFile(path, []byte(content), 0o644)
}

func (p *Provisioner) prepare(ctx context.Context) error {
	if p.initialized {
		return nil
	}
	if p.opts.SkipInit {
		// Still make the backend files match the mode, so the error (if any) is "not initialised".
		if err := p.syncBackendOverride(); err != nil {
			return &Error{Op: "provision.prepare", Kind: KindFailed, Err: err, Message: "writing the local backend override"}
		}
		return nil
	}
	return p.init(ctx)
}

// PlanOptions select the kind of plan.
type PlanOptions struct {
	Out         string // save the plan here (default: a temporary file, removed after the summary)
	Destroy     bool
	RefreshOnly bool
}

// PlanResult is a finished plan.
type PlanResult struct {
	Summary  *PlanSummary
	PlanFile string // empty when the plan was not kept
	// HasChanges is tofu/terraform's own verdict (exit code 2 of -detailed-exitcode).
	HasChanges bool
	drift      DriftReport
}

// Plan runs a plan, prints progress, and summarises it by module.
func (p *Provisioner) Plan(ctx context.Context, po PlanOptions) (*PlanResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.prepare(ctx); err != nil {
		return nil, err
	}
	keep := po.Out != ""
	res, cleanup, err := p.plan(ctx, "provision.plan", po)
	if err != nil {
		return nil, err
	}
	if !keep {
		cleanup()
		res.PlanFile = ""
	}
	return res, nil
}

func (p *Provisioner) plan(ctx context.Context, op string, po PlanOptions) (*PlanResult, func(), error) {
	cleanup := func() {}
	out := po.Out
	if out == "" {
		tmp, err := os.MkdirTemp("", "switchyard-plan-")
		if err != nil {
			return nil, nil, &Error{Op: op, Kind: KindFailed, Err: err, Message: "temporary plan directory"}
		}
		cleanup = func() { os.RemoveAll(tmp) }
		out = filepath.Join(tmp, "switchyard.tfplan")
	} else {
		var err error
		if out, err = filepath.Abs(out); err != nil {
			return nil, nil, &Error{Op: op, Kind: KindInvalidConfig, Err: err, Message: "plan file"}
		}
	}
	opts := []tfexec.PlanOption{tfexec.Out(out), tfexec.LockTimeout(p.opts.LockTimeout)}
	if po.Destroy {
		opts = append(opts, tfexec.Destroy(true))
	}
	if po.RefreshOnly {
		opts = append(opts, tfexec.RefreshOnly(true))
	}
	for _, vf := range p.opts.VarFiles {
		opts = append(opts, tfexec.VarFile(vf))
	}
	for _, v := range p.opts.Vars {
		opts = append(opts, tfexec.Var(v))
	}
	label := "plan"
	if po.Destroy {
		label = "destroy plan"
	} else if po.RefreshOnly {
		label = "refresh"
	}
	p.say("Planning (%s)...", label)
	pr := newProgress(p.opts.Progress, p.opts.OnEvent, p.opts.Tick, label)
	has, runErr := p.tf.PlanJSON(ctx, pr, opts...)
	pr.Close()
	p.tf.SetStdout(nil) // PlanJSON leaves its writer installed for every later command
	if err := classify(ctx, op, p.bin.Name(), runErr, pr.diagnostics()); err != nil {
		cleanup()
		return nil, nil, err
	}
	plan, err := p.tf.ShowPlanFile(ctx, out)
	if err != nil {
		cleanup()
		return nil, nil, classify(ctx, op, p.bin.Name(), err, nil)
	}
	res := &PlanResult{Summary: Summarize(plan), PlanFile: out, HasChanges: has}
	if po.RefreshOnly {
		res.drift = AnalyzeDrift(plan)
	}
	return res, cleanup, nil
}

// ApplyOptions control Apply and Destroy.
type ApplyOptions struct {
	// PlanFile applies this saved plan as is (no new plan, no confirmation: it was reviewed when saved).
	PlanFile string
	// AutoApprove skips Confirm.
	AutoApprove bool
	// Confirm is shown the plan and returns whether to go ahead; nil without AutoApprove refuses.
	Confirm func(*PlanSummary) (bool, error)
	// OnPlan, when set, is called with the plan before confirmation (e.g. to print the summary).
	OnPlan func(*PlanSummary)
}

// Apply applies a saved plan, or plans, asks for confirmation and applies exactly that plan.
// The returned PlanResult is nil when a saved plan was applied.
func (p *Provisioner) Apply(ctx context.Context, ao ApplyOptions) (*PlanResult, error) {
	return p.applyFlow(ctx, "provision.apply", false, ao)
}

// Destroy plans the destruction of everything in the stack, asks for confirmation and applies it.
func (p *Provisioner) Destroy(ctx context.Context, ao ApplyOptions) (*PlanResult, error) {
	return p.applyFlow(ctx, "provision.destroy", true, ao)
}

func (p *Provisioner) applyFlow(ctx context.Context, op string, destroy bool, ao ApplyOptions) (*PlanResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.prepare(ctx); err != nil {
		return nil, err
	}
	if ao.PlanFile != "" {
		planFile, err := filepath.Abs(ao.PlanFile)
		if err != nil {
			return nil, &Error{Op: op, Kind: KindInvalidConfig, Err: err, Message: "plan file"}
		}
		return nil, p.applyPlan(ctx, op, planFile, "apply")
	}
	res, cleanup, err := p.plan(ctx, op, PlanOptions{Destroy: destroy})
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if ao.OnPlan != nil {
		ao.OnPlan(res.Summary)
	}
	if !res.HasChanges {
		res.PlanFile = ""
		return res, nil
	}
	if !ao.AutoApprove {
		if ao.Confirm == nil {
			return nil, &Error{Op: op, Kind: KindNotConfirmed, Message: "refusing to change infrastructure without confirmation (pass --auto-approve)"}
		}
		ok, err := ao.Confirm(res.Summary)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, &Error{Op: op, Kind: KindNotConfirmed, Message: "not confirmed: nothing was changed"}
		}
	}
	label := "apply"
	if destroy {
		label = "destroy"
	}
	if err := p.applyPlan(ctx, op, res.PlanFile, label); err != nil {
		return nil, err
	}
	res.PlanFile = ""
	return res, nil
}

func (p *Provisioner) applyPlan(ctx context.Context, op, planFile, label string) error {
	p.say("Applying (%s)...", label)
	pr := newProgress(p.opts.Progress, p.opts.OnEvent, p.opts.Tick, label)
	runErr := p.tf.ApplyJSON(ctx, pr, tfexec.DirOrPlan(planFile), tfexec.LockTimeout(p.opts.LockTimeout))
	pr.Close()
	p.tf.SetStdout(nil)
	return classify(ctx, op, p.bin.Name(), runErr, pr.diagnostics())
}

// Output reads and validates the stack's controller output.
func (p *Provisioner) Output(ctx context.Context) (*ControllerOutput, error) {
	const op = "provision.output"
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.prepare(ctx); err != nil {
		return nil, err
	}
	outs, err := p.tf.Output(ctx)
	if err != nil {
		return nil, classify(ctx, op, p.bin.Name(), err, nil)
	}
	meta, ok := outs[ControllerOutputName]
	if !ok {
		names := make([]string, 0, len(outs))
		for n := range outs {
			names = append(names, n)
		}
		msg := fmt.Sprintf("the stack has no %q output", ControllerOutputName)
		if len(outs) == 0 {
			msg += " (no outputs at all: has it been applied?)"
		} else {
			msg += fmt.Sprintf(" (it has: %s)", strings.Join(names, ", "))
		}
		return nil, &Error{Op: op, Kind: KindInvalidOutput, Message: msg}
	}
	out, err := DecodeController(meta.Value)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Drift runs a refresh-only plan and reports changes made outside Terraform, apart from the attributes
// the controller owns (OwnedAttributes). The daemon calls it before a deployment.
func (p *Provisioner) Drift(ctx context.Context) (DriftReport, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.prepare(ctx); err != nil {
		return DriftReport{}, err
	}
	res, cleanup, err := p.plan(ctx, "provision.drift", PlanOptions{RefreshOnly: true})
	if err != nil {
		return DriftReport{}, err
	}
	cleanup()
	return res.drift, nil
}
