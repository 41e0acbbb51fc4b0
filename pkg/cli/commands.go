package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/pkg/client"
	"github.com/switchyard/switchyard/pkg/deploy"
)

func (a *app) deployCommand() *cobra.Command {
	var (
		sf     strategyFlags
		reason string
		wait   bool
		force  bool
		dryRun bool
		at     string
	)
	cmd := &cobra.Command{
		Use:   "deploy SERVICE TAG",
		Short: "Start a deployment of an image tag to a service",
		Example: `  switchyard deploy web v1.4.2 --wait
  switchyard deploy web v1.4.2 --strategy canary --canary-percent 5 --bake 2m
  switchyard deploy web v1.4.2 --steps "1:1m,10:2m,50:2m,100" --reason "JIRA-123"
  switchyard deploy web v1.4.2 --force --reason "the firing alarm is the bug this release fixes"
  switchyard deploy web v1.4.2 --dry-run                      # the timeline: windows, holds, bakes
  switchyard deploy web v1.4.2 --at 2026-12-03T07:00:00-05:00 # pending (nothing changed) until then`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := sf.build(cmd.Flags())
			if err != nil {
				return err
			}
			if force && strings.TrimSpace(reason) == "" {
				return fmt.Errorf("--force needs --reason (it is recorded in the audit log)")
			}
			if err := deploy.ValidateTag(args[1]); err != nil {
				return fmt.Errorf("%s", deploy.MessageOf(err))
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			opts := client.DeployOptions{Strategy: st, Reason: reason, Force: force}
			if at != "" {
				t, err := time.Parse(time.RFC3339, at)
				if err != nil {
					return fmt.Errorf("--at %q: want an RFC 3339 time such as 2026-12-03T07:00:00-05:00", at)
				}
				opts.StartAt = &t
			}
			if dryRun {
				return a.dryRun(cmd.Context(), c, args[0], args[1], opts)
			}
			d, err := c.CreateDeployment(cmd.Context(), args[0], args[1], opts)
			if err != nil {
				return explain(err)
			}
			if a.json() && !wait {
				return a.printJSON(d)
			}
			if !a.json() {
				fmt.Fprintf(a.stdout, "Deployment %s started: %s %s -> %s, %s (plan %s)\n", d.ID, d.Service, d.ImageTag,
					d.To, fmtStrategy(d.Strategy), fmtSteps(d.Steps))
			}
			if !wait {
				fmt.Fprintf(a.stdout, "Follow it with: switchyard watch %s\n", d.ID)
				return nil
			}
			return a.watch(cmd.Context(), c, d.ID)
		},
	}
	sf.register(cmd.Flags())
	cmd.Flags().StringVar(&reason, "reason", "", "why (recorded in the audit log)")
	cmd.Flags().BoolVar(&force, "force", false, "deploy although a guarding alarm is already in ALARM (needs --reason; audited)")
	cmd.Flags().BoolVar(&wait, "wait", false, "watch progress until the deployment ends; exit 0 succeeded, 2 rolled back, 1 failed")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the timeline (calendar, window, freezes, bakes) and change nothing")
	cmd.Flags().StringVar(&at, "at", "", "start at this RFC 3339 time; pending and changing nothing until then")
	return cmd
}

// explain adds a hint to errors the operator can act on.
func explain(err error) error {
	if ae, ok := err.(*client.APIError); ok {
		switch {
		case ae.ActiveID != "":
			return fmt.Errorf("%w\n(watch it with 'switchyard watch %s' or stop it with 'switchyard abort %s')", err, ae.ActiveID, ae.ActiveID)
		case ae.Status == 401:
			return fmt.Errorf("%w\n(set the token with --token or %s)", err, EnvToken)
		case ae.Kind() == deploy.KindGuardFiring:
			return fmt.Errorf("%w\n(a guard already says no; to deploy anyway repeat with --force --reason \"...\")", err)
		}
	}
	return err
}

func (a *app) statusCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "status [SERVICE|DEPLOYMENT_ID]",
		Short: "Show services with their live weights, a service's active deployment, or a deployment",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			ss, err := c.Services(ctx)
			if err != nil {
				return explain(err)
			}
			if len(args) == 0 {
				if a.json() {
					return a.printJSON(ss)
				}
				return printServices(a.stdout, ss)
			}
			// A service name and a deployment id could look alike; the configured services decide.
			for _, s := range ss {
				if s.Name != args[0] {
					continue
				}
				var active *deploy.Deployment
				if s.Active != "" {
					if active, err = c.Deployment(ctx, s.Active); err != nil {
						return explain(err)
					}
				}
				if a.json() {
					return a.printJSON(struct {
						Service deploy.ServiceStatus `json:"service"`
						Active  *deploy.Deployment   `json:"active_deployment"`
					}{s, active})
				}
				if err := printServices(a.stdout, []deploy.ServiceStatus{s}); err != nil {
					return err
				}
				fmt.Fprintln(a.stdout)
				if active == nil {
					fmt.Fprintf(a.stdout, "No active deployment of %s (see 'switchyard history %s').\n", s.Name, s.Name)
					return nil
				}
				return printDeployment(a.stdout, active)
			}
			d, err := c.Deployment(ctx, args[0])
			if err != nil {
				if client.IsKind(err, deploy.KindNotFound) {
					return fmt.Errorf("%q is neither a configured service nor a known deployment", args[0])
				}
				return explain(err)
			}
			if a.json() {
				return a.printJSON(d)
			}
			return printDeployment(a.stdout, d)
		},
	}
}

func (a *app) historyCommand() *cobra.Command {
	var (
		limit  int
		active bool
	)
	cmd := &cobra.Command{
		Use:   "history SERVICE",
		Short: "List a service's deployments, newest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if limit < 1 {
				return fmt.Errorf("--limit %d: must be at least 1", limit)
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			ds, err := c.Deployments(cmd.Context(), args[0], client.ListOptions{Limit: limit, ActiveOnly: active})
			if err != nil {
				return explain(err)
			}
			if a.json() {
				return a.printJSON(ds)
			}
			if len(ds) == 0 {
				fmt.Fprintf(a.stdout, "No deployments of %s.\n", args[0])
				return nil
			}
			return printDeployments(a.stdout, ds)
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "show at most N deployments")
	cmd.Flags().BoolVar(&active, "active", false, "only the active deployment")
	return cmd
}

func (a *app) actionCommand(name, short string) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   name + " DEPLOYMENT_ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var d *deploy.Deployment
			ctx := cmd.Context()
			switch name {
			case "abort":
				d, err = c.Abort(ctx, args[0], reason)
			case "pause":
				d, err = c.Pause(ctx, args[0], reason)
			case "resume":
				d, err = c.Resume(ctx, args[0], reason)
			case "promote":
				d, err = c.Promote(ctx, args[0], reason)
			}
			if err != nil {
				return explain(err)
			}
			if a.json() {
				return a.printJSON(d)
			}
			fmt.Fprintf(a.stdout, "%s: %s accepted; state %s, %s\n", d.ID, name, d.State, fmtWeights(d.Weights))
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (recorded in the audit log)")
	return cmd
}

func (a *app) eventsCommand() *cobra.Command {
	var after int64
	cmd := &cobra.Command{
		Use:   "events DEPLOYMENT_ID",
		Short: "Show a deployment's audit log: who did what, when and why",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			evs, err := c.Events(cmd.Context(), args[0], after)
			if err != nil {
				return explain(err)
			}
			if a.json() {
				if evs == nil {
					evs = []deploy.Event{}
				}
				return a.printJSON(evs)
			}
			return printEvents(a.stdout, evs)
		},
	}
	cmd.Flags().Int64Var(&after, "after", 0, "only events with a sequence number above SEQ")
	return cmd
}

func (a *app) reloadCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "reload",
		Short: "Ask the daemon to re-read its configuration (services and tokens), like SIGHUP",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if err := c.Reload(cmd.Context(), ""); err != nil {
				return explain(err)
			}
			fmt.Fprintln(a.stdout, "configuration reloaded")
			return nil
		},
	}
}
