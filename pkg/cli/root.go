// Package cli is the switchyard command line: `serve` runs the daemon, the other commands talk to a
// daemon through its HTTP API (package client).
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/pkg/client"
)

// Exit codes. A watched deployment that rolled back is not a CLI error but must fail a pipeline, and
// differently from "could not even ask": CI can tell a bad release from a broken tool.
const (
	ExitOK          = 0
	ExitError       = 1   // command failed, or the watched deployment failed
	ExitRolledBack  = 2   // the watched deployment rolled back
	ExitInterrupted = 130 // Ctrl-C while watching (the deployment continues)
)

// Environment variables read when the corresponding flag is not given.
const (
	EnvServer = "SWITCHYARD_SERVER"
	EnvToken  = "SWITCHYARD_TOKEN"
)

// DefaultServer is the daemon address when neither --server nor SWITCHYARD_SERVER is set.
const DefaultServer = "http://127.0.0.1:8080"

// exitError carries an exit code; msg (when set) is printed to stderr.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// app holds global options and the process's streams, so tests can run commands in-process.
type app struct {
	server, token, output string
	stdout, stderr        io.Writer
	pollInterval          time.Duration
	// tty reports whether stdout is a terminal (progress is redrawn in place there).
	tty bool
	// serve hooks, replaced in tests.
	hup      <-chan os.Signal
	onListen func(addr string)
	onReload func(error)
}

func newApp(stdout, stderr io.Writer) *app {
	a := &app{stdout: stdout, stderr: stderr, pollInterval: 500 * time.Millisecond}
	if f, ok := stdout.(*os.File); ok {
		a.tty = isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
	}
	return a
}

// Execute runs the CLI with the process's arguments and returns the exit code. SIGINT/SIGTERM cancel
// the command's context (serve shuts down, watch stops watching); a second signal gets the default
// behaviour, so a stuck shutdown can still be killed.
func Execute() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop()
	}()
	return Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
}

// Run executes the CLI with args and returns the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return newApp(stdout, stderr).run(ctx, args)
}

func (a *app) run(ctx context.Context, args []string) int {
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(a.stderr, ee.msg)
		}
		return ee.code
	}
	fmt.Fprintln(a.stderr, "Error:", err)
	return ExitError
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "switchyard",
		Short: "Zero-downtime blue/green deployments on ECS Fargate behind an ALB",
		Long: `switchyard ships container releases to ECS Fargate with blue/green services and weighted ALB
routing, shifting traffic in verified steps while CloudWatch alarms are watched, and rolling back
automatically within seconds.

'switchyard serve' runs the daemon; the other commands talk to it over its HTTP API.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("server") {
				if v := os.Getenv(EnvServer); v != "" {
					a.server = v
				}
			}
			if !cmd.Flags().Changed("token") {
				a.token = os.Getenv(EnvToken)
			}
			switch a.output {
			case "text", "json":
			default:
				return fmt.Errorf("--output %q: must be text or json", a.output)
			}
			return nil
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.server, "server", DefaultServer, "daemon URL (env "+EnvServer+")")
	pf.StringVar(&a.token, "token", "", "API bearer token (env "+EnvToken+"; prefer the variable: flags show up in ps)")
	pf.StringVarP(&a.output, "output", "o", "text", "output format: text or json")

	root.AddCommand(
		a.serveCommand(),
		a.deployCommand(),
		a.statusCommand(),
		a.historyCommand(),
		a.actionCommand("abort", "Abort a deployment: shift all traffic back to the previous slot"),
		a.actionCommand("pause", "Pause a deployment: hold the weights where they are (alarms stay watched)"),
		a.actionCommand("resume", "Resume a paused deployment"),
		a.actionCommand("promote", "Promote a deployment: skip its remaining steps and bakes"),
		a.eventsCommand(),
		a.analysisCommand(),
		a.watchCommand(),
		a.reloadCommand(),
		a.freezeCommand(),
		a.closureCommand(),
		a.scheduleCommand(),
		provisionCommand(),
	)
	// Flag errors (e.g. a malformed --bake) name the command's help.
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return fmt.Errorf("%w (see '%s --help')", err, cmd.CommandPath())
	})
	return root
}

func (a *app) client() (*client.Client, error) {
	return client.New(a.server, a.token, nil)
}

func (a *app) json() bool { return a.output == "json" }

func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
