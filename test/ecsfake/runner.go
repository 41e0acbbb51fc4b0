package ecsfake

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

// With Options.Runner set, a task the fake "runs" is a real process-like server the runner starts: its
// IP:port is what goes into the target group (an IP target group takes a port per target), a task whose
// start fails or that exits is stopped and counted in failedTasks, and a task that leaves the service is
// deregistered first, kept for the target group's deregistration delay (ECS drains before it stops a
// task) and then stopped. Like ECS's deployment circuit breaker, a deployment whose task starts fail
// FailureThreshold times turns FAILED with a reason, and keeps the tasks of the deployment before it.
// A task that exits after its deployment completed is not replaced: the service stays below its desired
// count, which DescribeServices shows.

// DefaultFailureThreshold is how many failed task starts fail a deployment (ECS's circuit breaker
// threshold is at least 3).
const DefaultFailureThreshold = 3

// CircuitBreakerReason starts the rolloutStateReason of a deployment the circuit breaker failed.
const CircuitBreakerReason = "ECS deployment circuit breaker: tasks failed to start."

// TaskInfo is what a runner learns about the task to start.
type TaskInfo struct {
	Cluster string
	Service string
	TaskARN string
	Image   string // the service container's image in the task definition
	Tag     string // the image's tag ("" for a digest or no tag)
}

// RunningTask is a started task.
type RunningTask struct {
	IP     string
	Port   int
	Stop   func()       // stops the task; called once, after its target is deregistered
	Exited <-chan error // receives (or is closed) when the task exits on its own; nil: never
}

// TaskRunnerFunc starts a task; an error is a task that failed to start.
type TaskRunnerFunc func(ctx context.Context, t TaskInfo) (RunningTask, error)

// TaskExit is a task that stopped on its own or failed to start, for tests.
type TaskExit struct {
	Service string
	TaskARN string
	Err     error
}

// TaskExits returns the tasks that failed to start or exited so far.
func (f *Fake) TaskExits() []TaskExit {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]TaskExit(nil), f.exits...)
}

// ImageTag returns the tag of an image reference (repo:tag, registry:port/repo:tag); "" when it has
// none or names a digest.
func ImageTag(image string) string {
	if strings.Contains(image, "@") {
		return ""
	}
	i := strings.LastIndex(image, ":")
	if i < 0 || strings.Contains(image[i:], "/") {
		return ""
	}
	return image[i+1:]
}

// imageOfLocked returns the image of the service's container in taskDefARN.
func (f *Fake) imageOfLocked(s *service, taskDefARN string) string {
	td := f.taskDefs[taskDefARN]
	if td == nil {
		return ""
	}
	cds, _ := td.body["containerDefinitions"].([]any)
	first := ""
	for i, c := range cds {
		m, _ := c.(map[string]any)
		name, _ := m["name"].(string)
		image, _ := m["image"].(string)
		if i == 0 {
			first = image
		}
		if name == s.containerName {
			return image
		}
	}
	return first
}

// runTasks starts d's desired tasks through the runner, retrying failed starts until the failure
// threshold. It returns the started tasks (not yet in f.tasks, not registered) or, when the threshold
// was reached or d was superseded, stops what it started and returns an error (nil error and nil tasks
// when superseded).
func (f *Fake) runTasks(s *service, d *deployment) ([]*task, error) {
	f.mu.Lock()
	desired, image := d.desired, f.imageOfLocked(s, d.taskDef)
	f.mu.Unlock()
	var started []*task
	failures := 0
	var lastErr error
	for len(started) < desired {
		f.mu.Lock()
		superseded := f.closed || len(s.deployments) == 0 || s.deployments[0] != d
		var t *task
		if !superseded {
			t = f.allocTaskLocked(s, d)
		}
		f.mu.Unlock()
		if superseded {
			stopAll(started)
			return nil, nil
		}
		err := f.startTask(s, t, image)
		if err == nil {
			started = append(started, t)
			continue
		}
		failures++
		lastErr = err
		f.mu.Lock()
		d.failed++
		d.updatedAt = time.Now()
		f.exits = append(f.exits, TaskExit{Service: s.name, TaskARN: t.arn, Err: err})
		f.mu.Unlock()
		if failures >= f.failureThreshold() {
			stopAll(started)
			return nil, fmt.Errorf("%s (%d failed task starts; last: %v)", CircuitBreakerReason, failures, lastErr)
		}
	}
	return started, nil
}

// startTask runs t; a task that has already exited when the runner returns failed to start.
func (f *Fake) startTask(s *service, t *task, image string) error {
	rt, err := f.opts.Runner(f.ctx, TaskInfo{Cluster: s.cluster, Service: s.name, TaskARN: t.arn, Image: image, Tag: ImageTag(image)})
	if err != nil {
		return err
	}
	if rt.Exited != nil {
		select {
		case err, ok := <-rt.Exited:
			if rt.Stop != nil {
				rt.Stop()
			}
			if err == nil || !ok {
				err = errors.New("task exited during start")
			}
			return err
		default:
		}
	}
	t.ip, t.port, t.exited = rt.IP, rt.Port, rt.Exited
	t.stopFn = rt.Stop
	t.done = make(chan struct{})
	return nil
}

func (f *Fake) failureThreshold() int {
	if f.opts.FailureThreshold > 0 {
		return f.opts.FailureThreshold
	}
	return DefaultFailureThreshold
}

// stop stops the task's server once; tasks without a runner have nothing to stop.
func (t *task) stop() {
	t.stopOnce.Do(func() {
		if t.done != nil {
			close(t.done)
		}
		if t.stopFn != nil {
			t.stopFn()
		}
	})
}

func stopAll(tasks []*task) {
	var wg sync.WaitGroup
	for _, t := range tasks {
		wg.Add(1)
		go func() { defer wg.Done(); t.stop() }()
	}
	wg.Wait()
}

// watchLocked notices when t exits on its own.
func (f *Fake) watchLocked(t *task) {
	if t.exited == nil || f.closed {
		return
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		select {
		case err := <-t.exited:
			f.taskExited(t, err, false)
		case <-t.done:
		case <-f.ctx.Done():
		}
	}()
}

// StopTask stops a running task the way ECS does on StopTask or when the load balancer reports the task
// unhealthy: out of the target group at once, stopped after the drain delay (in the background),
// counted in failedTasks and recorded in TaskExits with reason; the service then runs below its desired
// count (it is not replaced). It reports whether the task was running.
func (f *Fake) StopTask(taskARN string, reason error) bool {
	f.mu.Lock()
	t := f.tasks[taskARN]
	f.mu.Unlock()
	if t == nil {
		return false
	}
	if reason == nil {
		reason = errors.New("task stopped")
	}
	return f.taskExited(t, reason, true)
}

// taskExited takes a task that exited out of its service: out of the target group, counted as failed.
// A task stopped while alive (drain) keeps serving for the drain delay first.
func (f *Fake) taskExited(t *task, err error, drain bool) bool {
	f.mu.Lock()
	if f.tasks[t.arn] != t {
		f.mu.Unlock() // already stopped by the fake
		return false
	}
	if err == nil {
		err = errors.New("task exited")
	}
	delete(f.tasks, t.arn)
	f.exits = append(f.exits, TaskExit{Service: t.service, TaskARN: t.arn, Err: err})
	var tg string
	var port int
	if s := f.services[t.cluster+"/"+t.service]; s != nil {
		tg, port = s.targetGroupARN, s.containerPort
		for _, d := range s.deployments {
			if i := indexOf(d.tasks, t); i >= 0 {
				d.tasks = append(d.tasks[:i:i], d.tasks[i+1:]...)
				d.running = len(d.tasks)
				d.failed++
				d.updatedAt = time.Now()
			}
		}
	}
	drain = drain && f.opts.Runner != nil && !f.closed
	if drain {
		f.wg.Add(1) // Close waits for the drain (and cuts it short)
	}
	f.mu.Unlock()
	ctx, cancel := context.WithTimeout(f.ctx, 10*time.Second)
	defer cancel()
	f.deregister(ctx, tg, port, []*task{t})
	if !drain {
		t.stop()
		return true
	}
	go func() {
		defer f.wg.Done()
		ctx, cancel := context.WithTimeout(f.ctx, 10*time.Second)
		defer cancel()
		f.drainAndStop(ctx, tg, []*task{t})
	}()
	return true
}

func indexOf(tasks []*task, t *task) int {
	for i, x := range tasks {
		if x == t {
			return i
		}
	}
	return -1
}

// drainAndStop stops tasks that were deregistered from tg: at once without a runner's servers, else
// after the drain delay (Options.StopDelay, or the target group's deregistration delay), so that
// requests the load balancer sent before the deregistration finish. Close cuts the wait short.
func (f *Fake) drainAndStop(ctx context.Context, tg string, tasks []*task) {
	if f.opts.Runner == nil || len(tasks) == 0 {
		return
	}
	if d := f.drainDelay(ctx, tg); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-f.ctx.Done():
			t.Stop()
		}
	}
	stopAll(tasks)
}

// attributeReader is the optional part of the registrar that reads a target group's attributes.
type attributeReader interface {
	DescribeTargetGroupAttributes(ctx context.Context, in *elbv2.DescribeTargetGroupAttributesInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupAttributesOutput, error)
}

func (f *Fake) drainDelay(ctx context.Context, tg string) time.Duration {
	if f.opts.StopDelay != 0 {
		return max(f.opts.StopDelay, 0)
	}
	ar, ok := f.opts.ELBv2.(attributeReader)
	if !ok || tg == "" {
		return 0
	}
	out, err := ar.DescribeTargetGroupAttributes(ctx, &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(tg)})
	if err != nil {
		return 0
	}
	for _, a := range out.Attributes {
		if aws.ToString(a.Key) == "deregistration_delay.timeout_seconds" {
			var secs int
			if _, err := fmt.Sscan(aws.ToString(a.Value), &secs); err == nil && secs > 0 {
				return time.Duration(secs) * time.Second
			}
		}
	}
	return 0
}

// stopAllTasks stops every runner task still running (Close).
func (f *Fake) stopAllTasks() {
	f.mu.Lock()
	var all []*task
	for _, t := range f.tasks {
		all = append(all, t)
	}
	f.mu.Unlock()
	stopAll(all)
}
