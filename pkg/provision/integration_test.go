package provision

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/config"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/test/tofufixture"
)

// Integration tests: the real OpenTofu binary (built by scripts/tools.sh) on a copy of the fixture
// stack with a local backend.

// tofufixture.OperatorConfig is a configuration an operator wrote by hand: tokens, a strategy, timeouts, comments
// and stale infrastructure values that the stack output must replace.

func TestLifecycleWithOpenTofu(t *testing.T) {
	bin := tofufixture.Binary(t)
	tofufixture.Isolate(t)
	dir := tofufixture.Stack(t)
	ctx := context.Background()
	p, progress := newTestProvisioner(t, bin, dir, Options{Vars: []string{"owner=team-a"}})
	if p.Binary().Product != "OpenTofu" || p.Binary().Version == nil {
		t.Fatalf("binary = %+v, want OpenTofu with a version", p.Binary())
	}

	// Plan: the summary counts changes per module, and the plan is saved.
	planFile := filepath.Join(t.TempDir(), "saved.tfplan")
	res, err := p.Plan(ctx, PlanOptions{Out: planFile})
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	want := map[string]int{RootModule: 1, "module.alb": 6, "module.ecs": 3, "module.monitoring": 6}
	if len(res.Summary.Modules) != len(want) {
		t.Fatalf("modules = %+v, want %v", res.Summary.Modules, want)
	}
	for mod, n := range want {
		m := res.Summary.Module(mod)
		if m == nil || m.Add != n || m.Change+m.Destroy+m.Replace != 0 {
			t.Errorf("module %s = %+v, want %d to add", mod, m, n)
		}
	}
	if res.Summary.Add != 16 || !res.HasChanges || res.PlanFile != planFile {
		t.Fatalf("summary = %+v, has changes %v, plan file %q", res.Summary, res.HasChanges, res.PlanFile)
	}
	if _, err := os.Stat(planFile); err != nil {
		t.Fatalf("saved plan: %v", err)
	}
	var text strings.Builder
	res.Summary.Write(&text)
	if !strings.Contains(text.String(), "Plan: 16 to add, 0 to change, 0 to destroy, 0 to replace.") ||
		!strings.Contains(text.String(), "+ module.alb.terraform_data.https_listener") {
		t.Errorf("summary text:\n%s", text.String())
	}

	// Apply the saved plan; progress names resources as they are created.
	if _, err := p.Apply(ctx, ApplyOptions{PlanFile: planFile}); err != nil {
		t.Fatalf("Apply saved plan: %v", err)
	}
	for _, line := range []string{"module.alb.terraform_data.alb: creating...", "module.alb.terraform_data.alb: created in ",
		"Apply complete! Resources: 16 added"} {
		if !strings.Contains(progress.String(), line) {
			t.Errorf("progress lacks %q:\n%s", line, progress.String())
		}
	}

	// Output into an operator's configuration: infrastructure replaced, everything else kept.
	out, err := p.Output(ctx)
	if err != nil {
		t.Fatalf("Output: %v", err)
	}
	cfgPath := filepath.Join(t.TempDir(), "switchyard.yaml")
	if err := os.WriteFile(cfgPath, []byte(tofufixture.OperatorConfig), 0o640); err != nil {
		t.Fatal(err)
	}
	mr, err := WriteConfig(cfgPath, out)
	if err != nil {
		t.Fatalf("WriteConfig: %v", err)
	}
	if !mr.Changed || len(mr.Updated) != 1 || mr.Updated[0] != "web" {
		t.Errorf("merge result = %+v", mr)
	}
	written, _ := os.ReadFile(cfgPath)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatalf("written config does not load: %v\n%s", err, written)
	}
	web := cfg.Services["web"]
	if web.Cluster != "ecs-dev-fx01" || web.BlueService != "svc-blue-dev-fx01" || web.GreenService != "svc-green-dev-fx01" ||
		web.ListenerARN != out.Services["web"].ListenerARN || len(web.RuleARNs) != 1 ||
		web.BlueTargetGroupARN != out.Services["web"].BlueTargetGroupARN || len(web.Alarms) != 2 || len(web.BlueAlarms) != 2 ||
		web.DeregDelay == nil || web.DeregDelay.D() != 30*time.Second {
		t.Errorf("infrastructure fields not updated: %+v", web)
	}
	if cfg.Listen != "127.0.0.1:9090" || len(cfg.Auth.Tokens) != 2 || cfg.Auth.Tokens[0].ValueEnv != "SWITCHYARD_CI_TOKEN" ||
		cfg.Auth.Tokens[1].Value != "s3cret" || !cfg.Auth.Tokens[1].ReadOnly {
		t.Errorf("operator settings lost: listen %q tokens %+v", cfg.Listen, cfg.Auth.Tokens)
	}
	if web.Strategy == nil || web.Strategy.Type != deploy.StrategyLinear || web.Strategy.LinearSteps != 4 ||
		web.ReadyTimeout.D() != 7*time.Minute {
		t.Errorf("operator's strategy/timeouts lost: %+v", web)
	}
	for _, c := range []string{"# Operator's configuration: keep this comment.", "# The operator's rollout policy for web."} {
		if !strings.Contains(string(written), c) {
			t.Errorf("comment %q lost:\n%s", c, written)
		}
	}
	if fi, _ := os.Stat(cfgPath); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v, want the original 0640", fi.Mode().Perm())
	}
	// Writing again changes nothing.
	if mr, err := WriteConfig(cfgPath, out); err != nil || mr.Changed {
		t.Errorf("second WriteConfig: changed=%v err=%v", mr != nil && mr.Changed, err)
	}

	// Nothing left to do, and no drift.
	if res, err := p.Plan(ctx, PlanOptions{}); err != nil || res.HasChanges || res.Summary.HasChanges() {
		t.Fatalf("plan after apply: %+v, %v", res, err)
	}
	if rep, err := p.Drift(ctx); err != nil || rep.HasDrift() {
		t.Fatalf("drift after apply: %+v, %v", rep, err)
	}

	// Destroy: declined, then approved.
	if _, err := p.Destroy(ctx, ApplyOptions{Confirm: func(*PlanSummary) (bool, error) { return false, nil }}); KindOf(err) != KindNotConfirmed {
		t.Fatalf("declined destroy: %v, want %s", err, KindNotConfirmed)
	}
	var asked *PlanSummary
	res, err = p.Destroy(ctx, ApplyOptions{Confirm: func(s *PlanSummary) (bool, error) { asked = s; return true, nil }})
	if err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	if asked == nil || asked.Destroy != 16 || res.Summary.Destroy != 16 {
		t.Fatalf("destroy asked about %+v, result %+v", asked, res.Summary)
	}
	if !strings.Contains(progress.String(), "destroyed in ") {
		t.Errorf("no destroy progress:\n%s", progress.String())
	}
	if res, err := p.Plan(ctx, PlanOptions{}); err != nil || res.Summary.Add != 16 {
		t.Fatalf("plan after destroy: %+v, %v", res, err)
	}
}

func TestApplyRefusesWithoutConfirmation(t *testing.T) {
	bin := tofufixture.Binary(t)
	tofufixture.Isolate(t)
	dir := tofufixture.Stack(t)
	p, _ := newTestProvisioner(t, bin, dir, Options{Vars: []string{"owner=team-a"}})
	_, err := p.Apply(context.Background(), ApplyOptions{})
	if KindOf(err) != KindNotConfirmed {
		t.Fatalf("Apply without Confirm or AutoApprove: %v, want %s", err, KindNotConfirmed)
	}
	if _, err := os.Stat(filepath.Join(dir, DefaultLocalStatePath)); err == nil {
		if res, err := p.Plan(context.Background(), PlanOptions{}); err != nil || res.Summary.Add != 16 {
			t.Fatalf("something was applied: %+v %v", res, err)
		}
	}
}

// waitForEvent returns an OnEvent hook and a channel closed at the first event matching match.
func waitForEvent(match func(Event) bool) (func(Event), <-chan struct{}) {
	ch := make(chan struct{})
	var closed bool
	return func(e Event) {
		if !closed && match(e) {
			closed = true
			close(ch)
		}
	}, ch
}

func slowStarted(e Event) bool {
	return e.Type == "provision_start" && strings.HasPrefix(e.Address, "terraform_data.slow")
}

func TestCancelMidApplyReleasesLock(t *testing.T) {
	bin := tofufixture.Binary(t)
	tofufixture.Isolate(t)
	dir := tofufixture.Stack(t)
	onEvent, started := waitForEvent(slowStarted)
	p, progress := newTestProvisioner(t, bin, dir, Options{Vars: []string{"owner=team-a", "slow_apply_seconds=120"}, OnEvent: onEvent})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-started
		cancel() // what Ctrl-C does through the CLI's signal context
	}()
	_, err := p.Apply(ctx, ApplyOptions{AutoApprove: true})
	if KindOf(err) != KindCanceled || !errors.Is(err, context.Canceled) {
		t.Fatalf("Apply cancelled mid-way: %v (kind %q), want %s wrapping context.Canceled\n%s", err, KindOf(err), KindCanceled, progress.String())
	}
	if deploy.KindOf(err) != deploy.KindUnavailable {
		t.Errorf("deploy kind = %s", deploy.KindOf(err))
	}
	// A following run finds the lock released and the state consistent.
	q, _ := newTestProvisioner(t, bin, dir, Options{Vars: []string{"owner=team-a", "slow_apply_seconds=120"}})
	res, err := q.Plan(context.Background(), PlanOptions{})
	if err != nil {
		t.Fatalf("plan after cancellation: %v", err)
	}
	// The slow resource is created last; everything before it was saved, the interrupted one was
	// not completed (tainted or absent), so exactly it is planned again.
	if len(res.Summary.Modules) != 1 || res.Summary.Add+res.Summary.Replace != 1 ||
		res.Summary.Modules[0].Resources[0].Address != "terraform_data.slow[0]" {
		t.Errorf("plan after cancellation: %+v, want only terraform_data.slow[0] again\n%s", res.Summary, progress.String())
	}
}

func TestHeldLockNamesHolder(t *testing.T) {
	bin := tofufixture.Binary(t)
	tofufixture.Isolate(t)
	dir := tofufixture.Stack(t)
	onEvent, started := waitForEvent(slowStarted)
	holder, _ := newTestProvisioner(t, bin, dir, Options{Vars: []string{"owner=team-a", "slow_apply_seconds=120"}, OnEvent: onEvent})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := holder.Apply(ctx, ApplyOptions{AutoApprove: true})
		done <- err
	}()
	defer func() {
		cancel()
		<-done
	}()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("holder finished before the slow resource started: %v", err)
	}

	other, _ := newTestProvisioner(t, bin, dir, Options{Vars: []string{"owner=team-a"}, SkipInit: true})
	_, err := other.Plan(context.Background(), PlanOptions{})
	var pe *Error
	if !errors.As(err, &pe) || pe.Kind != KindStateLocked {
		t.Fatalf("plan while locked: %v, want %s", err, KindStateLocked)
	}
	l := pe.Lock
	if l == nil || l.ID == "" || l.Who == "" || !strings.Contains(l.Operation, "Apply") || l.Created.IsZero() ||
		time.Since(l.Created) < 0 {
		t.Fatalf("lock info = %+v", l)
	}
	for _, s := range []string{l.Who, l.ID, "since", "force-unlock"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message %q lacks %q", err.Error(), s)
		}
	}
	if deploy.KindOf(err) != deploy.KindConflict {
		t.Errorf("deploy kind = %s", deploy.KindOf(err))
	}
}

func TestMissingVariable(t *testing.T) {
	bin := tofufixture.Binary(t)
	tofufixture.Isolate(t)
	p, _ := newTestProvisioner(t, bin, tofufixture.Stack(t), Options{})
	_, err := p.Plan(context.Background(), PlanOptions{})
	var pe *Error
	if !errors.As(err, &pe) || pe.Kind != KindMissingVariable || len(pe.Variables) != 1 || pe.Variables[0] != "owner" {
		t.Fatalf("plan without owner: %v (%+v), want %s naming owner", err, pe, KindMissingVariable)
	}
}

func TestNotInitialized(t *testing.T) {
	bin := tofufixture.Binary(t)
	tofufixture.Isolate(t)
	p, _ := newTestProvisioner(t, bin, tofufixture.Stack(t), Options{Vars: []string{"owner=x"}, SkipInit: true})
	if _, err := p.Plan(context.Background(), PlanOptions{}); KindOf(err) != KindNotInitialized {
		t.Fatalf("plan without init: %v, want %s", err, KindNotInitialized)
	}
}

// The stack's backend is swapped for the built-in http backend pointing at a closed loopback port:
// the nearest thing to an unreachable S3 bucket that never leaves the machine.
func TestBackendUnreachable(t *testing.T) {
	bin := tofufixture.Binary(t)
	tofufixture.Isolate(t)
	dir := tofufixture.Stack(t)
	if err := os.WriteFile(filepath.Join(dir, "backend_override.tf"), []byte("terraform {\n  backend \"http\" {}\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bc := filepath.Join(t.TempDir(), "backend.hcl")
	if err := os.WriteFile(bc, []byte("address = \"http://127.0.0.1:1/state\"\nretry_max = 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, _ := newTestProvisioner(t, bin, dir, Options{Vars: []string{"owner=x"}, BackendConfig: bc})
	_, err := p.Plan(context.Background(), PlanOptions{})
	if KindOf(err) != KindBackendUnreachable {
		t.Fatalf("plan with an unreachable backend: %v, want %s", err, KindBackendUnreachable)
	}
	if _, err := os.Stat(filepath.Join(dir, LocalBackendOverrideFile)); err == nil {
		t.Error("local backend override present in backend-config mode")
	}
}

// Terraform (not OpenTofu) must work too: version detection and a plan.
func TestTerraformBinary(t *testing.T) {
	const tf = "/usr/local/bin/terraform"
	if _, err := os.Stat(tf); err != nil {
		t.Skipf("%s absent", tf)
	}
	tofufixture.Isolate(t)
	p, _ := newTestProvisioner(t, tf, tofufixture.Stack(t), Options{Vars: []string{"owner=x"}})
	b := p.Binary()
	if b.Product != "Terraform" || b.Version == nil || b.Name() != "terraform" {
		t.Fatalf("binary = %+v", b)
	}
	res, err := p.Plan(context.Background(), PlanOptions{})
	if err != nil || res.Summary.Add != 16 || res.Summary.Module("module.monitoring").Add != 6 {
		t.Fatalf("plan with terraform: %+v, %v", res, err)
	}
}
