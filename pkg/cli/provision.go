package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/pkg/client"
	"github.com/switchyard/switchyard/pkg/provision"
)

// ExitDrift is the exit code of `provision drift` when something changed outside Terraform.
const ExitDrift = 3

type provisionFlags struct {
	dir, backendConfig, binary, lockTimeout, configPath, statePath string
	local, skipInit, reload                                        bool
	varFiles, vars                                                 []string
}

// provisionCommand is `switchyard provision`: it drives tofu/terraform (terraform-exec) on the stack
// and writes the stack's controller output into the daemon configuration.
func provisionCommand() *cobra.Command {
	f := &provisionFlags{}
	cmd := &cobra.Command{
		Use:   "provision",
		Short: "Provision the Terraform/OpenTofu stack and write the daemon configuration from its outputs",
		Long: `provision runs OpenTofu (or Terraform >= ` + provision.MinVersion + `) on the stack in --dir through
terraform-exec: plan, apply, destroy, output (write the daemon configuration from the stack's
"controller" output) and drift (refresh-only plan; exit code 3 when something changed outside
Terraform apart from the fields the controller owns).

State lives in the backend the stack declares, configured with --backend-config FILE (S3 + DynamoDB
lock). Without --backend-config (or with --local-backend) a local state file is used instead, through
the override file ` + provision.LocalBackendOverrideFile + ` written into --dir.

init runs first unless --skip-init. Ctrl-C asks tofu/terraform to stop gracefully: the state is saved
and the lock released.`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.dir, "dir", "terraform", "stack directory")
	pf.StringVar(&f.backendConfig, "backend-config", "", "backend configuration file (S3 bucket, key, region, DynamoDB lock table)")
	pf.BoolVar(&f.local, "local-backend", false, "keep state in a local file (the default without --backend-config)")
	pf.StringVar(&f.statePath, "state", provision.DefaultLocalStatePath, "local backend state file, relative to --dir")
	pf.StringArrayVar(&f.varFiles, "var-file", nil, "variables file (repeatable)")
	pf.StringArrayVar(&f.vars, "var", nil, "variable name=value (repeatable)")
	pf.StringVar(&f.binary, "binary", "", "tofu/terraform executable (default: tofu, then terraform, on PATH)")
	pf.StringVar(&f.lockTimeout, "lock-timeout", "0s", "how long to wait for the state lock")
	pf.BoolVar(&f.skipInit, "skip-init", false, "do not run init first")
	pf.StringVar(&f.configPath, "config", "configs/switchyard.yaml", "daemon configuration file to write (apply, output)")
	pf.BoolVar(&f.reload, "reload", false, "after writing the configuration, ask the daemon at --server to reload it")

	for _, sub := range []*cobra.Command{provisionPlanCommand(f), provisionApplyCommand(f, false), provisionApplyCommand(f, true),
		provisionOutputCommand(f), provisionDriftCommand(f)} {
		run := sub.RunE
		sub.RunE = func(cmd *cobra.Command, args []string) error { return interrupted(run(cmd, args)) }
		cmd.AddCommand(sub)
	}
	return cmd
}

// interrupted gives a Ctrl-C'd run the conventional exit code 130, so scripts can tell it from a failure.
func interrupted(err error) error {
	if provision.KindOf(err) == provision.KindCanceled {
		return &exitError{code: ExitInterrupted, msg: "Interrupted: " + err.Error()}
	}
	return err
}

func wantJSON(cmd *cobra.Command) bool {
	o, _ := cmd.Flags().GetString("output")
	return o == "json"
}

// progressWriter is stdout for text output and stderr for JSON output or output --dry-run, so stdout stays parseable.
func progressWriter(cmd *cobra.Command) io.Writer {
	if dry, _ := cmd.Flags().GetBool("dry-run"); wantJSON(cmd) || dry {
		return cmd.ErrOrStderr()
	}
	return cmd.OutOrStdout()
}

func (f *provisionFlags) provisioner(cmd *cobra.Command) (*provision.Provisioner, error) {
	p, err := provision.New(cmd.Context(), provision.Options{
		Dir: f.dir, Binary: f.binary, BackendConfig: f.backendConfig, LocalBackend: f.local, LocalStatePath: f.statePath,
		VarFiles: f.varFiles, Vars: f.vars, LockTimeout: f.lockTimeout, SkipInit: f.skipInit,
		Progress: progressWriter(cmd),
	})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(progressWriter(cmd), "Using %s\n", p.Binary())
	return p, nil
}

func provisionPlanCommand(f *provisionFlags) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Plan and print a summary by module (optionally save the plan for apply --plan)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := f.provisioner(cmd)
			if err != nil {
				return err
			}
			res, err := p.Plan(cmd.Context(), provision.PlanOptions{Out: out})
			if err != nil {
				return err
			}
			if wantJSON(cmd) {
				return printJSONTo(cmd.OutOrStdout(), res.Summary)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintln(w)
			res.Summary.Write(w)
			if out != "" {
				fmt.Fprintf(w, "\nSaved the plan to %s: apply exactly it with\n  switchyard provision apply --plan %s\n", out, out)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "plan-out", "", "save the plan to this file")
	return cmd
}

func provisionApplyCommand(f *provisionFlags, destroy bool) *cobra.Command {
	var planFile string
	var autoApprove, skipConfig bool
	use, short := "apply", "Apply a saved plan, or plan, confirm and apply; then write the daemon configuration"
	if destroy {
		use, short = "destroy", "Plan the destruction of the whole stack, confirm and apply it"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := f.provisioner(cmd)
			if err != nil {
				return err
			}
			w := progressWriter(cmd)
			opts := provision.ApplyOptions{
				PlanFile:    planFile,
				AutoApprove: autoApprove,
				OnPlan:      func(s *provision.PlanSummary) { fmt.Fprintln(w); s.Write(w); fmt.Fprintln(w) },
				Confirm:     confirmer(cmd, destroy),
			}
			run := p.Apply
			if destroy {
				run = p.Destroy
			}
			res, err := run(cmd.Context(), opts)
			if err != nil {
				return err
			}
			if res != nil && !res.Summary.HasChanges() {
				fmt.Fprintln(w, "Nothing to do.")
			}
			if destroy {
				if wantJSON(cmd) && res != nil {
					return printJSONTo(cmd.OutOrStdout(), res.Summary)
				}
				return nil
			}
			if skipConfig {
				return nil
			}
			return writeDaemonConfig(cmd, f, p)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&autoApprove, "auto-approve", false, "do not ask for confirmation")
	if !destroy {
		fl.StringVar(&planFile, "plan", "", "apply this saved plan (from plan --plan-out) without planning again")
		fl.BoolVar(&skipConfig, "skip-config", false, "do not write the daemon configuration after applying")
	}
	return cmd
}

func provisionOutputCommand(f *provisionFlags) *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "output",
		Short: "Validate the stack's controller output and merge it into the daemon configuration",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := f.provisioner(cmd)
			if err != nil {
				return err
			}
			if !dryRun {
				return writeDaemonConfig(cmd, f, p)
			}
			out, err := p.Output(cmd.Context())
			if err != nil {
				return err
			}
			existing, err := os.ReadFile(f.configPath)
			if err != nil && !os.IsNotExist(err) {
				return err
			}
			merged, res, err := provision.MergeConfig(existing, out)
			if err != nil {
				return err
			}
			for _, warn := range append(out.Warnings, res.Warnings...) {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", warn)
			}
			_, err = cmd.OutOrStdout().Write(merged)
			return err
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the merged configuration instead of writing it")
	return cmd
}

func provisionDriftCommand(f *provisionFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "drift",
		Short: "Refresh-only plan: report changes made outside Terraform (exit code 3 when there are any)",
		Long: `drift runs a refresh-only plan and reports resources changed outside Terraform, ignoring the
attributes the controller changes at run time (listener/rule forward weights, ECS service task
definition and desired count). Exit codes: 0 no drift, 3 drift, 1 the check itself failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := f.provisioner(cmd)
			if err != nil {
				return err
			}
			rep, err := p.Drift(cmd.Context())
			if err != nil {
				return err
			}
			if wantJSON(cmd) {
				if err := printJSONTo(cmd.OutOrStdout(), rep); err != nil {
					return err
				}
			} else {
				rep.Write(cmd.OutOrStdout())
			}
			if rep.HasDrift() {
				return &exitError{code: ExitDrift}
			}
			return nil
		},
	}
}

// writeDaemonConfig reads the controller output, merges it into --config and tells the daemon.
func writeDaemonConfig(cmd *cobra.Command, f *provisionFlags, p *provision.Provisioner) error {
	ctx := cmd.Context()
	out, err := p.Output(ctx)
	if err != nil {
		return err
	}
	res, err := provision.WriteConfig(f.configPath, out)
	if err != nil {
		return err
	}
	w := progressWriter(cmd)
	for _, warn := range append(out.Warnings, res.Warnings...) {
		fmt.Fprintln(w, "warning:", warn)
	}
	if wantJSON(cmd) {
		if err := printJSONTo(cmd.OutOrStdout(), map[string]any{"config": f.configPath, "changed": res.Changed,
			"added": res.Added, "updated": res.Updated, "untouched": res.Untouched, "controller": out}); err != nil {
			return err
		}
	}
	if !res.Changed {
		fmt.Fprintf(w, "%s is up to date with the stack.\n", f.configPath)
		return nil
	}
	fmt.Fprintf(w, "Wrote %s: services added %v, updated %v", f.configPath, res.Added, res.Updated)
	if len(res.Untouched) > 0 {
		fmt.Fprintf(w, ", not in the stack (left as they were) %v", res.Untouched)
	}
	fmt.Fprintln(w)
	if !f.reload {
		fmt.Fprintln(w, "A running daemon reads it on SIGHUP (kill -HUP <pid>) or `switchyard reload`; in-flight deployments keep their settings.")
		return nil
	}
	return reloadDaemon(ctx, cmd, w)
}

func reloadDaemon(ctx context.Context, cmd *cobra.Command, w io.Writer) error {
	server, _ := cmd.Flags().GetString("server")
	token, _ := cmd.Flags().GetString("token")
	if !cmd.Flags().Changed("server") {
		if v := os.Getenv(EnvServer); v != "" {
			server = v
		}
	}
	if !cmd.Flags().Changed("token") {
		token = os.Getenv(EnvToken)
	}
	c, err := client.New(server, token, nil)
	if err != nil {
		return err
	}
	if err := c.Reload(ctx, "switchyard provision: configuration written from the stack outputs"); err != nil {
		return fmt.Errorf("configuration written, but the daemon at %s did not reload it (send it SIGHUP): %w", server, err)
	}
	fmt.Fprintf(w, "The daemon at %s reloaded its configuration.\n", server)
	return nil
}

// confirmer asks on the terminal. A non-terminal stdin refuses: an unattended run must say
// --auto-approve (or apply a reviewed saved plan) explicitly.
func confirmer(cmd *cobra.Command, destroy bool) func(*provision.PlanSummary) (bool, error) {
	return func(*provision.PlanSummary) (bool, error) {
		in := cmd.InOrStdin()
		if f, ok := in.(*os.File); ok && !isatty.IsTerminal(f.Fd()) && !isatty.IsCygwinTerminal(f.Fd()) {
			return false, &provision.Error{Op: "provision.confirm", Kind: provision.KindNotConfirmed,
				Message: "refusing to change infrastructure without confirmation: stdin is not a terminal; pass --auto-approve, " +
					"or save a plan with `provision plan --plan-out FILE`, review it and run `provision apply --plan FILE`"}
		}
		what := "apply these changes"
		if destroy {
			what = "DESTROY everything in this stack"
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "Do you want to %s? Only 'yes' or 'y' is accepted: ", what)
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && line == "" {
			return false, nil
		}
		switch strings.ToLower(strings.TrimSpace(line)) {
		case "y", "yes":
			return true, nil
		}
		return false, nil
	}
}

func printJSONTo(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
