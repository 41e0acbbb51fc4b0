// Command demo runs switchyard's main job on embedded defaults, with no AWS account, in a world that
// carries real traffic: the kumo AWS emulator, an ECS stand-in whose tasks are real HTTP servers, a real
// HAProxy as the load balancer following the emulator's weights, the stack's CloudWatch alarms
// evaluated from the load balancer's real metrics. It starts `switchyard serve` with the SQLite store,
// sends constant load, deploys a good v2 with live progress, then a bad v3 whose real 5xx responses fire
// the guarding alarm and roll it back, and shows the audit trail. scripts/demo.sh builds and runs it.
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
	"github.com/switchyard/switchyard/test/apptask"
	"github.com/switchyard/switchyard/test/demostack"
	"github.com/switchyard/switchyard/test/emulator"
	"github.com/switchyard/switchyard/test/traffic/loadgen"
	"github.com/switchyard/switchyard/test/traffic/world"
)

// alarmScale makes the stack's 60 s alarm periods 3 s long, so the demo's rollback takes seconds;
// the benchmark (BenchmarkBadRelease) measures the real periods.
const alarmScale = 20

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

	say("Creating the world: ALB (a real HAProxy) + weighted listener and /api/* rule, blue/green target groups, alarms, ECR images v1 v2 v3, ECS tasks as real servers")
	table := apptask.NewTable(map[string]apptask.Behaviour{"v3": {ErrorRate: 0.5}}) // v3 is a bad release: half its answers are 500
	w, err := world.New(ctx, k.URL, world.Options{Name: "web", Tags: []string{"v2", "v3"}, Table: table, AlarmScale: alarmScale})
	if err != nil {
		return err
	}
	defer w.Close()
	fmt.Printf("production listener: %s (HAProxy at %s)\ntest listener:       %s\nblue:  %s (live, %d tasks)\ngreen: %s (idle)\nalarms: %v %v %v (periods scaled %dx for the demo)\n",
		w.Stack.Listener, w.ProductionURL(), w.TestURL(), w.Stack.BlueService, demostack.LiveCount, w.Stack.GreenService,
		w.SharedAlarms, w.BlueAlarms, w.GreenAlarms, alarmScale)

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

	say("Sending 50 requests/s to the production listener for the whole demo")
	load, err := loadgen.Start(ctx, loadgen.Options{URL: w.ProductionURL() + "/api/quotes", Rate: 50, Duration: 10 * time.Minute})
	if err != nil {
		return err
	}
	defer load.Stop()
	stopTicker := ticker(load)
	defer stopTicker()

	say("Services and their live weights, read from the ALB")
	if err := cli("status"); err != nil {
		return err
	}

	say("Deploying web v2: 10%% -> 50%% -> 100%% with 3s bakes, guards read every second")
	if err := cli("deploy", "web", "v2", "--reason", "demo release", "--wait"); err != nil {
		return fmt.Errorf("deploy v2: %w", err)
	}
	l, r, err := w.Stack.Weights(ctx, w.AWS)
	if err != nil {
		return err
	}
	fmt.Printf("ALB now: listener blue/green %d/%d, rule %d/%d\n", l[0], l[1], r[0], r[1])

	say("Deploying web v3, a bad release (half its answers are 500): the guarding alarm fires on its real errors")
	c, err := client.New(server, token, nil)
	if err != nil {
		return err
	}
	bad := &deploy.Strategy{Type: deploy.StrategySteps, Steps: []deploy.Step{{Percent: 20, Bake: deploy.Duration(2 * time.Minute)}, {Percent: 100}}}
	d, err := c.CreateDeployment(ctx, "web", "v3", client.DeployOptions{Strategy: bad, Reason: "demo: bad release"})
	if err != nil {
		return err
	}
	if werr := cli("watch", d.ID); werr == nil {
		return fmt.Errorf("v3 was expected to roll back")
	}
	fmt.Println("(watch exited non-zero, as it does on a rollback)")
	l, r, err = w.Stack.Weights(ctx, w.AWS)
	if err != nil {
		return err
	}
	fmt.Printf("ALB now: listener blue/green %d/%d, rule %d/%d\n", l[0], l[1], r[0], r[1])
	time.Sleep(2 * time.Second)
	stopTicker()
	res := load.Snapshot()
	failed := res.Failures(time.Time{}, time.Now())
	fmt.Printf("load so far: %s; %d failed requests in all, every one of them served by the bad release: %v\n",
		res.Summary(), len(failed), allFrom(failed, string(d.To)))

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

// ticker prints, every 2 s, the requests each colour served and the failures of the last 2 s.
func ticker(a *loadgen.Attack) (stop func()) {
	done := make(chan struct{})
	var once bool
	go func() {
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				res := a.Snapshot()
				by, failed := map[string]int{}, 0
				for _, r := range res.Between(now.Add(-2*time.Second), now) {
					by[r.Colour]++
					if r.Failed() {
						failed++
					}
				}
				fmt.Printf("    [traffic %s] blue %d/s, green %d/s, failed %d/s\n", now.Format("15:04:05"), by["blue"]/2, by["green"]/2, failed/2)
			}
		}
	}()
	return func() {
		if !once {
			once = true
			close(done)
		}
	}
}

func allFrom(reqs []loadgen.Request, colour string) bool {
	for _, r := range reqs {
		if r.Colour != colour {
			return false
		}
	}
	return true
}
