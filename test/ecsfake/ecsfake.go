// Package ecsfake is an in-process stand-in for the ECS API, for tests. The emulator (kumo) has no ECS
// service reads or task lifecycle, so this fake speaks the ECS JSON 1.1 protocol on a loopback port and
// is reached through the real SDK client (BaseEndpoint = Fake.URL()).
//
// It models what switchyard relies on: services behind a target group, task definitions (with tags),
// and deployments that ECS starts when a service's task definition or desired count changes. A
// deployment starts IN_PROGRESS; after the start delay its tasks "run": each gets an IP that is
// registered in the service's target group through a real ELBv2 client (pointed at kumo), the
// deployment turns COMPLETED and older deployments are dropped, their targets deregistered.
//
// With Options.Runner (runner.go) a task is a real server: its IP:port is registered, tasks that fail to
// start trip a circuit breaker, and deregistered tasks drain before they are stopped.
package ecsfake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// TargetPrefix is the X-Amz-Target prefix of ECS operations.
const TargetPrefix = "AmazonEC2ContainerServiceV20141113."

// Defaults.
const (
	DefaultStartDelay = 200 * time.Millisecond
	DefaultRegion     = "us-east-1"
	DefaultAccountID  = "000000000000"
	// DefaultContainer and DefaultImage describe the task definition Seed registers for an unknown family.
	DefaultContainer = "app"
	DefaultImage     = "000000000000.dkr.ecr.us-east-1.amazonaws.com/app:seed"
)

// TargetRegistrar is the part of the ELBv2 API the fake calls; *elasticloadbalancingv2.Client has it.
type TargetRegistrar interface {
	RegisterTargets(ctx context.Context, in *elbv2.RegisterTargetsInput, optFns ...func(*elbv2.Options)) (*elbv2.RegisterTargetsOutput, error)
	DeregisterTargets(ctx context.Context, in *elbv2.DeregisterTargetsInput, optFns ...func(*elbv2.Options)) (*elbv2.DeregisterTargetsOutput, error)
}

// Options configure a Fake.
type Options struct {
	// ELBv2 registers and deregisters task IPs in target groups. Nil: targets are tracked only here.
	ELBv2      TargetRegistrar
	StartDelay time.Duration // 0: DefaultStartDelay
	Region     string        // "": DefaultRegion
	AccountID  string        // "": DefaultAccountID
	// Runner, when set, starts a real server for every task (runner.go); nil: tasks are only IPs.
	Runner TaskRunnerFunc
	// FailureThreshold is how many failed task starts fail a deployment with a Runner (0: 3).
	FailureThreshold int
	// StopDelay is how long a deregistered task of a Runner keeps serving before it is stopped;
	// 0: the target group's deregistration delay when ELBv2 can describe it, else none; < 0: none.
	StopDelay time.Duration
}

// Fake is a running fake ECS endpoint.
type Fake struct {
	opts Options
	srv  *http.Server
	ln   net.Listener
	url  string

	mu         sync.Mutex
	startDelay time.Duration
	clusters   map[string]bool     // cluster name
	services   map[string]*service // cluster/name
	taskDefs   map[string]*taskDef // ARN
	revisions  map[string]int      // family -> latest revision
	failNext   map[string]string   // service name -> reason
	calls      map[string]int      // operation -> count
	seq        int                 // ids, IPs
	wg         sync.WaitGroup      // deployment goroutines
	closed     bool
	regErrs    []error                      // target registration failures, for tests
	tasks      map[string]*task             // task ARN
	tdTags     map[string]map[string]string // task definition ARN -> tags
	svcTags    map[string]map[string]string // service ARN -> tags
	timers     map[*time.Timer]struct{}
	scaling    scalingState // Application Auto Scaling (scaling.go)
	exits      []TaskExit   // tasks that failed to start or exited (runner.go)
	ctx        context.Context
	cancel     context.CancelFunc
}

type taskDef struct {
	arn      string
	family   string
	revision int
	body     map[string]any // the registration request as sent (minus tags): echoed back verbatim
	at       time.Time
}

type service struct {
	cluster        string
	name           string
	arn            string
	taskDef        string
	desired        int
	targetGroupARN string
	containerName  string
	containerPort  int
	createdAt      time.Time
	deployments    []*deployment // primary first
	updates        int
}

type deployment struct {
	id        string
	status    string // PRIMARY, ACTIVE
	rollout   string // IN_PROGRESS, COMPLETED, FAILED
	reason    string
	taskDef   string
	desired   int
	running   int
	pending   int
	failed    int
	tasks     []*task
	createdAt time.Time
	updatedAt time.Time
}

type task struct {
	arn        string
	ip         string
	taskDef    string
	service    string
	cluster    string
	deployment string
	container  string
	startedAt  time.Time

	// With a Runner (runner.go):
	port     int           // the runner's port; 0: the service's container port
	stopFn   func()        // stops the server
	exited   <-chan error  // fires when the task exits on its own
	done     chan struct{} // closed when the fake stops the task
	stopOnce sync.Once
}

// Start serves a fake ECS API on 127.0.0.1 on a free port.
func Start(opts Options) (*Fake, error) {
	if opts.StartDelay <= 0 {
		opts.StartDelay = DefaultStartDelay
	}
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	if opts.AccountID == "" {
		opts.AccountID = DefaultAccountID
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("ecsfake: listen: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &Fake{
		opts:       opts,
		ln:         ln,
		url:        "http://" + ln.Addr().String(),
		startDelay: opts.StartDelay,
		clusters:   map[string]bool{},
		services:   map[string]*service{},
		taskDefs:   map[string]*taskDef{},
		revisions:  map[string]int{},
		failNext:   map[string]string{},
		calls:      map[string]int{},
		tasks:      map[string]*task{},
		tdTags:     map[string]map[string]string{},
		svcTags:    map[string]map[string]string{},
		timers:     map[*time.Timer]struct{}{},
		ctx:        ctx,
		cancel:     cancel,
	}
	f.srv = &http.Server{Handler: http.HandlerFunc(f.serveHTTP), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = f.srv.Serve(ln) }()
	return f, nil
}

// MustStart starts a Fake that stops when the test ends.
func MustStart(tb testing.TB, opts Options) *Fake {
	tb.Helper()
	f, err := Start(opts)
	if err != nil {
		tb.Fatalf("start ecsfake: %v", err)
	}
	tb.Cleanup(f.Close)
	return f
}

// URL is the endpoint to give the SDK (BaseEndpoint) or switchyard's aws.endpoints.ecs.
func (f *Fake) URL() string { return f.url }

// AWSConfig returns an SDK configuration that reaches only this fake, with static test credentials.
func (f *Fake) AWSConfig() aws.Config {
	return aws.Config{
		Region:           f.opts.Region,
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint:     aws.String(f.url),
		RetryMaxAttempts: 1,
	}
}

// Close stops the server and pending deployments.
func (f *Fake) Close() {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return
	}
	f.closed = true
	for t := range f.timers {
		if t.Stop() {
			f.wg.Done()
		}
	}
	f.mu.Unlock()
	f.cancel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = f.srv.Shutdown(ctx)
	f.wg.Wait()
	f.stopAllTasks()
}

// SetStartDelay sets how long new deployments stay IN_PROGRESS before their tasks start.
func (f *Fake) SetStartDelay(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d < 0 {
		d = 0
	}
	f.startDelay = d
}

// FailNext makes the next deployment of the named service (in any cluster) fail: rolloutState FAILED
// with reason, failedTasks > 0 and no task started or registered.
func (f *Fake) FailNext(serviceName, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if reason == "" {
		reason = "ECS deployment circuit breaker: tasks failed to start."
	}
	f.failNext[serviceName] = reason
}

// Calls returns how many times operation (e.g. "UpdateService") was called.
func (f *Fake) Calls(operation string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[operation]
}

// RegistrationErrors returns the errors target (de)registration met so far.
func (f *Fake) RegistrationErrors() []error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]error(nil), f.regErrs...)
}

// ServiceSnapshot is a copy of one service's state.
type ServiceSnapshot struct {
	Cluster        string
	Name           string
	ARN            string
	TaskDefinition string
	DesiredCount   int
	RunningCount   int
	PendingCount   int
	TargetGroupARN string
	ContainerName  string
	ContainerPort  int
	Deployments    []DeploymentSnapshot // primary first
	Tasks          []TaskSnapshot       // running tasks of every deployment
	Updates        int                  // UpdateService calls that changed something
}

// DeploymentSnapshot is a copy of one deployment.
type DeploymentSnapshot struct {
	ID             string
	Status         string
	RolloutState   string
	RolloutReason  string
	TaskDefinition string
	DesiredCount   int
	RunningCount   int
	FailedTasks    int
}

// TaskSnapshot is one running task.
type TaskSnapshot struct {
	ARN            string
	IP             string
	TaskDefinition string
	DeploymentID   string
	Port           int // the runner's port; 0 without a Runner
}

// Service returns a snapshot of the named service (the first match across clusters).
func (f *Fake) Service(name string) (ServiceSnapshot, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	keys := make([]string, 0, len(f.services))
	for k := range f.services {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s := f.services[k]
		if s.name != name {
			continue
		}
		snap := ServiceSnapshot{
			Cluster: s.cluster, Name: s.name, ARN: s.arn, TaskDefinition: s.taskDef, DesiredCount: s.desired,
			TargetGroupARN: s.targetGroupARN, ContainerName: s.containerName, ContainerPort: s.containerPort, Updates: s.updates,
		}
		snap.RunningCount, snap.PendingCount = s.counts()
		for _, d := range s.deployments {
			snap.Deployments = append(snap.Deployments, DeploymentSnapshot{
				ID: d.id, Status: d.status, RolloutState: d.rollout, RolloutReason: d.reason, TaskDefinition: d.taskDef,
				DesiredCount: d.desired, RunningCount: d.running, FailedTasks: d.failed,
			})
			for _, t := range d.tasks {
				snap.Tasks = append(snap.Tasks, TaskSnapshot{ARN: t.arn, IP: t.ip, TaskDefinition: t.taskDef, DeploymentID: d.id, Port: t.port})
			}
		}
		return snap, true
	}
	return ServiceSnapshot{}, false
}

// SeedTaskDefinition registers a task definition with one container and returns its ARN.
func (f *Fake) SeedTaskDefinition(family, container, image string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.registerLocked(map[string]any{
		"family":                  family,
		"networkMode":             "awsvpc",
		"requiresCompatibilities": []any{"FARGATE"},
		"cpu":                     "256",
		"memory":                  "512",
		"containerDefinitions": []any{map[string]any{
			"name": container, "image": image, "essential": true,
			"portMappings": []any{map[string]any{"containerPort": 8000, "protocol": "tcp"}},
		}},
	}, nil).arn
}

// Seed creates (or replaces) a service that is already stable: its cluster is created if needed,
// taskDef (an ARN, family:revision or family) is resolved, or registered with DefaultContainer /
// DefaultImage when unknown, and desired tasks are started and registered in targetGroupARN now,
// synchronously. It returns the task definition ARN the service runs.
func (f *Fake) Seed(cluster, serviceName, taskDef string, desired int, targetGroupARN string, containerPort int) (string, error) {
	f.mu.Lock()
	f.clusters[cluster] = true
	td := f.resolveLocked(taskDef)
	if td == nil {
		family, _, _ := strings.Cut(taskDef, ":")
		if strings.HasPrefix(taskDef, "arn:") {
			f.mu.Unlock()
			return "", fmt.Errorf("ecsfake: seed %s: task definition %s is not registered", serviceName, taskDef)
		}
		td = f.registerLocked(map[string]any{
			"family": family, "networkMode": "awsvpc", "requiresCompatibilities": []any{"FARGATE"},
			"cpu": "256", "memory": "512",
			"containerDefinitions": []any{map[string]any{"name": DefaultContainer, "image": DefaultImage, "essential": true}},
		}, nil)
	}
	key := cluster + "/" + serviceName
	if old := f.services[key]; old != nil {
		f.mu.Unlock()
		return "", fmt.Errorf("ecsfake: seed %s: service already exists", key)
	}
	now := time.Now()
	s := &service{
		cluster: cluster, name: serviceName, arn: f.serviceARN(cluster, serviceName), taskDef: td.arn, desired: desired,
		targetGroupARN: targetGroupARN, containerName: firstContainer(td), containerPort: containerPort, createdAt: now,
	}
	d := &deployment{id: f.nextDeploymentID(), status: "PRIMARY", rollout: "COMPLETED", taskDef: td.arn, desired: desired,
		running: desired, createdAt: now, updatedAt: now}
	s.deployments = []*deployment{d}
	if f.opts.Runner == nil {
		for range desired {
			d.tasks = append(d.tasks, f.newTaskLocked(s, d))
		}
	}
	f.services[key] = s
	f.mu.Unlock()
	if f.opts.Runner != nil {
		tasks, err := f.runTasks(s, d)
		if err != nil {
			return "", fmt.Errorf("ecsfake: seed %s: %w", key, err)
		}
		f.mu.Lock()
		f.addTasksLocked(d, tasks)
		f.mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(f.ctx, 10*time.Second)
	defer cancel()
	if err := f.register(ctx, s.targetGroupARN, s.containerPort, d.tasks); err != nil {
		return "", fmt.Errorf("ecsfake: seed %s: %w", key, err)
	}
	f.mu.Lock()
	for _, t := range d.tasks {
		f.watchLocked(t)
	}
	f.mu.Unlock()
	return td.arn, nil
}

// addTasksLocked makes started runner tasks d's running tasks.
func (f *Fake) addTasksLocked(d *deployment, tasks []*task) {
	for _, t := range tasks {
		f.tasks[t.arn] = t
	}
	d.tasks = append(d.tasks, tasks...)
	d.running = len(d.tasks)
}

func firstContainer(td *taskDef) string {
	if cds, ok := td.body["containerDefinitions"].([]any); ok && len(cds) > 0 {
		if m, ok := cds[0].(map[string]any); ok {
			if n, ok := m["name"].(string); ok {
				return n
			}
		}
	}
	return DefaultContainer
}

func (s *service) counts() (running, pending int) {
	for _, d := range s.deployments {
		running += d.running
		pending += d.pending
	}
	return running, pending
}

func (f *Fake) serviceARN(cluster, name string) string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", f.opts.Region, f.opts.AccountID, cluster, name)
}

func (f *Fake) clusterARN(cluster string) string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/%s", f.opts.Region, f.opts.AccountID, cluster)
}

func (f *Fake) nextDeploymentID() string {
	f.seq++
	return fmt.Sprintf("ecs-svc/%019d", f.seq)
}

// newTaskLocked gives a task an IP in 10.0.0.0/16 (only a string: nothing listens there).
func (f *Fake) newTaskLocked(s *service, d *deployment) *task {
	t := f.allocTaskLocked(s, d)
	n := f.seq
	t.ip = fmt.Sprintf("10.0.%d.%d", (n/250)%250, n%250+1)
	f.tasks[t.arn] = t
	return t
}

// allocTaskLocked names a new task of d; a Runner gives it its address.
func (f *Fake) allocTaskLocked(s *service, d *deployment) *task {
	f.seq++
	return &task{
		arn:     fmt.Sprintf("arn:aws:ecs:%s:%s:task/%s/%032x", f.opts.Region, f.opts.AccountID, s.cluster, f.seq),
		taskDef: d.taskDef, service: s.name, cluster: s.cluster, deployment: d.id, container: s.containerName,
		startedAt: time.Now(),
	}
}

// register puts the tasks' IPs into the target group.
func (f *Fake) register(ctx context.Context, tg string, port int, tasks []*task) error {
	if f.opts.ELBv2 == nil || tg == "" || len(tasks) == 0 {
		return nil
	}
	_, err := f.opts.ELBv2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: targetsOf(port, tasks)})
	if err != nil {
		err = fmt.Errorf("register targets in %s: %w", tg, err)
		f.mu.Lock()
		f.regErrs = append(f.regErrs, err)
		f.mu.Unlock()
	}
	return err
}

// deregister removes the tasks' IPs from the target group.
func (f *Fake) deregister(ctx context.Context, tg string, port int, tasks []*task) {
	if f.opts.ELBv2 == nil || tg == "" || len(tasks) == 0 {
		return
	}
	_, err := f.opts.ELBv2.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: targetsOf(port, tasks)})
	if err != nil {
		f.mu.Lock()
		f.regErrs = append(f.regErrs, fmt.Errorf("deregister targets from %s: %w", tg, err))
		f.mu.Unlock()
	}
}

func targetsOf(port int, tasks []*task) []elbtypes.TargetDescription {
	out := make([]elbtypes.TargetDescription, 0, len(tasks))
	for _, t := range tasks {
		td := elbtypes.TargetDescription{Id: aws.String(t.ip)}
		if t.port > 0 {
			td.Port = aws.Int32(int32(t.port))
		} else if port > 0 {
			td.Port = aws.Int32(int32(port))
		}
		out = append(out, td)
	}
	return out
}

// startDeploymentLocked makes d the service's primary deployment and schedules its tasks.
func (f *Fake) startDeploymentLocked(s *service, taskDefARN string, desired int) {
	now := time.Now()
	for _, old := range s.deployments {
		old.status = "ACTIVE"
	}
	d := &deployment{id: f.nextDeploymentID(), status: "PRIMARY", rollout: "IN_PROGRESS", taskDef: taskDefARN,
		desired: desired, pending: desired, createdAt: now, updatedAt: now}
	s.deployments = append([]*deployment{d}, s.deployments...)
	reason, fail := f.failNext[s.name]
	delete(f.failNext, s.name)
	if f.closed {
		return
	}
	f.wg.Add(1)
	var t *time.Timer
	t = time.AfterFunc(f.startDelay, func() {
		defer f.wg.Done()
		f.mu.Lock()
		delete(f.timers, t)
		f.mu.Unlock()
		f.runDeployment(s, d, fail, reason)
	})
	f.timers[t] = struct{}{}
}

// runDeployment "starts" d's tasks, or fails d.
func (f *Fake) runDeployment(s *service, d *deployment, fail bool, reason string) {
	f.mu.Lock()
	if f.closed || len(s.deployments) == 0 || s.deployments[0] != d || f.services[s.cluster+"/"+s.name] != s {
		// Superseded by a newer deployment before starting, or the service is gone: nothing starts.
		f.mu.Unlock()
		return
	}
	if fail {
		d.rollout, d.reason, d.pending, d.running = "FAILED", reason, 0, 0
		d.failed = max(d.desired, 1)
		d.updatedAt = time.Now()
		f.mu.Unlock()
		return
	}
	if f.opts.Runner != nil {
		f.mu.Unlock()
		started, err := f.runTasks(s, d)
		f.mu.Lock()
		if err != nil {
			// The circuit breaker: the same shape as FailNext; the previous deployment keeps its tasks.
			d.rollout, d.reason, d.pending, d.running = "FAILED", err.Error(), 0, 0
			d.updatedAt = time.Now()
			f.mu.Unlock()
			return
		}
		if (started == nil && d.desired > 0) || f.closed || len(s.deployments) == 0 || s.deployments[0] != d {
			f.mu.Unlock() // superseded or closed while starting: the newer deployment runs instead
			stopAll(started)
			return
		}
		f.addTasksLocked(d, started)
	} else {
		for range d.desired {
			d.tasks = append(d.tasks, f.newTaskLocked(s, d))
		}
	}
	tg, port, tasks := s.targetGroupARN, s.containerPort, append([]*task(nil), d.tasks...)
	f.mu.Unlock()

	ctx, cancel := context.WithTimeout(f.ctx, 10*time.Second)
	defer cancel()
	if err := f.register(ctx, tg, port, tasks); err != nil {
		f.mu.Lock()
		for _, t := range d.tasks {
			delete(f.tasks, t.arn)
		}
		d.tasks = nil
		d.rollout, d.reason, d.pending, d.running, d.failed = "FAILED", "tasks could not be registered: "+err.Error(), 0, 0, max(d.desired, 1)
		d.updatedAt = time.Now()
		f.mu.Unlock()
		stopAll(tasks)
		return
	}
	f.mu.Lock()
	for _, t := range tasks {
		f.watchLocked(t)
	}
	f.mu.Unlock()

	f.mu.Lock()
	d.running, d.pending = len(d.tasks), 0
	d.updatedAt = time.Now()
	if len(s.deployments) == 0 || s.deployments[0] != d {
		// Superseded while registering: keep running as an ACTIVE deployment; the newer one cleans up.
		d.rollout = "COMPLETED"
		f.mu.Unlock()
		return
	}
	// Like ECS, the deployment completes only once the old tasks are stopped and out of the target group.
	var stale []*task
	for _, old := range s.deployments[1:] {
		stale = append(stale, old.tasks...)
		for _, t := range old.tasks {
			delete(f.tasks, t.arn)
		}
		old.tasks = nil
	}
	f.mu.Unlock()
	f.deregister(ctx, tg, port, stale)
	f.drainAndStop(ctx, tg, stale)
	f.mu.Lock()
	defer f.mu.Unlock()
	d.rollout = "COMPLETED"
	if len(s.deployments) > 0 && s.deployments[0] == d {
		s.deployments = s.deployments[:1]
	}
}

// ---- HTTP / JSON 1.1 ----

type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func clientErr(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, msg: fmt.Sprintf(format, args...)}
}

// jsonAPI is one AWS JSON 1.1 service the fake serves: its operations and the code of its server faults.
type jsonAPI struct {
	name     string
	handlers map[string]func([]byte) (any, error)
	fault    string
}

func (f *Fake) serveHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	if op, ok := strings.CutPrefix(target, ScalingTargetPrefix); ok {
		f.dispatch(w, r, op, f.scalingAPI())
		return
	}
	op, ok := strings.CutPrefix(target, TargetPrefix)
	if !ok {
		writeErr(w, clientErr("UnknownOperationException", "unknown operation %q", target))
		return
	}
	f.dispatch(w, r, op, jsonAPI{name: "ecsfake", fault: "ServerException", handlers: map[string]func([]byte) (any, error){
		"CreateCluster":          f.createCluster,
		"CreateService":          f.createService,
		"DescribeServices":       f.describeServices,
		"UpdateService":          f.updateService,
		"RegisterTaskDefinition": f.registerTaskDefinition,
		"DescribeTaskDefinition": f.describeTaskDefinition,
		"ListTasks":              f.listTasks,
		"DescribeTasks":          f.describeTasks,
		"TagResource":            f.tagResource,
	}})
}

// dispatch reads a JSON request, runs the operation's handler and writes its JSON answer or error.
func (f *Fake) dispatch(w http.ResponseWriter, r *http.Request, op string, api jsonAPI) {
	if r.Method != http.MethodPost {
		writeErr(w, clientErr("UnknownOperationException", "method %s not allowed", r.Method))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		writeErr(w, clientErr("SerializationException", "read body: %v", err))
		return
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	h, ok := api.handlers[op]
	if !ok {
		writeErr(w, clientErr("UnknownOperationException", "operation %s is not implemented by %s", op, api.name))
		return
	}
	f.mu.Lock()
	f.calls[op]++
	f.mu.Unlock()
	out, err := h(body)
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = &apiError{status: http.StatusInternalServerError, code: api.fault, msg: err.Error()}
		}
		writeErr(w, ae)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		writeErr(w, &apiError{status: http.StatusInternalServerError, code: api.fault, msg: err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", strconv.FormatInt(time.Now().UnixNano(), 36))
	_, _ = w.Write(b)
}

func writeErr(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", e.code)
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.code, "message": e.msg})
}

func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return clientErr("SerializationException", "invalid JSON: %v", err)
	}
	return nil
}

func epoch(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func clusterName(c string) string {
	if c == "" {
		return "default"
	}
	if i := strings.LastIndex(c, "cluster/"); strings.HasPrefix(c, "arn:") && i >= 0 {
		return c[i+len("cluster/"):]
	}
	return c
}

func serviceName(s string) string {
	if strings.HasPrefix(s, "arn:") {
		return s[strings.LastIndex(s, "/")+1:]
	}
	return s
}

func (f *Fake) createCluster(body []byte) (any, error) {
	var in struct {
		ClusterName string `json:"clusterName"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	name := clusterName(in.ClusterName)
	f.mu.Lock()
	f.clusters[name] = true
	f.mu.Unlock()
	return map[string]any{"cluster": map[string]any{"clusterArn": f.clusterARN(name), "clusterName": name, "status": "ACTIVE"}}, nil
}

type loadBalancer struct {
	TargetGroupArn string `json:"targetGroupArn"`
	ContainerName  string `json:"containerName"`
	ContainerPort  int    `json:"containerPort"`
}

func (f *Fake) createService(body []byte) (any, error) {
	var in struct {
		Cluster        string         `json:"cluster"`
		ServiceName    string         `json:"serviceName"`
		TaskDefinition string         `json:"taskDefinition"`
		DesiredCount   *int           `json:"desiredCount"`
		LoadBalancers  []loadBalancer `json:"loadBalancers"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	cluster := clusterName(in.Cluster)
	if !f.clusters[cluster] {
		return nil, clientErr("ClusterNotFoundException", "Cluster not found.")
	}
	if in.ServiceName == "" {
		return nil, clientErr("InvalidParameterException", "serviceName is required")
	}
	key := cluster + "/" + in.ServiceName
	if f.services[key] != nil {
		return nil, clientErr("InvalidParameterException", "Creation of service was not idempotent.")
	}
	td := f.resolveLocked(in.TaskDefinition)
	if td == nil {
		return nil, clientErr("ClientException", "TaskDefinition not found.")
	}
	if len(in.LoadBalancers) > 1 {
		return nil, clientErr("InvalidParameterException", "ecsfake supports at most one load balancer per service")
	}
	desired := 0
	if in.DesiredCount != nil {
		desired = *in.DesiredCount
	}
	if desired < 0 {
		return nil, clientErr("InvalidParameterException", "desiredCount must be >= 0")
	}
	s := &service{cluster: cluster, name: in.ServiceName, arn: f.serviceARN(cluster, in.ServiceName), taskDef: td.arn,
		desired: desired, containerName: firstContainer(td), createdAt: time.Now()}
	if len(in.LoadBalancers) == 1 {
		lb := in.LoadBalancers[0]
		s.targetGroupARN, s.containerPort = lb.TargetGroupArn, lb.ContainerPort
		if lb.ContainerName != "" {
			s.containerName = lb.ContainerName
		}
	}
	f.services[key] = s
	f.startDeploymentLocked(s, td.arn, desired)
	return map[string]any{"service": f.serviceJSONLocked(s)}, nil
}

func (f *Fake) serviceJSONLocked(s *service) map[string]any {
	running, pending := s.counts()
	deps := make([]any, 0, len(s.deployments))
	for _, d := range s.deployments {
		m := map[string]any{
			"id": d.id, "status": d.status, "taskDefinition": d.taskDef, "desiredCount": d.desired,
			"pendingCount": d.pending, "runningCount": d.running, "failedTasks": d.failed,
			"createdAt": epoch(d.createdAt), "updatedAt": epoch(d.updatedAt), "launchType": "FARGATE",
			"rolloutState": d.rollout,
		}
		if d.reason != "" {
			m["rolloutStateReason"] = d.reason
		}
		deps = append(deps, m)
	}
	out := map[string]any{
		"serviceArn": s.arn, "serviceName": s.name, "clusterArn": f.clusterARN(s.cluster), "status": "ACTIVE",
		"desiredCount": s.desired, "runningCount": running, "pendingCount": pending, "taskDefinition": s.taskDef,
		"launchType": "FARGATE", "deployments": deps, "createdAt": epoch(s.createdAt), "events": []any{},
		"schedulingStrategy":   "REPLICA",
		"deploymentController": map[string]any{"type": "ECS"},
	}
	if s.targetGroupARN != "" {
		out["loadBalancers"] = []any{map[string]any{"targetGroupArn": s.targetGroupARN, "containerName": s.containerName, "containerPort": s.containerPort}}
	}
	return out
}

func (f *Fake) describeServices(body []byte) (any, error) {
	var in struct {
		Cluster  string   `json:"cluster"`
		Services []string `json:"services"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.Services) == 0 || len(in.Services) > 10 {
		return nil, clientErr("InvalidParameterException", "services must name 1 to 10 services")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	cluster := clusterName(in.Cluster)
	if !f.clusters[cluster] {
		return nil, clientErr("ClusterNotFoundException", "Cluster not found.")
	}
	services, failures := []any{}, []any{}
	for _, name := range in.Services {
		s := f.services[cluster+"/"+serviceName(name)]
		if s == nil {
			failures = append(failures, map[string]any{"arn": f.serviceARN(cluster, serviceName(name)), "reason": "MISSING"})
			continue
		}
		services = append(services, f.serviceJSONLocked(s))
	}
	return map[string]any{"services": services, "failures": failures}, nil
}

func (f *Fake) updateService(body []byte) (any, error) {
	var in struct {
		Cluster            string `json:"cluster"`
		Service            string `json:"service"`
		TaskDefinition     string `json:"taskDefinition"`
		DesiredCount       *int   `json:"desiredCount"`
		ForceNewDeployment bool   `json:"forceNewDeployment"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	cluster := clusterName(in.Cluster)
	if !f.clusters[cluster] {
		return nil, clientErr("ClusterNotFoundException", "Cluster not found.")
	}
	s := f.services[cluster+"/"+serviceName(in.Service)]
	if s == nil {
		return nil, clientErr("ServiceNotFoundException", "Service not found.")
	}
	taskDefARN, desired := s.taskDef, s.desired
	if in.TaskDefinition != "" {
		td := f.resolveLocked(in.TaskDefinition)
		if td == nil {
			return nil, clientErr("ClientException", "TaskDefinition not found.")
		}
		taskDefARN = td.arn
	}
	if in.DesiredCount != nil {
		if *in.DesiredCount < 0 {
			return nil, clientErr("InvalidParameterException", "desiredCount must be >= 0")
		}
		desired = *in.DesiredCount
	}
	desired = f.clampDesiredLocked(s, desired) // a registered scalable target overrides (scaling.go)
	if taskDefARN != s.taskDef || desired != s.desired || in.ForceNewDeployment {
		s.taskDef, s.desired = taskDefARN, desired
		s.updates++
		f.startDeploymentLocked(s, taskDefARN, desired)
	}
	return map[string]any{"service": f.serviceJSONLocked(s)}, nil
}

// registerLocked stores a new revision of body's family.
func (f *Fake) registerLocked(body map[string]any, tags []any) *taskDef {
	family, _ := body["family"].(string)
	f.revisions[family]++
	rev := f.revisions[family]
	td := &taskDef{
		arn:    fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:%d", f.opts.Region, f.opts.AccountID, family, rev),
		family: family, revision: rev, body: body, at: time.Now(),
	}
	f.taskDefs[td.arn] = td
	m := map[string]string{}
	for _, t := range tags {
		if tm, ok := t.(map[string]any); ok {
			k, _ := tm["key"].(string)
			v, _ := tm["value"].(string)
			m[k] = v
		}
	}
	f.tdTags[td.arn] = m
	return td
}

// resolveLocked finds a task definition by ARN, family:revision or family (latest revision).
func (f *Fake) resolveLocked(ref string) *taskDef {
	if ref == "" {
		return nil
	}
	if td := f.taskDefs[ref]; td != nil {
		return td
	}
	if i := strings.Index(ref, "task-definition/"); strings.HasPrefix(ref, "arn:") && i >= 0 {
		ref = ref[i+len("task-definition/"):]
	}
	family, rev, hasRev := strings.Cut(ref, ":")
	n := f.revisions[family]
	if hasRev {
		var err error
		if n, err = strconv.Atoi(rev); err != nil {
			return nil
		}
	}
	return f.taskDefs[fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:%d", f.opts.Region, f.opts.AccountID, family, n)]
}

func (f *Fake) registerTaskDefinition(body []byte) (any, error) {
	var in map[string]any
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	family, _ := in["family"].(string)
	if family == "" {
		return nil, clientErr("ClientException", "Family is required.")
	}
	cds, _ := in["containerDefinitions"].([]any)
	if len(cds) == 0 {
		return nil, clientErr("ClientException", "Container list cannot be empty.")
	}
	for _, c := range cds {
		m, _ := c.(map[string]any)
		if name, _ := m["name"].(string); name == "" {
			return nil, clientErr("ClientException", "Container.name should not be null or empty.")
		}
		if image, _ := m["image"].(string); image == "" {
			return nil, clientErr("ClientException", "Container.image should not be null or empty.")
		}
	}
	tags, _ := in["tags"].([]any)
	delete(in, "tags")
	f.mu.Lock()
	defer f.mu.Unlock()
	td := f.registerLocked(in, tags)
	return map[string]any{"taskDefinition": taskDefJSON(td), "tags": tagsJSON(f.tdTags[td.arn])}, nil
}

func taskDefJSON(td *taskDef) map[string]any {
	out := make(map[string]any, len(td.body)+6)
	for k, v := range td.body {
		out[k] = v
	}
	out["taskDefinitionArn"] = td.arn
	out["family"] = td.family
	out["revision"] = td.revision
	out["status"] = "ACTIVE"
	out["registeredAt"] = epoch(td.at)
	if _, ok := out["compatibilities"]; !ok {
		out["compatibilities"] = []any{"EC2", "FARGATE"}
	}
	return out
}

func tagsJSON(m map[string]string) []any {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]any, 0, len(keys))
	for _, k := range keys {
		out = append(out, map[string]any{"key": k, "value": m[k]})
	}
	return out
}

func (f *Fake) describeTaskDefinition(body []byte) (any, error) {
	var in struct {
		TaskDefinition string   `json:"taskDefinition"`
		Include        []string `json:"include"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	td := f.resolveLocked(in.TaskDefinition)
	if td == nil {
		return nil, clientErr("ClientException", "Unable to describe task definition.")
	}
	out := map[string]any{"taskDefinition": taskDefJSON(td)}
	for _, inc := range in.Include {
		if inc == "TAGS" {
			out["tags"] = tagsJSON(f.tdTags[td.arn])
		}
	}
	return out, nil
}

func (f *Fake) listTasks(body []byte) (any, error) {
	var in struct {
		Cluster       string `json:"cluster"`
		ServiceName   string `json:"serviceName"`
		DesiredStatus string `json:"desiredStatus"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	cluster := clusterName(in.Cluster)
	if !f.clusters[cluster] {
		return nil, clientErr("ClusterNotFoundException", "Cluster not found.")
	}
	if in.ServiceName != "" && f.services[cluster+"/"+serviceName(in.ServiceName)] == nil {
		return nil, clientErr("ServiceNotFoundException", "Service not found.")
	}
	arns := []string{}
	if in.DesiredStatus == "" || in.DesiredStatus == "RUNNING" {
		for arn, t := range f.tasks {
			if t.cluster == cluster && (in.ServiceName == "" || t.service == serviceName(in.ServiceName)) {
				arns = append(arns, arn)
			}
		}
	}
	sort.Strings(arns)
	return map[string]any{"taskArns": arns}, nil
}

func (f *Fake) describeTasks(body []byte) (any, error) {
	var in struct {
		Cluster string   `json:"cluster"`
		Tasks   []string `json:"tasks"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.Tasks) == 0 || len(in.Tasks) > 100 {
		return nil, clientErr("InvalidParameterException", "tasks must name 1 to 100 tasks")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	cluster := clusterName(in.Cluster)
	tasks, failures := []any{}, []any{}
	for _, arn := range in.Tasks {
		t := f.tasks[arn]
		if t == nil || t.cluster != cluster {
			failures = append(failures, map[string]any{"arn": arn, "reason": "MISSING"})
			continue
		}
		tasks = append(tasks, map[string]any{
			"taskArn": t.arn, "clusterArn": f.clusterARN(t.cluster), "taskDefinitionArn": t.taskDef,
			"lastStatus": "RUNNING", "desiredStatus": "RUNNING", "healthStatus": "HEALTHY", "launchType": "FARGATE",
			"group": "service:" + t.service, "startedBy": t.deployment, "startedAt": epoch(t.startedAt),
			"containers": []any{map[string]any{"name": t.container, "lastStatus": "RUNNING", "taskArn": t.arn,
				"networkInterfaces": []any{map[string]any{"privateIpv4Address": t.ip}}}},
			"attachments": []any{map[string]any{"type": "ElasticNetworkInterface", "status": "ATTACHED",
				"details": []any{map[string]any{"name": "privateIPv4Address", "value": t.ip}}}},
		})
	}
	return map[string]any{"tasks": tasks, "failures": failures}, nil
}

func (f *Fake) tagResource(body []byte) (any, error) {
	var in struct {
		ResourceArn string `json:"resourceArn"`
		Tags        []struct {
			Key   string `json:"key"`
			Value string `json:"value"`
		} `json:"tags"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var m map[string]string
	switch {
	case f.taskDefs[in.ResourceArn] != nil:
		m = f.tdTags[in.ResourceArn]
	default:
		for _, s := range f.services {
			if s.arn == in.ResourceArn {
				if f.svcTags[s.arn] == nil {
					f.svcTags[s.arn] = map[string]string{}
				}
				m = f.svcTags[s.arn]
			}
		}
	}
	if m == nil {
		return nil, clientErr("InvalidParameterException", "The specified resource is not found: %s", in.ResourceArn)
	}
	for _, t := range in.Tags {
		m[t.Key] = t.Value
	}
	return map[string]any{}, nil
}
