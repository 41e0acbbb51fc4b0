package ecsfake

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/switchyard/switchyard/test/emulator"
)

// journal is a registrar keyed by IP:port that also records, in order, registrations and task stops.
type journal struct {
	mu      sync.Mutex
	targets map[string]bool // ip:port in tg
	events  []string
	at      map[string]time.Time // event -> when
}

func (j *journal) log(ev string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.events = append(j.events, ev)
	if j.at == nil {
		j.at = map[string]time.Time{}
	}
	j.at[ev] = time.Now()
}

func (j *journal) RegisterTargets(_ context.Context, in *elbv2.RegisterTargetsInput, _ ...func(*elbv2.Options)) (*elbv2.RegisterTargetsOutput, error) {
	for _, t := range in.Targets {
		a := fmt.Sprintf("%s:%d", aws.ToString(t.Id), aws.ToInt32(t.Port))
		j.log("register " + a)
		j.mu.Lock()
		if j.targets == nil {
			j.targets = map[string]bool{}
		}
		j.targets[a] = true
		j.mu.Unlock()
	}
	return &elbv2.RegisterTargetsOutput{}, nil
}

func (j *journal) DeregisterTargets(_ context.Context, in *elbv2.DeregisterTargetsInput, _ ...func(*elbv2.Options)) (*elbv2.DeregisterTargetsOutput, error) {
	for _, t := range in.Targets {
		a := fmt.Sprintf("%s:%d", aws.ToString(t.Id), aws.ToInt32(t.Port))
		j.log("deregister " + a)
		j.mu.Lock()
		delete(j.targets, a)
		j.mu.Unlock()
	}
	return &elbv2.DeregisterTargetsOutput{}, nil
}

func (j *journal) addrs() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []string
	for a := range j.targets {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

func (j *journal) when(ev string) (time.Time, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	t, ok := j.at[ev]
	return t, ok
}

// procs is a runner of plain HTTP servers; images tagged "bad" fail to start, "crash" exit at once.
type procs struct {
	j     *journal
	mu    sync.Mutex
	calls []TaskInfo
	live  map[string]*proc // ip:port
}

type proc struct {
	ln     net.Listener
	exited chan error
}

func (p *procs) run(_ context.Context, t TaskInfo) (RunningTask, error) {
	p.mu.Lock()
	p.calls = append(p.calls, t)
	p.mu.Unlock()
	switch t.Tag {
	case "bad":
		return RunningTask{}, errors.New("CannotPullContainerError: image not found")
	case "crash":
		ch := make(chan error, 1)
		ch <- errors.New("essential container exited with code 1")
		return RunningTask{IP: "127.0.0.1", Port: 1, Stop: func() {}, Exited: ch}, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return RunningTask{}, err
	}
	go func() { _ = http.Serve(ln, http.NotFoundHandler()) }()
	port := ln.Addr().(*net.TCPAddr).Port
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	pr := &proc{ln: ln, exited: make(chan error, 1)}
	p.mu.Lock()
	if p.live == nil {
		p.live = map[string]*proc{}
	}
	p.live[addr] = pr
	p.mu.Unlock()
	stop := func() {
		p.j.log("stop " + addr)
		_ = ln.Close()
		p.mu.Lock()
		delete(p.live, addr)
		p.mu.Unlock()
	}
	return RunningTask{IP: "127.0.0.1", Port: port, Stop: stop, Exited: pr.exited}, nil
}

func (p *procs) running() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for a := range p.live {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

func (p *procs) callCount(tag string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.calls {
		if c.Tag == tag {
			n++
		}
	}
	return n
}

func taskAddrs(s ServiceSnapshot) []string {
	var out []string
	for _, t := range s.Tasks {
		out = append(out, fmt.Sprintf("%s:%d", t.IP, t.Port))
	}
	sort.Strings(out)
	return out
}

func newRunnerFake(t *testing.T, stopDelay time.Duration) (*Fake, *journal, *procs) {
	j := &journal{}
	p := &procs{j: j}
	f := MustStart(t, Options{ELBv2: j, StartDelay: 5 * time.Millisecond, Runner: p.run, StopDelay: stopDelay})
	return f, j, p
}

func update(t *testing.T, f *Fake, in *ecs.UpdateServiceInput) {
	t.Helper()
	in.Cluster = aws.String("prod")
	if _, err := client(f).UpdateService(emulator.Context(t, 10*time.Second), in); err != nil {
		t.Fatal(err)
	}
}

func TestRunnerTasksAreRegisteredAtTheirAddress(t *testing.T) {
	f, j, p := newRunnerFake(t, time.Millisecond)
	td := f.SeedTaskDefinition("web", DefaultContainer, "registry.local:5000/web:v1")
	if _, err := f.Seed("prod", "web-blue", td, 2, tg, 8000); err != nil {
		t.Fatal(err)
	}
	s, _ := f.Service("web-blue")
	got := taskAddrs(s)
	if len(got) != 2 || strings.Join(got, ",") != strings.Join(j.addrs(), ",") || strings.Join(got, ",") != strings.Join(p.running(), ",") {
		t.Fatalf("tasks %v, targets %v, servers %v", got, j.addrs(), p.running())
	}
	if c := p.calls[0]; c.Tag != "v1" || c.Image != "registry.local:5000/web:v1" || c.Service != "web-blue" || c.Cluster != "prod" || c.TaskARN == "" {
		t.Errorf("runner saw %+v", c)
	}
	// A new revision: the new servers are registered, the old ones deregistered and only then stopped.
	td2 := f.SeedTaskDefinition("web", DefaultContainer, "registry.local:5000/web:v2")
	update(t, f, &ecs.UpdateServiceInput{Service: aws.String("web-blue"), TaskDefinition: aws.String(td2)})
	s2 := waitFor(t, f, "web-blue", func(s ServiceSnapshot) bool { return completed(s) && s.TaskDefinition == td2 })
	if now := taskAddrs(s2); strings.Join(now, ",") != strings.Join(j.addrs(), ",") || strings.Join(now, ",") != strings.Join(p.running(), ",") {
		t.Fatalf("after update: tasks %v, targets %v, servers %v", now, j.addrs(), p.running())
	}
	for _, a := range got {
		dereg, ok1 := j.when("deregister " + a)
		stop, ok2 := j.when("stop " + a)
		if !ok1 || !ok2 || stop.Before(dereg) {
			t.Errorf("%s: deregistered %v (%v), stopped %v (%v): want deregistration first", a, dereg, ok1, stop, ok2)
		}
	}
	// Scaling to zero stops every server.
	update(t, f, &ecs.UpdateServiceInput{Service: aws.String("web-blue"), DesiredCount: aws.Int32(0)})
	waitFor(t, f, "web-blue", func(s ServiceSnapshot) bool { return completed(s) && s.DesiredCount == 0 })
	if len(j.addrs()) != 0 || len(p.running()) != 0 {
		t.Errorf("scaled to zero: targets %v, servers %v", j.addrs(), p.running())
	}
}

// TestRunnerDrainsBeforeStop: a deregistered task keeps serving for the stop delay, and the deployment
// completes only after it stopped.
func TestRunnerDrainsBeforeStop(t *testing.T) {
	f, j, p := newRunnerFake(t, 300*time.Millisecond)
	if _, err := f.Seed("prod", "web-blue", "web", 1, tg, 8000); err != nil {
		t.Fatal(err)
	}
	addr := p.running()[0]
	update(t, f, &ecs.UpdateServiceInput{Service: aws.String("web-blue"), DesiredCount: aws.Int32(0)})
	waitFor(t, f, "web-blue", func(s ServiceSnapshot) bool { return completed(s) && s.DesiredCount == 0 })
	dereg, _ := j.when("deregister " + addr)
	stop, ok := j.when("stop " + addr)
	if !ok || stop.Sub(dereg) < 300*time.Millisecond {
		t.Errorf("stopped %v after deregistration, want >= 300ms", stop.Sub(dereg))
	}
}

func TestRunnerCircuitBreaker(t *testing.T) {
	for _, tag := range []string{"bad", "crash"} {
		t.Run(tag, func(t *testing.T) {
			f, j, p := newRunnerFake(t, time.Millisecond)
			if _, err := f.Seed("prod", "web-green", "web", 2, tg, 8000); err != nil {
				t.Fatal(err)
			}
			before := j.addrs()
			td := f.SeedTaskDefinition("web", DefaultContainer, "web:"+tag)
			update(t, f, &ecs.UpdateServiceInput{Service: aws.String("web-green"), TaskDefinition: aws.String(td)})
			s := waitFor(t, f, "web-green", func(s ServiceSnapshot) bool { return s.Deployments[0].RolloutState == "FAILED" })
			d := s.Deployments[0]
			if d.Status != "PRIMARY" || !strings.HasPrefix(d.RolloutReason, CircuitBreakerReason) || d.FailedTasks != DefaultFailureThreshold || d.RunningCount != 0 {
				t.Errorf("failed deployment %+v", d)
			}
			if n := p.callCount(tag); n != DefaultFailureThreshold {
				t.Errorf("%d start attempts, want %d", n, DefaultFailureThreshold)
			}
			if got := j.addrs(); strings.Join(got, ",") != strings.Join(before, ",") || len(p.running()) != 2 {
				t.Errorf("the old tasks changed: targets %v (before %v), servers %v", got, before, p.running())
			}
			if len(f.TaskExits()) != DefaultFailureThreshold {
				t.Errorf("exits %v", f.TaskExits())
			}
			out, err := client(f).DescribeServices(emulator.Context(t, 10*time.Second), &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web-green"}})
			if err != nil {
				t.Fatal(err)
			}
			if dep := out.Services[0].Deployments[0]; dep.RolloutState != "FAILED" || dep.FailedTasks != int32(DefaultFailureThreshold) || !strings.HasPrefix(aws.ToString(dep.RolloutStateReason), CircuitBreakerReason) {
				t.Errorf("over the wire: %+v", dep)
			}
		})
	}
}

// TestRunnerTaskExit: a task that dies is taken out of the target group and the service runs below its
// desired count.
func TestRunnerTaskExit(t *testing.T) {
	f, j, p := newRunnerFake(t, time.Millisecond)
	if _, err := f.Seed("prod", "web-blue", "web", 2, tg, 8000); err != nil {
		t.Fatal(err)
	}
	victim := p.running()[0]
	p.mu.Lock()
	p.live[victim].exited <- errors.New("OutOfMemoryError: container killed")
	p.mu.Unlock()
	s := waitFor(t, f, "web-blue", func(s ServiceSnapshot) bool { return s.RunningCount == 1 })
	if s.DesiredCount != 2 || s.Deployments[0].FailedTasks != 1 || len(s.Tasks) != 1 {
		t.Errorf("after exit: %+v", s)
	}
	if got := j.addrs(); len(got) != 1 || got[0] == victim {
		t.Errorf("targets %v after %s exited", got, victim)
	}
	if ex := f.TaskExits(); len(ex) != 1 || !strings.Contains(ex[0].Err.Error(), "OutOfMemory") {
		t.Errorf("exits %+v", ex)
	}
	if _, ok := j.when("stop " + victim); !ok {
		t.Errorf("the exited task was not stopped")
	}
}

func TestStopTask(t *testing.T) {
	f, j, p := newRunnerFake(t, time.Millisecond)
	if _, err := f.Seed("prod", "web-blue", "web", 2, tg, 8000); err != nil {
		t.Fatal(err)
	}
	s, _ := f.Service("web-blue")
	victim := s.Tasks[0]
	addr := fmt.Sprintf("%s:%d", victim.IP, victim.Port)
	if !f.StopTask(victim.ARN, errors.New("Task failed ELB health checks")) {
		t.Fatal("StopTask: not running")
	}
	if f.StopTask(victim.ARN, nil) || f.StopTask("arn:nope", nil) {
		t.Error("StopTask of a stopped or unknown task reported running")
	}
	s, _ = f.Service("web-blue")
	if s.RunningCount != 1 || s.Deployments[0].FailedTasks != 1 {
		t.Errorf("after StopTask: %+v", s)
	}
	if got := j.addrs(); len(got) != 1 || got[0] == addr {
		t.Errorf("targets %v", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for r := p.running(); len(r) != 1 || r[0] == addr; r = p.running() {
		if time.Now().After(deadline) {
			t.Fatalf("servers %v", r)
		}
		time.Sleep(5 * time.Millisecond)
	}
	dereg, _ := j.when("deregister " + addr)
	if stop, ok := j.when("stop " + addr); !ok || stop.Before(dereg) {
		t.Errorf("stopped at %v, deregistered at %v", stop, dereg)
	}
	if ex := f.TaskExits(); len(ex) != 1 || ex[0].TaskARN != victim.ARN || !strings.Contains(ex[0].Err.Error(), "ELB health") {
		t.Errorf("exits %+v", ex)
	}
}

func TestRunnerCloseStopsAll(t *testing.T) {
	j := &journal{}
	p := &procs{j: j}
	f, err := Start(Options{ELBv2: j, StartDelay: time.Millisecond, Runner: p.run, StopDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seed("prod", "web-blue", "web", 3, tg, 8000); err != nil {
		t.Fatal(err)
	}
	// One task is draining (an hour) when Close comes: Close cuts the wait short and stops it too.
	update(t, f, &ecs.UpdateServiceInput{Service: aws.String("web-blue"), DesiredCount: aws.Int32(2)})
	deadline := time.Now().Add(5 * time.Second)
	for len(j.addrs()) != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("targets %v", j.addrs())
		}
		time.Sleep(5 * time.Millisecond)
	}
	done := make(chan struct{})
	go func() { f.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited for the drain")
	}
	if r := p.running(); len(r) != 0 {
		t.Errorf("after Close: %v still running", r)
	}
}

func TestImageTag(t *testing.T) {
	for in, want := range map[string]string{
		"web:v1": "v1", "registry:5000/web:v2": "v2", "registry:5000/web": "", "web": "", "web@sha256:abc": "",
		"000000000000.dkr.ecr.us-east-1.amazonaws.com/app:seed": "seed",
	} {
		if got := ImageTag(in); got != want {
			t.Errorf("ImageTag(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRunnerSupersededWhileStarting: a deployment replaced while its tasks were starting registers
// nothing and stops what it started; only the newest deployment's tasks serve.
func TestRunnerSupersededWhileStarting(t *testing.T) {
	j := &journal{}
	p := &procs{j: j}
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	v2addr := make(chan string, 1)
	run := func(ctx context.Context, ti TaskInfo) (RunningTask, error) {
		if ti.Tag != "v2" {
			return p.run(ctx, ti)
		}
		entered <- struct{}{}
		<-release // v2's task start hangs until the test lets it go
		rt, err := p.run(ctx, ti)
		v2addr <- fmt.Sprintf("%s:%d", rt.IP, rt.Port)
		return rt, err
	}
	f := MustStart(t, Options{ELBv2: j, StartDelay: time.Millisecond, Runner: run, StopDelay: time.Millisecond})
	if _, err := f.Seed("prod", "web-blue", "web", 1, tg, 8000); err != nil {
		t.Fatal(err)
	}
	v2 := f.SeedTaskDefinition("web", DefaultContainer, "web:v2")
	v3 := f.SeedTaskDefinition("web", DefaultContainer, "web:v3")
	update(t, f, &ecs.UpdateServiceInput{Service: aws.String("web-blue"), TaskDefinition: aws.String(v2)})
	<-entered
	update(t, f, &ecs.UpdateServiceInput{Service: aws.String("web-blue"), TaskDefinition: aws.String(v3)})
	s := waitFor(t, f, "web-blue", func(s ServiceSnapshot) bool { return completed(s) && s.TaskDefinition == v3 })
	close(release)
	addr := <-v2addr
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, ok := j.when("stop " + addr); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the superseded v2 task %s was never stopped; servers %v", addr, p.running())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, ok := j.when("register " + addr); ok {
		t.Errorf("the superseded v2 task %s was registered", addr)
	}
	want := strings.Join(taskAddrs(s), ",")
	for strings.Join(p.running(), ",") != want { // the stop is logged before the server is gone
		if time.Now().After(deadline) {
			t.Fatalf("servers %v, want only v3's %v", p.running(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := strings.Join(j.addrs(), ","); got != want {
		t.Errorf("targets %v, want only v3's %v", got, want)
	}
}
