package rollback

import (
	"context"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// Monitor polls the CloudWatch alarms of every watched deployment at one interval, with all names of all
// deployments in one batched DescribeAlarms round (the adapter splits by the API's 100-name limit), and
// hands each deployment whose alarms fire a Trigger. One poll serves every deployment, so the call rate
// does not grow with the number of services.
type Monitor struct {
	Alarms   deploy.Alarms
	Interval time.Duration
	Log      *zap.Logger
	Now      func() time.Time

	mu      sync.Mutex
	watches map[string]watch
	last    map[string]deploy.AlarmState
	kick    chan struct{}
}

type watch struct {
	names []string
	fire  func(Trigger)
}

// NewMonitor returns a monitor; call Run to start polling.
func NewMonitor(a deploy.Alarms, interval time.Duration, log *zap.Logger) *Monitor {
	if log == nil {
		log = zap.NewNop()
	}
	return &Monitor{Alarms: a, Interval: interval, Log: log, Now: time.Now,
		watches: map[string]watch{}, kick: make(chan struct{}, 1)}
}

// Watch starts guarding deployment id with the given alarm names; fire is called (from the monitor's
// goroutine, so it must not block) on every poll that finds one of them in ALARM. A new watch is polled
// at once rather than at the next tick.
func (m *Monitor) Watch(id string, names []string, fire func(Trigger)) {
	m.mu.Lock()
	m.watches[id] = watch{names: append([]string(nil), names...), fire: fire}
	m.mu.Unlock()
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// Unwatch stops guarding id.
func (m *Monitor) Unwatch(id string) {
	m.mu.Lock()
	delete(m.watches, id)
	m.mu.Unlock()
}

// States returns the alarm states seen by the last poll for names (for progress reports).
func (m *Monitor) States(names []string) map[string]deploy.AlarmState {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]deploy.AlarmState, len(names))
	for _, n := range names {
		if st, ok := m.last[n]; ok {
			out[n] = st
		}
	}
	return out
}

// Run polls until ctx ends.
func (m *Monitor) Run(ctx context.Context) {
	t := time.NewTicker(m.Interval)
	defer t.Stop()
	for {
		m.Poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-m.kick:
		}
	}
}

// Poll runs one round: one batched read of every watched alarm, then triggers.
func (m *Monitor) Poll(ctx context.Context) {
	m.mu.Lock()
	set := map[string]bool{}
	watches := make(map[string]watch, len(m.watches))
	for id, w := range m.watches {
		watches[id] = w
		for _, n := range w.names {
			set[n] = true
		}
	}
	m.mu.Unlock()
	if len(set) == 0 {
		return
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	pollCtx, cancel := context.WithTimeout(ctx, m.Interval*5)
	states, err := m.Alarms.AlarmStates(pollCtx, names)
	cancel()
	if err != nil {
		// A failed poll never rolls back by itself (CloudWatch blips must not pull a good release);
		// deployments keep baking and the next poll tries again.
		m.Log.Warn("alarm poll failed", zap.Error(err), zap.Int("alarms", len(names)))
		return
	}
	now := m.Now()
	m.mu.Lock()
	m.last = states
	m.mu.Unlock()
	for id, w := range watches {
		m.mu.Lock()
		_, still := m.watches[id]
		m.mu.Unlock()
		if !still {
			continue // unwatched while the poll was in flight
		}
		if tr, ok := FiringAlarms(w.names, states, now); ok {
			m.Log.Info("guarding alarm firing", zap.String("deployment_id", id), zap.String("reason", tr.Reason))
			w.fire(tr)
		}
	}
}
