// Command demo runs switchyard's main job on embedded defaults, with no AWS account: it starts the kumo
// AWS emulator and an ECS stand-in on loopback, creates a demo stack in them, starts `switchyard serve`
// with the SQLite store, deploys v2 with live progress, then deploys v3 and fires a guarding alarm
// mid-shift to show the automatic rollback and its audit trail. scripts/demo.sh builds and runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/switchyard/switchyard/pkg/client"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/test/demostack"
	"github.com/switchyard/switchyard/test/emulator"
)

const token = "demo-admin-token-not-secret-0001"

func main() {
	bin := flag.String("switchyard", "switchyard", "path of the switchyard binary")
	dir := flag.String("dir", "", "working directory for the config, database and logs (default: a new temp dir)")
	flag.Parse()
	if err := run(*bin, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

func say(format string, args ...any) {
	fmt.Printf("\n\033[1m==> "+format+"\033[0m\n", args...)
}

func run(bin, dir string) error {
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	os.Setenv("AWS_ACCESS_KEY_ID", "test")
	os.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if dir == "" {
		d, err := os.MkdirTemp("", "switchyard-demo-")
		if err != nil {
			return err
		}
		dir = d
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}

	say("Starting the kumo AWS emulator on loopback")
	k, err := emulator.Start()
	if err != nil {
		return err
	}
	defer k.Stop()
	fmt.Println("kumo:", k.URL)

	say("Creating the demo stack: ALB + weighted listener and /api/* rule, blue/green target groups, alarms, ECR images v1 v2 v3, ECS services")
	w, err := demostack.NewWorld(ctx, k.URL, "web", 800*time.Millisecond, "v2", "v3")
	if err != nil {
		return err
	}
	defer w.Close()
	fmt.Printf("listener: %s\nrule:     %s\nblue:     %s (live, %d tasks)\ngreen:    %s (idle)\nECS stand-in: %s\n",
		w.Stack.Listener, w.Stack.Rule, w.Stack.BlueService, demostack.LiveCount, w.Stack.GreenService, w.ECS.URL())

	port, err := emulator.FreePort()
	if err != nil {
		return err
	}
	listen := fmt.Sprintf("127.0.0.1:%d", port)
	cfgPath := filepath.Join(dir, "switchyard.yaml")
	cfg := w.ConfigYAML(listen, filepath.Join(dir, "switchyard.db"), time.Second,
		[]demostack.Token{{Name: "demo-operator", Value: token}},
		"    strategy: {type: steps, steps: [{percent: 10, bake: 3s}, {percent: 50, bake: 3s}, {percent: 100}]}\n")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return err
	}
	say("Starting the daemon: switchyard serve --config %s (SQLite store, poll interval 1s)", cfgPath)
	logPath := filepath.Join(dir, "daemon.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	daemon := exec.Command(bin, "serve", "--config", cfgPath)
	daemon.Stdout, daemon.Stderr = logf, logf
	if err := daemon.Start(); err != nil {
		return err
	}
	defer func() {
		_ = daemon.Process.Signal(syscall.SIGTERM)
		_ = daemon.Wait()
	}()
	server := "http://" + listen
	if err := waitReady(ctx, server); err != nil {
		return fmt.Errorf("%w (see %s)", err, logPath)
	}
	fmt.Println("daemon ready at", server, "- logs in", logPath)
	env := append(os.Environ(), "SWITCHYARD_SERVER="+server, "SWITCHYARD_TOKEN="+token)
	cli := func(args ...string) error {
		fmt.Printf("$ switchyard %s\n", strings.Join(args, " "))
		c := exec.CommandContext(ctx, bin, args...)
		c.Env, c.Stdout, c.Stderr = env, os.Stdout, os.Stderr
		return c.Run()
	}

	say("Services and their live weights, read from the ALB")
	if err := cli("status"); err != nil {
		return err
	}

	say("Deploying web v2: 10%% -> 50%% -> 100%% with 3s bakes, alarms watched every second")
	if err := cli("deploy", "web", "v2", "--reason", "demo release", "--wait"); err != nil {
		return fmt.Errorf("deploy v2: %w", err)
	}
	l, r, err := w.Stack.Weights(ctx, w.AWS)
	if err != nil {
		return err
	}
	fmt.Printf("ALB now: listener blue/green %d/%d, rule %d/%d\n", l[0], l[1], r[0], r[1])

	say("Deploying web v3 (a bad release): a guarding alarm will fire at the 20%% step")
	c, err := client.New(server, token, nil)
	if err != nil {
		return err
	}
	bad := &deploy.Strategy{Type: deploy.StrategySteps, Steps: []deploy.Step{{Percent: 20, Bake: deploy.Duration(time.Minute)}, {Percent: 100}}}
	d, err := c.CreateDeployment(ctx, "web", "v3", client.DeployOptions{Strategy: bad, Reason: "demo: bad release"})
	if err != nil {
		return err
	}
	watchDone := make(chan error, 1)
	go func() { watchDone <- cli("watch", d.ID) }()
	for {
		cur, err := c.Deployment(ctx, d.ID)
		if err != nil {
			return err
		}
		if cur.Weights.Of(cur.To) > 0 && cur.StepStartedAt != nil {
			break
		}
		if cur.State.Terminal() {
			return fmt.Errorf("v3 ended %s before the alarm: %s", cur.State, cur.Reason)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond)
	alarm := w.Stack.GreenAlarm
	if d.To == deploy.SlotBlue {
		alarm = w.Stack.BlueAlarm
	}
	fmt.Printf("\n*** 5xx spike on %s: setting alarm %s to ALARM ***\n", d.To, alarm)
	if err := demostack.SetAlarm(ctx, w.AWS, alarm, "ALARM"); err != nil {
		return err
	}
	werr := <-watchDone
	if werr == nil {
		return fmt.Errorf("v3 was expected to roll back")
	}
	fmt.Println("(watch exited non-zero, as it does on a rollback)")
	l, r, err = w.Stack.Weights(ctx, w.AWS)
	if err != nil {
		return err
	}
	fmt.Printf("ALB now: listener blue/green %d/%d, rule %d/%d\n", l[0], l[1], r[0], r[1])

	say("The audit trail of the rolled-back deployment")
	if err := cli("events", d.ID); err != nil {
		return err
	}
	say("History of web")
	if err := cli("history", "web"); err != nil {
		return err
	}
	say("Demo finished. Config, database and daemon log are in %s", dir)
	return nil
}

func waitReady(ctx context.Context, server string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		resp, err := http.Get(server + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("daemon not ready within 30s")
}
