package analysis

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/analysis/judge"
	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/deploy"
)

// Engine runs the analyses of every deployment this daemon drives, one loop each.
type Engine struct {
	providers map[deploy.AnalysisProvider]Provider
	clock     clock.Clock
	log       *zap.Logger

	mu   sync.Mutex
	runs map[string]*run
}

// NewEngine returns an engine reading metrics from providers.
func NewEngine(providers map[deploy.AnalysisProvider]Provider, clk clock.Clock, log *zap.Logger) *Engine {
	if log == nil {
		log = zap.NewNop()
	}
	return &Engine{providers: providers, clock: clk, log: log, runs: map[string]*run{}}
}

// Job is one deployment's analysis as the controller starts it.
type Job struct {
	Key          string // the deployment id
	Spec         deploy.AnalysisSpec
	Base, Canary Target
	// Stored is the run as last stored (a restart continues it), nil for a new run.
	Stored *deploy.AnalysisRun
	// PreTraffic says the new colour has no production traffic yet: only pre-traffic metrics count.
	PreTraffic bool
}

// metricRun is one metric's judge and progress.
type metricRun struct {
	spec   deploy.AnalysisMetric
	judge  judge.Judge
	status deploy.MetricStatus
	last   *judge.Interval // the last cumulative reading (Base, Canary)
}

type run struct {
	e       *Engine
	job     Job
	metrics []*metricRun
	notify  chan struct{}
	cancel  context.CancelFunc
	done    chan struct{}

	mu         sync.Mutex
	preTraffic bool
	rec        deploy.AnalysisRun
}

// Start begins (or, from job.Stored, continues) the analysis of job.Key and returns a channel that
// receives a signal whenever its verdict may have changed. Starting a key that runs returns its channel.
func (e *Engine) Start(job Job) (<-chan struct{}, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if r, ok := e.runs[job.Key]; ok {
		return r.notify, nil
	}
	job.Spec = job.Spec.WithDefaults()
	r := &run{e: e, job: job, notify: make(chan struct{}, 1), done: make(chan struct{}), preTraffic: job.PreTraffic}
	if err := r.build(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	e.runs[job.Key] = r
	go r.loop(ctx)
	return r.notify, nil
}

// build makes each metric's judge, restoring stored state where the stored run has it.
func (r *run) build() error {
	now := r.e.clock.Now().UTC()
	r.rec = deploy.AnalysisRun{StartedAt: now, UpdatedAt: now, Verdict: deploy.VerdictInconclusive}
	stored := map[string]deploy.MetricStatus{}
	if s := r.job.Stored; s != nil {
		r.rec = *s
		r.rec.FinishedAt = nil
		r.rec.Points = append([]deploy.AnalysisPoint(nil), s.Points...)
		for _, m := range s.Metrics {
			stored[m.Name] = m
		}
	}
	for _, m := range r.job.Spec.Metrics {
		if _, ok := r.e.providers[m.Provider]; !ok {
			return deploy.Errorf("analysis.Start", deploy.KindInvalid, "metric %s: no %s provider configured in this daemon", m.Name, m.Provider)
		}
		j, err := judge.New(m, r.job.Spec.Alpha)
		if err != nil {
			return deploy.Wrap("analysis.Start", deploy.KindInvalid, err, "metric "+m.Name)
		}
		mr := &metricRun{spec: m, judge: j, status: deploy.MetricStatus{Name: m.Name, Verdict: deploy.VerdictInconclusive}}
		if st, ok := stored[m.Name]; ok {
			mr.status = st
			if len(st.Judge) > 0 {
				if err := j.Restore(st.Judge); err != nil {
					return deploy.Wrap("analysis.Start", deploy.KindInvalid, err, "metric "+m.Name+": stored judge state")
				}
			}
			if len(st.Last) > 0 {
				var last judge.Interval
				if err := json.Unmarshal(st.Last, &last); err == nil {
					mr.last = &last
				}
			}
		}
		r.metrics = append(r.metrics, mr)
	}
	r.rec.Metrics = r.statuses()
	return nil
}

// SetPreTraffic tells key's run whether the new colour has production traffic yet.
func (e *Engine) SetPreTraffic(key string, pre bool) {
	if r := e.get(key); r != nil {
		r.mu.Lock()
		if r.preTraffic != pre {
			// The verdict of the pre-traffic metrics is not the verdict of the shift.
			r.preTraffic = pre
			r.rec.Verdict, r.rec.Why = r.overall(pre)
		}
		r.mu.Unlock()
	}
}

// Status returns key's run as it stands.
func (e *Engine) Status(key string) (deploy.AnalysisRun, bool) {
	r := e.get(key)
	if r == nil {
		return deploy.AnalysisRun{}, false
	}
	return r.snapshot(), true
}

// Stop ends key's run and returns its final record.
func (e *Engine) Stop(key string) (deploy.AnalysisRun, bool) {
	e.mu.Lock()
	r, ok := e.runs[key]
	delete(e.runs, key)
	e.mu.Unlock()
	if !ok {
		return deploy.AnalysisRun{}, false
	}
	r.cancel()
	<-r.done
	for _, p := range r.e.providers {
		if s, ok := p.(Stopper); ok {
			s.Stop(key)
		}
	}
	r.mu.Lock()
	now := r.e.clock.Now().UTC()
	r.rec.FinishedAt = &now
	r.mu.Unlock()
	return r.snapshot(), true
}

// snapshot copies the run's record, so that callers never share its slices with the loop.
func (r *run) snapshot() deploy.AnalysisRun {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.rec
	out.Metrics = append([]deploy.MetricStatus(nil), r.rec.Metrics...)
	out.Points = append([]deploy.AnalysisPoint(nil), r.rec.Points...)
	return out
}

func (e *Engine) get(key string) *run {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.runs[key]
}

func (r *run) loop(ctx context.Context) {
	defer close(r.done)
	every := r.job.Spec.Interval.D()
	for {
		r.round(ctx)
		wake, stop := r.e.clock.After(every)
		select {
		case <-ctx.Done():
			stop()
			return
		case <-wake:
		}
	}
}

// round measures every metric due in this phase, one Measure call per provider, and judges the deltas.
func (r *run) round(ctx context.Context) {
	r.mu.Lock()
	pre := r.preTraffic
	r.mu.Unlock()
	byProvider := map[deploy.AnalysisProvider][]*metricRun{}
	for _, m := range r.metrics {
		if pre && !m.spec.IsPreTraffic() {
			continue
		}
		byProvider[m.spec.Provider] = append(byProvider[m.spec.Provider], m)
	}
	now := r.e.clock.Now().UTC()
	type answer struct {
		m   *metricRun
		rd  Reading
		err error
	}
	var answers []answer
	for prov, ms := range byProvider {
		reqs := make([]Request, len(ms))
		for i, m := range ms {
			reqs[i] = Request{Key: r.job.Key, Metric: m.spec, Base: r.job.Base, Canary: r.job.Canary, Since: r.rec.StartedAt}
		}
		mctx, cancel := context.WithTimeout(ctx, max(r.job.Spec.Interval.D(), 2*time.Second))
		rds, errs := r.e.providers[prov].Measure(mctx, now, reqs)
		cancel()
		if ctx.Err() != nil {
			return
		}
		for i, m := range ms {
			a := answer{m: m}
			switch {
			case i < len(errs) && errs[i] != nil:
				a.err = errs[i]
			case i >= len(rds):
				a.err = fmt.Errorf("provider %s gave no reading", prov)
			default:
				a.rd = rds[i]
			}
			answers = append(answers, a)
		}
	}
	r.mu.Lock()
	before := r.rec.Verdict
	for _, a := range answers {
		r.judgeOne(a.m, a.rd, a.err, now)
	}
	r.rec.Metrics = r.statuses()
	r.rec.Verdict, r.rec.Why = r.overall(pre)
	r.rec.UpdatedAt = now
	changed := r.rec.Verdict != before
	r.mu.Unlock()
	if changed {
		r.e.log.Info("analysis verdict", zap.String("deployment", r.job.Key), zap.String("verdict", string(r.rec.Verdict)), zap.String("why", r.rec.Why))
	}
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// judgeOne feeds one reading (or error) of m to its judge. Called with r.mu held.
func (r *run) judgeOne(m *metricRun, rd Reading, err error, now time.Time) {
	st := &m.status
	if err != nil {
		st.Errors++
		st.LastError = deploy.MessageOf(err)
		if st.Errors >= r.job.Spec.ConsecutiveErrorLimit {
			// Fail closed: a metric that cannot be read is no evidence that the release is good.
			st.Verdict = deploy.VerdictFail
			st.Why = fmt.Sprintf("%d measurements failed in a row (consecutive_error_limit %d): %s", st.Errors, r.job.Spec.ConsecutiveErrorLimit, st.LastError)
		}
		return
	}
	st.Errors, st.LastError = 0, ""
	cur := judge.Interval{Base: rd.Base, Canary: rd.Canary}
	if m.last != nil && st.Verdict != deploy.VerdictFail {
		db, rb := judge.Delta(m.last.Base, cur.Base)
		dc, rc := judge.Delta(m.last.Canary, cur.Canary)
		// An interval with a counter reset says nothing reliable about the split; the next one will.
		if !rb && !rc {
			iv := judge.Interval{Base: db, Canary: dc}
			m.judge.Observe(iv)
			res := m.judge.Result()
			st.Verdict, st.Why, st.Stats = res.Verdict, res.Why, res.Stats
			if iv.Base.Requests > 0 || iv.Canary.Requests > 0 {
				r.addPoint(now, m, iv)
			}
		}
	}
	m.last = &cur
	if b, err := m.judge.State(); err == nil {
		st.Judge = b
	}
	if b, err := json.Marshal(cur); err == nil {
		st.Last = b
	}
}

func (r *run) addPoint(now time.Time, m *metricRun, iv judge.Interval) {
	p := deploy.AnalysisPoint{At: now, Metric: m.spec.Name, Verdict: m.status.Verdict,
		BaseRequests: iv.Base.Requests, BaseErrors: iv.Base.Errors,
		CanaryRequests: iv.Canary.Requests, CanaryErrors: iv.Canary.Errors}
	if m.spec.Judge == deploy.JudgeLatency || len(iv.Canary.Buckets) > 0 {
		p.BaseValue, p.CanaryValue = finite(judge.Quantile(iv.Base, 0.9)), finite(judge.Quantile(iv.Canary, 0.9))
	} else {
		p.BaseValue, p.CanaryValue = rate(iv.Base), rate(iv.Canary)
	}
	r.rec.Points = thin(append(r.rec.Points, p), deploy.MaxAnalysisPoints)
}

// thin keeps at most n points: when full, every other point of the older half goes, so the whole run
// stays visible at a coarser grain and the recent past at full detail.
func thin(ps []deploy.AnalysisPoint, n int) []deploy.AnalysisPoint {
	if len(ps) <= n {
		return ps
	}
	half := len(ps) / 2
	out := make([]deploy.AnalysisPoint, 0, len(ps))
	for i := 0; i < half; i += 2 {
		out = append(out, ps[i])
	}
	return append(out, ps[half:]...)
}

func rate(a judge.Arm) float64 {
	if a.Requests <= 0 {
		return 0
	}
	return a.Errors / a.Requests
}

func finite(v float64) float64 {
	if v != v || v > 1e300 || v < -1e300 {
		return 0
	}
	return v
}

func (r *run) statuses() []deploy.MetricStatus {
	out := make([]deploy.MetricStatus, len(r.metrics))
	for i, m := range r.metrics {
		out[i] = m.status
	}
	return out
}

// overall: any metric failing fails the run; it passes when every metric due in this phase passes.
func (r *run) overall(pre bool) (deploy.Verdict, string) {
	var fails, open []string
	due := 0
	for _, m := range r.metrics {
		if m.status.Verdict == deploy.VerdictFail {
			fails = append(fails, m.spec.Name+": "+m.status.Why)
			continue
		}
		if pre && !m.spec.IsPreTraffic() {
			continue
		}
		due++
		if m.status.Verdict != deploy.VerdictPass {
			open = append(open, m.spec.Name)
		}
	}
	switch {
	case len(fails) > 0:
		sort.Strings(fails)
		return deploy.VerdictFail, strings.Join(fails, "; ")
	case due == 0:
		return deploy.VerdictInconclusive, "no metric is measured in this phase"
	case len(open) == 0:
		return deploy.VerdictPass, "every metric passed"
	}
	return deploy.VerdictInconclusive, "waiting for evidence on " + strings.Join(open, ", ")
}
