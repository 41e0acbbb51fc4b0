package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/pkg/api"
	"github.com/switchyard/switchyard/pkg/calendar"
	"github.com/switchyard/switchyard/pkg/client"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/schedule"
)

// dryRun prints the daemon's timeline of a deployment (schedule.Render, in the window's zone).
func (a *app) dryRun(ctx context.Context, c *client.Client, service, tag string, o client.DeployOptions) error {
	dr, err := c.DryRun(ctx, service, tag, o)
	if err != nil {
		return explain(err)
	}
	if a.json() {
		return a.printJSON(dr)
	}
	loc, err := time.LoadLocation(dr.Zone)
	if err != nil {
		loc = time.UTC
	}
	fmt.Fprintf(a.stdout, "Dry run: %s %s, plan %s, %s. Nothing was changed.\n\n", dr.Service, tag, fmtSteps(dr.Steps), dr.Window)
	fmt.Fprint(a.stdout, schedule.Render(dr.Timeline, loc))
	if dr.Refused {
		return fmt.Errorf("the deployment would be refused")
	}
	return nil
}

func parseTime(flag, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s %q: want an RFC 3339 time such as 2026-12-03T07:00:00-05:00", flag, v)
	}
	return t, nil
}

func (a *app) freezeCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "freeze", Short: "Freezes: periods in which no deployment step starts (list, add, delete)"}
	var start, end, reason string
	var services []string
	add := &cobra.Command{
		Use:     "add --start T --end T --reason TEXT [--service S]...",
		Short:   "Add a freeze (audited); running deployments hold (or roll back by window_policy) at once",
		Example: `  switchyard freeze add --start 2026-12-31T00:00:00-05:00 --end 2027-01-02T00:00:00-05:00 --reason "year end"`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := parseTime("start", start)
			if err != nil {
				return err
			}
			e, err := parseTime("end", end)
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			f, err := c.AddFreeze(cmd.Context(), calendar.Freeze{Start: s, End: e, Reason: reason, Services: services})
			if err != nil {
				return explain(err)
			}
			if a.json() {
				return a.printJSON(f)
			}
			fmt.Fprintf(a.stdout, "Freeze %s added: %s to %s (%s)\n", f.ID, f.Start.Format(time.RFC3339), f.End.Format(time.RFC3339), f.Reason)
			return nil
		},
	}
	add.Flags().StringVar(&start, "start", "", "start (RFC 3339)")
	add.Flags().StringVar(&end, "end", "", "end (RFC 3339)")
	add.Flags().StringVar(&reason, "reason", "", "why (required, audited)")
	add.Flags().StringSliceVar(&services, "service", nil, "limit to these services (default every service)")
	list := &cobra.Command{Use: "list", Short: "List freezes", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		c, err := a.client()
		if err != nil {
			return err
		}
		fs, err := c.Freezes(cmd.Context())
		if err != nil {
			return explain(err)
		}
		if a.json() {
			return a.printJSON(fs)
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTART\tEND\tSERVICES\tBY\tREASON")
		for _, f := range fs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.ID, f.Start.Format(time.RFC3339), f.End.Format(time.RFC3339), orAll(f.Services), f.CreatedBy, f.Reason)
		}
		return tw.Flush()
	}}
	cmd.AddCommand(add, list, a.deleteCommand("delete ID", "Delete a freeze (audited)", (*client.Client).DeleteFreeze))
	return cmd
}

func (a *app) closureCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "closure", Short: "Exchange closures the NYSE rules do not know (list, add, delete)"}
	var date, start, end, reason string
	add := &cobra.Command{
		Use:     "add (--date D | --start T --end T) --reason TEXT",
		Short:   "Add an exchange closure (audited)",
		Example: `  switchyard closure add --date 2025-01-09 --reason "National Day of Mourning"`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl := calendar.Closure{Reason: reason}
			var err error
			if date != "" {
				if cl.Date, err = calendar.ParseDate(date); err != nil {
					return fmt.Errorf("--date %q: want YYYY-MM-DD", date)
				}
			}
			if start != "" {
				if cl.Start, err = parseTime("start", start); err != nil {
					return err
				}
			}
			if end != "" {
				if cl.End, err = parseTime("end", end); err != nil {
					return err
				}
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			rec, err := c.AddClosure(cmd.Context(), cl)
			if err != nil {
				return explain(err)
			}
			if a.json() {
				return a.printJSON(rec)
			}
			fmt.Fprintf(a.stdout, "Closure %s added (%s)\n", rec.ID, rec.Reason)
			return nil
		},
	}
	add.Flags().StringVar(&date, "date", "", "a whole trading day (YYYY-MM-DD, exchange time)")
	add.Flags().StringVar(&start, "start", "", "or a time range: start (RFC 3339)")
	add.Flags().StringVar(&end, "end", "", "end (RFC 3339)")
	add.Flags().StringVar(&reason, "reason", "", "why (required, audited)")
	list := &cobra.Command{Use: "list", Short: "List closures (configured and added)", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		c, err := a.client()
		if err != nil {
			return err
		}
		cs, err := c.Closures(cmd.Context())
		if err != nil {
			return explain(err)
		}
		if a.json() {
			return a.printJSON(cs)
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tWHEN\tBY\tREASON")
		for _, cl := range cs {
			when := cl.Date.String()
			if cl.Date.IsZero() {
				when = cl.Start.Format(time.RFC3339) + " to " + cl.End.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", orDash(cl.ID), when, cl.CreatedBy, cl.Reason)
		}
		return tw.Flush()
	}}
	cmd.AddCommand(add, list, a.deleteCommand("delete ID", "Delete an added closure (audited)", (*client.Client).DeleteClosure))
	return cmd
}

func (a *app) scheduleCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "schedule", Short: "Recurring deployments of the newest matching tag (list, add, pause, resume, delete)"}
	var b api.ScheduleBody
	add := &cobra.Command{
		Use:   "add NAME --service S --cron EXPR --tz ZONE --tags REGEXP [--policy skip|defer|queue]",
		Short: "Add a recurring schedule (audited)",
		Example: `  switchyard schedule add premarket --service web --cron "15 7 * * 1-5" --tz America/New_York \
      --tags '^v\d+\.\d+\.\d+$' --policy defer`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b.Name = args[0]
			c, err := a.client()
			if err != nil {
				return err
			}
			rec, err := c.AddSchedule(cmd.Context(), b)
			if err != nil {
				return explain(err)
			}
			if a.json() {
				return a.printJSON(rec)
			}
			fmt.Fprintf(a.stdout, "Schedule %s added: %s\n", rec.Name, describeSchedule(*rec))
			return nil
		},
	}
	add.Flags().StringVar(&b.Service, "service", "", "service to deploy")
	add.Flags().StringVar(&b.Cron, "cron", "", "five-field cron expression (or CRON_TZ=Zone prefix)")
	add.Flags().StringVar(&b.TZ, "tz", "", "IANA zone of the cron expression")
	add.Flags().StringVar(&b.Tags, "tags", "", "regular expression the image tag must match (the newest by push time is deployed)")
	add.Flags().StringVar((*string)(&b.Policy), "policy", "skip", "when the window is shut or the service busy: skip, defer or queue")
	list := &cobra.Command{Use: "list", Short: "List schedules with their next activation and last outcome", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		c, err := a.client()
		if err != nil {
			return err
		}
		ss, err := c.Schedules(cmd.Context())
		if err != nil {
			return explain(err)
		}
		if a.json() {
			return a.printJSON(ss)
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSERVICE\tSCHEDULE\tNEXT\tLAST\tWHY")
		for _, s := range ss {
			next := "-"
			if s.NextFire != nil {
				next = s.NextFire.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Service, describeSchedule(s), next, orDash(s.LastAction), s.LastReason)
		}
		return tw.Flush()
	}}
	pause := func(use, short string, paused bool) *cobra.Command {
		var reason string
		c := &cobra.Command{Use: use + " NAME", Short: short, Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			rec, err := cl.PauseSchedule(cmd.Context(), args[0], reason, paused)
			if err != nil {
				return explain(err)
			}
			if a.json() {
				return a.printJSON(rec)
			}
			fmt.Fprintf(a.stdout, "Schedule %s %sd\n", rec.Name, use)
			return nil
		}}
		c.Flags().StringVar(&reason, "reason", "", "why (audited)")
		return c
	}
	cmd.AddCommand(add, list, pause("pause", "Pause a schedule (audited)", true), pause("resume", "Resume a paused schedule (audited)", false),
		a.deleteCommand("delete NAME", "Delete a schedule (audited)", (*client.Client).DeleteSchedule))
	return cmd
}

func (a *app) deleteCommand(use, short string, del func(*client.Client, context.Context, string, string) error) *cobra.Command {
	var reason string
	cmd := &cobra.Command{Use: use, Short: short, Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
		c, err := a.client()
		if err != nil {
			return err
		}
		if err := del(c, cmd.Context(), args[0], reason); err != nil {
			return explain(err)
		}
		fmt.Fprintf(a.stdout, "Deleted %s\n", args[0])
		return nil
	}}
	cmd.Flags().StringVar(&reason, "reason", "", "why (audited)")
	return cmd
}

func describeSchedule(s deploy.ScheduleRecord) string {
	parts := []string{s.Cron}
	if s.TZ != "" {
		parts = append(parts, "("+s.TZ+")")
	}
	parts = append(parts, "tags "+s.Tags, "policy "+string(orPolicy(s.Policy)))
	if s.Paused {
		parts = append(parts, "PAUSED")
	}
	return strings.Join(parts, " ")
}

func orPolicy(p schedule.Policy) schedule.Policy {
	if p == "" {
		return schedule.PolicySkip
	}
	return p
}

func orAll(s []string) string {
	if len(s) == 0 {
		return "*"
	}
	return strings.Join(s, ",")
}
