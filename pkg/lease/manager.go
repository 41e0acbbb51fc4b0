// Package lease gives each active deployment exactly one owner among several daemons sharing a store:
// a Manager renews the leases its daemon holds, watches the others' leases and takes over those that
// stopped changing, and tells its daemon when it gained or lost one.
//
// Timing uses only each daemon's own clock (the pattern of Chubby and of dynamolock): an owner counts
// its lease as valid until Duration-Margin after it *sent* its last successful renewal, and an
// observer may take a lease over only once it has seen the same token for a full Duration, which
// starts after that renewal was stored. So an owner always stops before anyone else may start, on any
// clocks that run at about the same rate, however far apart their times of day are, and also when the
// owner was paused (SIGSTOP, a long GC) and wakes up: it finds its lease lapsed on its own clock
// and writes nothing. Writes are fenced on the epoch besides (deploy.Fence), for the case no clock
// can see: a write already sent when the pause began.
package lease

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/deploy"
)

// DefaultDuration is the default lease time: a dead owner's deployments are taken over within about
// Duration + 2 scans + jitter (under 9 s with the defaults).
const DefaultDuration = 6 * time.Second

// Options configure a Manager.
type Options struct {
	Owner string // this daemon's unique name (one per process lifetime)
	Store deploy.LeaseStore
	Clock clock.Clock
	// Duration is the lease time (default DefaultDuration); Renew the renewal interval (Duration/3);
	// Scan the interval between listings of every lease (min(1s, Duration/4)); Jitter the largest
	// random delay before a takeover (Scan/2); Margin how long before an observer may take over the
	// owner stops (Duration/4).
	Duration, Renew, Scan, Jitter, Margin time.Duration
	// OnGained runs a deployment whose lease this daemon took over; OnLost stops one (it must cancel
	// the deployment's work before any further side effect). Both are called without locks held.
	OnGained func(l deploy.Lease)
	OnLost   func(id string)
	// OnCommands receives pending operator commands for leases this daemon holds (each once, until it
	// is no longer pending).
	OnCommands func(cmds []deploy.Command)
	Log        *zap.Logger
	// Rand returns a number in [0,1) for jitter (default math/rand/v2).
	Rand func() float64
}

// Manager keeps one daemon's leases.
type Manager struct {
	o Options

	mu       sync.Mutex
	held     map[string]*held
	seen     map[string]seen
	expired  map[string]expiry // takeover candidates
	inFlight map[string]bool   // commands handed to OnCommands and not yet gone from a scan
	stats    Stats

	nextRenew, nextScan time.Time // only Run's goroutine uses these
}

type held struct {
	l          deploy.Lease
	validUntil time.Time
}

type seen struct {
	epoch int64
	token string
	at    time.Time
}

type expiry struct {
	l      deploy.Lease
	jitter time.Duration
}

// Stats counts what a Manager did (for metrics and benchmarks).
type Stats struct {
	Renewals, RenewFailures, Scans, Takeovers, TakeoverRaces, Lost int64
}

// New returns a Manager; call Run to start renewing and scanning.
func New(o Options) *Manager {
	if o.Duration <= 0 {
		o.Duration = DefaultDuration
	}
	if o.Renew <= 0 {
		o.Renew = o.Duration / 3
	}
	if o.Scan <= 0 {
		o.Scan = min(time.Second, o.Duration/4)
	}
	if o.Jitter <= 0 {
		o.Jitter = o.Scan / 2
	}
	if o.Margin <= 0 {
		o.Margin = o.Duration / 4
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	return &Manager{o: o, held: map[string]*held{}, seen: map[string]seen{}, expired: map[string]expiry{}, inFlight: map[string]bool{}}
}

// Owner is this daemon's name in leases.
func (m *Manager) Owner() string { return m.o.Owner }

// Duration is the lease time this Manager writes.
func (m *Manager) Duration() time.Duration { return m.o.Duration }

// Stats returns a copy of the counters.
func (m *Manager) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats
}

// Hold registers a lease this daemon created (with the deployment, in one write sent at sentAt).
func (m *Manager) Hold(l deploy.Lease, sentAt time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.held[l.DeploymentID] = &held{l: l, validUntil: sentAt.Add(m.o.Duration - m.o.Margin)}
	delete(m.expired, l.DeploymentID)
}

// Claim creates the lease of an active deployment that has none (written before leases existed).
func (m *Manager) Claim(ctx context.Context, id, service string) (deploy.Fence, error) {
	sent := m.o.Clock.Now()
	l, err := m.o.Store.Claim(ctx, deploy.Lease{DeploymentID: id, Service: service, Owner: m.o.Owner, Duration: m.o.Duration, RenewedAt: sent.UTC()})
	if err != nil {
		return deploy.Fence{}, err
	}
	m.Hold(l, sent)
	f, _ := m.Fence(id)
	return f, nil
}

// Held reports how many leases this daemon holds.
func (m *Manager) Held() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.held)
}

// Fence returns the fence for deployment id while this daemon holds its lease. Its Check fails once
// the lease lapsed on this daemon's clock, or was lost or released.
func (m *Manager) Fence(id string) (deploy.Fence, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h, ok := m.held[id]
	if !ok {
		return deploy.Fence{}, false
	}
	epoch := h.l.Epoch
	return deploy.Fence{DeploymentID: id, Owner: m.o.Owner, Epoch: epoch, Check: func() error { return m.check(id, epoch) }}, true
}

// check reports deploy.ErrLeaseLost unless this daemon holds id's lease at epoch and it has not lapsed.
func (m *Manager) check(id string, epoch int64) error {
	now := m.o.Clock.Now()
	m.mu.Lock()
	h, ok := m.held[id]
	valid := ok && h.l.Epoch == epoch && now.Before(h.validUntil)
	m.mu.Unlock()
	if valid {
		return nil
	}
	if ok && h.l.Epoch == epoch {
		m.lose(id, "lease lapsed on this daemon's clock before it could be renewed")
	}
	return deploy.ErrLeaseLost
}

// Lost tells the Manager that a fenced write was refused: the lease is gone.
func (m *Manager) Lost(id string) { m.lose(id, "a fenced write was refused") }

func (m *Manager) lose(id, why string) {
	m.mu.Lock()
	_, ok := m.held[id]
	delete(m.held, id)
	if ok {
		m.stats.Lost++
	}
	m.mu.Unlock()
	if ok {
		m.o.Log.Warn("lease lost; stopping the deployment", zap.String("deployment_id", id), zap.String("why", why))
		if m.o.OnLost != nil {
			m.o.OnLost(id)
		}
	}
}

// Redeliver makes the next scan hand command id to OnCommands again (its deployment's runner was not
// ready for it).
func (m *Manager) Redeliver(id string) {
	m.mu.Lock()
	delete(m.inFlight, id)
	m.mu.Unlock()
}

// Release ends this daemon's lease of a finished deployment (deleting its item).
func (m *Manager) Release(ctx context.Context, id string) {
	m.mu.Lock()
	h, ok := m.held[id]
	delete(m.held, id)
	m.mu.Unlock()
	if !ok {
		return
	}
	if err := m.o.Store.Release(ctx, h.l); err != nil {
		m.o.Log.Warn("lease not released (it is marked released; the next scan ignores it)", zap.String("deployment_id", id), zap.Error(err))
	}
}

// Run renews and scans until ctx ends.
func (m *Manager) Run(ctx context.Context) {
	tick := max(m.o.Scan/4, time.Millisecond)
	for {
		m.step(ctx)
		wake, stop := m.o.Clock.After(tick)
		select {
		case <-ctx.Done():
			stop()
			return
		case <-wake:
		}
	}
}

// step is one turn of Run: lapsed leases are dropped first (so that nothing is renewed or written
// after a pause), then renewals and the scan when they are due, then takeovers whose delay passed.
func (m *Manager) step(ctx context.Context) {
	now := m.o.Clock.Now()
	m.expire(now)
	if !now.Before(m.nextRenew) {
		m.nextRenew = now.Add(m.o.Renew)
		m.renewAll(ctx)
	}
	if !now.Before(m.nextScan) {
		m.nextScan = now.Add(m.o.Scan)
		m.scan(ctx)
	}
	m.takeOver(ctx)
}

// expire drops held leases that lapsed on this daemon's clock (a renewal kept failing, or the process
// was paused): their deployments stop before anyone else may take them over.
func (m *Manager) expire(now time.Time) {
	m.mu.Lock()
	var lapsed []string
	for id, h := range m.held {
		if !now.Before(h.validUntil) {
			lapsed = append(lapsed, id)
		}
	}
	m.mu.Unlock()
	for _, id := range lapsed {
		m.lose(id, "lease lapsed before it could be renewed")
	}
}

// renewAll renews every held lease, each with its own conditional write.
func (m *Manager) renewAll(ctx context.Context) {
	m.mu.Lock()
	leases := make([]deploy.Lease, 0, len(m.held))
	for _, h := range m.held {
		leases = append(leases, h.l)
	}
	m.mu.Unlock()
	for _, l := range leases {
		if ctx.Err() != nil {
			return
		}
		m.renew(ctx, l)
	}
}

func (m *Manager) renew(ctx context.Context, l deploy.Lease) {
	sent := m.o.Clock.Now()
	if m.check(l.DeploymentID, l.Epoch) != nil {
		return // lapsed: a renewal now could outlive a takeover
	}
	l.RenewedAt = sent.UTC()
	next, err := m.o.Store.Renew(ctx, l)
	m.mu.Lock()
	h, ok := m.held[l.DeploymentID]
	if err == nil && ok && h.l.Epoch == l.Epoch {
		h.l, h.validUntil = next, sent.Add(m.o.Duration-m.o.Margin)
		m.stats.Renewals++
	} else if err != nil {
		m.stats.RenewFailures++
	}
	m.mu.Unlock()
	switch {
	case errors.Is(err, deploy.ErrLeaseLost):
		m.lose(l.DeploymentID, "renewal refused: another daemon took the lease over")
	case err != nil:
		m.o.Log.Warn("lease renewal failed; retrying until it lapses", zap.String("deployment_id", l.DeploymentID), zap.Error(err))
	}
}
