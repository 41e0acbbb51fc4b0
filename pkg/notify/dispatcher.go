package notify

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/deploy"
)

// Options configure a Dispatcher. Durations left zero take the Default* values.
type Options struct {
	Events  EventSource        // the daemon's store
	Objects deploy.ObjectStore // cursors and failures live beside the deployments
	Sinks   map[string]Sink
	Routes  []Route
	Links   *Links // optional: action links for paused and held deployments
	// DashboardURL, when set, gives messages a link to the deployment (<url>/#/deployments/<id>).
	DashboardURL string
	Clock        clock.Clock
	Log          *zap.Logger

	PollInterval time.Duration
	MaxAttempts  int
	Backoff      time.Duration
	MaxBackoff   time.Duration
	Lookback     time.Duration
	// ListLimit is how many of the newest deployments each pass reads (default 100).
	ListLimit int
}

// Dispatcher delivers audit events to sinks. Each sink has its own goroutine, cursors and retries, so
// a dead endpoint delays only its own messages. Nothing in the controller calls it or waits for it.
//
// Why per-deployment cursors rather than one global feed: the store's only event read is per
// deployment (Store.Events), and a global "highest seq seen" would be wrong on DynamoDB, whose
// sequence numbers come from a counter taken before the event is written: an event with a lower number
// can appear after a higher one was read. A cursor therefore keeps the recently handled numbers above
// its settled point (see Settle) instead of a single high-water mark. Recent deployments (active, or
// finished within Lookback) are listed from the store each pass.
type Dispatcher struct {
	o       Options
	workers []*worker
}

// New checks o and returns a dispatcher; Run starts it.
func New(o Options) (*Dispatcher, error) {
	if o.Events == nil || o.Objects == nil {
		return nil, deploy.Errorf("notify.New", deploy.KindInvalid, "an event source and an object store are required")
	}
	for _, r := range o.Routes {
		for _, s := range r.Sinks {
			if o.Sinks[s] == nil {
				return nil, deploy.Errorf("notify.New", deploy.KindInvalid, "route names unknown sink %q", s)
			}
		}
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.PollInterval, DefaultPollInterval)
	def(&o.Backoff, DefaultBackoff)
	def(&o.MaxBackoff, DefaultMaxBackoff)
	def(&o.Lookback, DefaultLookback)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.ListLimit <= 0 {
		o.ListLimit = 100
	}
	d := &Dispatcher{o: o}
	names := make([]string, 0, len(o.Sinks))
	for n := range o.Sinks {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		d.workers = append(d.workers, &worker{d: d, name: n, sink: o.Sinks[n], wake: make(chan struct{}, 1),
			log: o.Log.With(zap.String("sink", n))})
	}
	return d, nil
}

// Run delivers until ctx ends, then waits for the sink goroutines to stop. A message in flight when
// ctx ends is not marked delivered: the next start sends it again (at-least-once).
func (d *Dispatcher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, w := range d.workers {
		wg.Add(1)
		go func() { defer wg.Done(); w.run(ctx) }()
	}
	wg.Wait()
}

// Wake makes every sink read new events now instead of at its next poll (e.g. from the daemon's
// in-process event stream). It never blocks.
func (d *Dispatcher) Wake() {
	for _, w := range d.workers {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// Failures lists the recorded, given-up deliveries, oldest first.
func (d *Dispatcher) Failures(ctx context.Context) ([]Failure, error) {
	return Failures(ctx, d.o.Objects)
}

// Failures lists the recorded, given-up deliveries in objects, oldest first.
func Failures(ctx context.Context, objects deploy.ObjectStore) ([]Failure, error) {
	objs, err := objects.ListObjects(ctx, KindFailure)
	if err != nil {
		return nil, err
	}
	out := make([]Failure, 0, len(objs))
	for _, o := range objs {
		var f Failure
		if err := jsonDecode(o.Body, &f); err != nil {
			return nil, deploy.Wrap("notify.Failures", deploy.KindInternal, err, "decode "+o.ID)
		}
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].FailedAt.Before(out[j].FailedAt) })
	return out, nil
}

// worker is one sink's loop.
type worker struct {
	d    *Dispatcher
	name string
	sink Sink
	wake chan struct{}
	log  *zap.Logger

	ready   bool
	since   time.Time          // the sink's first start: older history is not sent
	cursors map[string]*cursor // by deployment id
}

func (w *worker) run(ctx context.Context) {
	for ctx.Err() == nil {
		err := w.pass(ctx)
		if err != nil && ctx.Err() == nil {
			w.log.Warn("notification pass interrupted; retrying at the next poll", zap.Error(err))
			w.ready = false // reload cursors: another daemon may have moved them
		}
		c, stop := w.d.o.Clock.After(w.d.o.PollInterval)
		select {
		case <-ctx.Done():
		case <-c:
		case <-w.wake:
		}
		stop()
	}
}

// pending is one event to consider, with its deployment.
type pending struct {
	dep *deploy.Deployment
	ev  deploy.Event
}

// pass reads the events after each recent deployment's cursor and handles them in sequence order.
func (w *worker) pass(ctx context.Context) error {
	o := w.d.o
	if !w.ready {
		if err := w.load(ctx); err != nil {
			return err
		}
	}
	deps, err := o.Events.ListDeployments(ctx, deploy.ListFilter{Limit: o.ListLimit})
	if err != nil {
		return err
	}
	now := o.Clock.Now()
	listed := map[string]bool{}
	read := map[string][]deploy.Event{}
	var todo []pending
	for _, dep := range deps {
		if dep.State.Terminal() && now.Sub(dep.UpdatedAt) > o.Lookback {
			continue
		}
		listed[dep.ID] = true
		c := w.cursorOf(dep.ID)
		evs, err := o.Events.Events(ctx, dep.ID, c.Seq)
		if err != nil {
			return err
		}
		read[dep.ID] = evs
		for _, e := range evs {
			if !c.handled(e.Seq) {
				todo = append(todo, pending{dep, e})
			}
		}
	}
	sort.SliceStable(todo, func(i, j int) bool { return todo[i].ev.Seq < todo[j].ev.Seq })
	dirty := map[string]bool{}
	for _, p := range todo {
		c := w.cursorOf(p.dep.ID)
		if !w.wanted(p.ev, c) {
			c.Recent = append(c.Recent, p.ev.Seq) // skipped: remembered, written once at the end of the pass
			dirty[p.dep.ID] = true
			continue
		}
		if err := w.deliver(ctx, w.message(p)); err != nil {
			return err
		}
		c.Recent = append(c.Recent, p.ev.Seq)
		if err := w.save(ctx, p.dep.ID, c); err != nil {
			return err
		}
		delete(dirty, p.dep.ID)
	}
	for id, evs := range read {
		if w.cursors[id].settle(evs, now) {
			dirty[id] = true
		}
	}
	for id := range dirty {
		if err := w.save(ctx, id, w.cursors[id]); err != nil {
			return err
		}
	}
	w.prune(ctx, listed, now)
	return nil
}

// wanted: routed to this sink, and not history from before the sink first started.
func (w *worker) wanted(e deploy.Event, c *cursor) bool {
	if c.Version == 0 && e.Time.Before(w.since) {
		return false
	}
	for _, s := range Match(w.d.o.Routes, e) {
		if s == w.name {
			return true
		}
	}
	return false
}

// deliver sends m with retries and exponential back-off on the injected clock; after MaxAttempts (or
// an error that cannot succeed on retry) the failure is recorded. It returns an error only when the
// message was neither delivered nor recorded (ctx ended, the store failed): its cursor must stay.
func (w *worker) deliver(ctx context.Context, m Message) error {
	o := w.d.o
	backoff := o.Backoff
	first := o.Clock.Now()
	for attempt := 1; ; attempt++ {
		err := w.sink.Send(ctx, m)
		if err == nil {
			w.log.Debug("notification delivered", zap.String("message_id", m.ID), zap.Int("attempt", attempt))
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		final := attempt >= o.MaxAttempts || deploy.KindOf(err) == deploy.KindInvalid
		w.log.Warn("notification not delivered", zap.String("message_id", m.ID), zap.String("action", m.Event.Action),
			zap.Int("attempt", attempt), zap.Bool("final", final), zap.Error(err))
		if final {
			return w.fail(ctx, m, attempt, first, err)
		}
		c, stop := o.Clock.After(backoff)
		select {
		case <-ctx.Done():
			stop()
			return ctx.Err()
		case <-c:
		}
		backoff = min(2*backoff, o.MaxBackoff)
	}
}

// fail records a given-up delivery. A record that already exists (the same message given up before a
// restart) is kept.
func (w *worker) fail(ctx context.Context, m Message, attempts int, first time.Time, cause error) error {
	f := Failure{Sink: w.name, MessageID: m.ID, DeploymentID: m.Event.DeploymentID, Service: m.Event.Service,
		Action: m.Event.Action, Seq: m.Event.Seq, Attempts: attempts, LastError: deploy.MessageOf(cause),
		FirstAttempt: first.UTC(), FailedAt: w.d.o.Clock.Now().UTC()}
	body, err := jsonEncode(f)
	if err != nil {
		return err
	}
	err = w.d.o.Objects.PutObject(ctx, &deploy.Object{Kind: KindFailure, ID: w.name + "/" + m.ID, Body: body})
	if err != nil && deploy.KindOf(err) != deploy.KindConflict {
		return err
	}
	w.log.Error("notification given up and recorded", zap.String("message_id", m.ID), zap.Int("attempts", attempts),
		zap.String("deployment_id", m.Event.DeploymentID), zap.String("action", m.Event.Action), zap.Error(cause))
	return nil
}

// message renders one event for the sinks.
func (w *worker) message(p pending) Message {
	e, dep := p.ev, p.dep
	id := e.ID
	if id == "" {
		id = fmt.Sprintf("%s-%d", e.DeploymentID, e.Seq)
	}
	m := Message{ID: id, Event: e, Deployment: DeploymentRef{ID: dep.ID, Service: dep.Service, ImageTag: dep.ImageTag,
		State: dep.State, From: dep.From, To: dep.To, Weights: dep.Weights.String()}}
	if u := w.d.o.DashboardURL; u != "" {
		m.URL = strings.TrimRight(u, "/") + "/#/deployments/" + dep.ID
	}
	// Links only while the deployment can still be acted on: a pause event read after the release
	// finished carries none.
	if l := w.d.o.Links; l != nil && dep.State.Active() {
		links, err := l.ForDeployment(e)
		if err != nil {
			w.log.Warn("action links not signed", zap.Error(err))
		}
		m.Links = links
	}
	m.Text = Summary(m)
	return m
}

// Summary is a message's one line: "web 0190… v2: rollback (state rolling_back) by controller: reason".
func Summary(m Message) string {
	e := m.Event
	var b strings.Builder
	fmt.Fprintf(&b, "%s deployment %s", e.Service, shortID(e.DeploymentID))
	if m.Deployment.ImageTag != "" {
		fmt.Fprintf(&b, " (%s)", m.Deployment.ImageTag)
	}
	fmt.Fprintf(&b, ": %s", e.Action)
	if e.State != "" {
		fmt.Fprintf(&b, " [%s]", e.State)
	}
	fmt.Fprintf(&b, " by %s", e.Actor)
	if e.Reason != "" {
		fmt.Fprintf(&b, ": %s", e.Reason)
	}
	return b.String()
}

func shortID(id string) string {
	if len(id) > 13 {
		return id[:13]
	}
	return id
}
