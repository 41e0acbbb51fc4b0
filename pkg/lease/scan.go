package lease

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// scan lists every lease once: it times the others' leases (a token seen unchanged for a lease's
// Duration makes it a takeover candidate), notices leases of this daemon that someone else now holds,
// and hands pending commands for held leases to OnCommands.
func (m *Manager) scan(ctx context.Context) {
	leases, cmds, err := m.o.Store.ListLeases(ctx)
	if err != nil {
		if ctx.Err() == nil {
			m.o.Log.Warn("lease scan failed", zap.Error(err))
		}
		return
	}
	now := m.o.Clock.Now()
	var lost []string
	m.mu.Lock()
	m.stats.Scans++
	present := make(map[string]bool, len(leases))
	for _, l := range leases {
		present[l.DeploymentID] = true
		if h, ok := m.held[l.DeploymentID]; ok {
			if l.Owner != m.o.Owner || l.Epoch != h.l.Epoch || l.Released {
				lost = append(lost, l.DeploymentID)
			}
			continue
		}
		if l.Released {
			delete(m.seen, l.DeploymentID)
			delete(m.expired, l.DeploymentID)
			continue
		}
		s, ok := m.seen[l.DeploymentID]
		if !ok || s.epoch != l.Epoch || s.token != l.Token {
			m.seen[l.DeploymentID] = seen{epoch: l.Epoch, token: l.Token, at: now}
			delete(m.expired, l.DeploymentID)
			continue
		}
		d := l.Duration
		if d <= 0 {
			d = m.o.Duration
		}
		if _, ok := m.expired[l.DeploymentID]; !ok && now.Sub(s.at) >= d {
			m.expired[l.DeploymentID] = expiry{l: l, jitter: time.Duration(m.o.Rand() * float64(m.o.Jitter))}
		}
	}
	for id := range m.seen {
		if !present[id] {
			delete(m.seen, id)
			delete(m.expired, id)
		}
	}
	var mine []deploy.Command
	pending := map[string]bool{}
	for _, c := range cmds {
		if _, ok := m.held[c.DeploymentID]; !ok || c.Done {
			continue
		}
		pending[c.ID] = true
		if !m.inFlight[c.ID] {
			m.inFlight[c.ID] = true
			mine = append(mine, c)
		}
	}
	for id := range m.inFlight {
		if !pending[id] {
			delete(m.inFlight, id)
		}
	}
	m.mu.Unlock()
	for _, id := range lost {
		m.lose(id, "the lease now names another owner")
	}
	if len(mine) > 0 && m.o.OnCommands != nil {
		m.o.OnCommands(mine)
	}
}

// takeOver tries the candidates whose delay has passed. The delay is the candidate's random jitter
// plus a share for every lease this daemon already holds, so that when several daemons see the same
// dead owner the less loaded ones win most races and the work spreads.
func (m *Manager) takeOver(ctx context.Context) {
	now := m.o.Clock.Now()
	m.mu.Lock()
	load := time.Duration(len(m.held)) * (m.o.Jitter / 8)
	var due []deploy.Lease
	for id, e := range m.expired {
		s := m.seen[id]
		if !now.Before(s.at.Add(leaseTime(e.l, m.o.Duration) + e.jitter + load)) {
			due = append(due, e.l)
		}
	}
	m.mu.Unlock()
	for _, l := range due {
		if ctx.Err() != nil {
			return
		}
		m.acquire(ctx, l)
	}
}

func leaseTime(l deploy.Lease, def time.Duration) time.Duration {
	if l.Duration > 0 {
		return l.Duration
	}
	return def
}

func (m *Manager) acquire(ctx context.Context, seen deploy.Lease) {
	sent := m.o.Clock.Now()
	l, err := m.o.Store.Acquire(ctx, seen, m.o.Owner, m.o.Duration)
	m.mu.Lock()
	delete(m.expired, seen.DeploymentID)
	switch {
	case err == nil:
		delete(m.seen, seen.DeploymentID)
		m.held[l.DeploymentID] = &held{l: l, validUntil: sent.Add(m.o.Duration - m.o.Margin)}
		m.stats.Takeovers++
	case errors.Is(err, deploy.ErrLeaseLost):
		m.stats.TakeoverRaces++ // another daemon was quicker, or the owner came back: time it afresh
		delete(m.seen, seen.DeploymentID)
	}
	m.mu.Unlock()
	if err != nil {
		if !errors.Is(err, deploy.ErrLeaseLost) && ctx.Err() == nil {
			m.o.Log.Warn("lease takeover failed", zap.String("deployment_id", seen.DeploymentID), zap.Error(err))
		}
		return
	}
	m.o.Log.Info("lease taken over", zap.String("deployment_id", l.DeploymentID), zap.String("service", l.Service),
		zap.String("previous_owner", seen.Owner), zap.Int64("epoch", l.Epoch))
	if m.o.OnGained != nil {
		m.o.OnGained(l)
	}
}
