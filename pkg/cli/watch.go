package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/pkg/client"
	"github.com/switchyard/switchyard/pkg/deploy"
)

// maxPollFailures is how many polls in a row may fail (e.g. while the daemon restarts) before watching
// gives up.
const maxPollFailures = 20

func (a *app) watchCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "watch DEPLOYMENT_ID",
		Short: "Follow a deployment live until it ends; exit 0 succeeded, 2 rolled back, 1 failed",
		Long: `Follow a deployment: print each audit event as it happens and a progress line with the state,
the step, the blue/green weights and the guarding alarms. Ctrl-C stops watching; the deployment goes on.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			return a.watch(cmd.Context(), c, args[0])
		},
	}
}

// alarmStates extracts alarm states from an event's detail. Two conventions are understood:
// "alarm:<name>" = "<STATE>" (one key per alarm, e.g. on every alarm poll that changed something), and
// "alarm" = "<name>" with "alarm_state" = "<STATE>" (one alarm, e.g. the one that triggered a rollback).
func alarmStates(detail map[string]string, into map[string]string) {
	for k, v := range detail {
		if name, ok := strings.CutPrefix(k, "alarm:"); ok && name != "" {
			into[name] = v
		}
	}
	if name := detail["alarm"]; name != "" && detail["alarm_state"] != "" {
		into[name] = detail["alarm_state"]
	}
}

func progressLine(d *deploy.Deployment, alarms map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s  step %s  %s", d.ID, strings.ToUpper(string(d.State)), fmtStep(d), fmtWeights(d.Weights))
	if len(alarms) > 0 {
		b.WriteString("  alarms: " + fmtDetail(alarms))
	}
	return b.String()
}

func eventLine(e deploy.Event) string {
	s := fmt.Sprintf("%s  %-12s %-18s", e.Time.Local().Format("15:04:05"), e.Actor, e.Action)
	if e.State != "" {
		s += " [" + string(e.State) + "]"
	}
	if e.Reason != "" {
		s += " " + e.Reason
	}
	if len(e.Detail) > 0 {
		s += "  " + fmtDetail(e.Detail)
	}
	return s
}

// watch polls the deployment and its events until it ends. It never changes the deployment.
func (a *app) watch(ctx context.Context, c *client.Client, id string) error {
	var (
		after    int64
		alarms   = map[string]string{}
		last     string
		failures int
		drawn    bool // a progress line is on screen without a newline (TTY)
		seen     bool // one poll succeeded: later failures are likely a daemon restart
	)
	enc := json.NewEncoder(a.stdout)
	clearLine := func() {
		if drawn {
			fmt.Fprint(a.stdout, "\r\033[K")
			drawn = false
		}
	}
	for {
		d, evs, err := a.poll(ctx, c, id, after)
		if ctx.Err() != nil {
			clearLine()
			return &exitError{code: ExitInterrupted, msg: fmt.Sprintf(
				"Stopped watching %s; the deployment continues.\nResume watching with 'switchyard watch %s'; abort it with 'switchyard abort %s --reason ...'.", id, id, id)}
		}
		if err != nil {
			if !seen || !retryable(err) {
				clearLine()
				return explain(err)
			}
			failures++
			if failures >= maxPollFailures {
				clearLine()
				return fmt.Errorf("giving up after %d failed polls: %w", failures, err)
			}
		} else {
			failures, seen = 0, true
			for _, e := range evs {
				after = e.Seq
				alarmStates(e.Detail, alarms)
				if a.json() {
					_ = enc.Encode(e)
					continue
				}
				clearLine()
				fmt.Fprintln(a.stdout, eventLine(e))
			}
			if d != nil {
				// The daemon reports the guarding alarms' last polled states with the deployment.
				for _, g := range d.Guard {
					alarms[g.Name] = g.State
				}
			}
			if !a.json() {
				line := progressLine(d, alarms)
				switch {
				case a.tty:
					clearLine()
					fmt.Fprint(a.stdout, line)
					drawn = true
				case line != last:
					fmt.Fprintln(a.stdout, line)
				}
				last = line
			}
			if d.State.Terminal() {
				if drawn {
					fmt.Fprintln(a.stdout) // keep the final progress line on screen
				}
				return a.finish(d)
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(a.pollInterval):
		}
	}
}

// poll reads the deployment and then its new events: reading events second means every event written
// before the state we saw is included, so the final event batch is never missed.
func (a *app) poll(ctx context.Context, c *client.Client, id string, after int64) (*deploy.Deployment, []deploy.Event, error) {
	d, err := c.Deployment(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	evs, err := c.Events(ctx, id, after)
	if err != nil {
		return nil, nil, err
	}
	return d, evs, nil
}

// retryable tells transient trouble (daemon restarting, 5xx) from answers that will not change.
func retryable(err error) bool {
	var ae *client.APIError
	if errors.As(err, &ae) {
		return ae.Status >= 500
	}
	return true // transport errors: connection refused while the daemon restarts
}

// finish prints the summary and turns the outcome into the exit code.
func (a *app) finish(d *deploy.Deployment) error {
	if a.json() {
		_ = a.printJSON(d)
	}
	took := ""
	if d.FinishedAt != nil && !d.CreatedAt.IsZero() {
		took = " in " + d.FinishedAt.Sub(d.CreatedAt).Round(time.Second).String()
	}
	switch d.State {
	case deploy.StateSucceeded:
		out := a.stdout
		if a.json() {
			out = a.stderr // stdout stays pure JSON
		}
		fmt.Fprintf(out, "Deployment %s succeeded%s: %s %s is live on %s.\n", d.ID, took, d.Service, d.ImageTag, d.To)
		return nil
	case deploy.StateRolledBack:
		return &exitError{code: ExitRolledBack, msg: fmt.Sprintf("Deployment %s ROLLED BACK%s: %s; %s is back on %s. See 'switchyard events %s'.",
			d.ID, took, fmtOutcome(d), d.Service, d.From, d.ID)}
	default:
		return &exitError{code: ExitError, msg: fmt.Sprintf("Deployment %s FAILED%s: %s; it needs an operator (see 'switchyard events %s' and 'switchyard status %s').",
			d.ID, took, fmtOutcome(d), d.ID, d.Service)}
	}
}
