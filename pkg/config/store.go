package config

import (
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/lease"
)

// Lease bounds (docs/ha.md). The lease time is how long a dead daemon's deployments wait for another
// one (plus up to two scans); the scan is how often each daemon reads the lease partition, one
// strongly consistent Query, so it sets the steady read rate and how soon a command sent to a daemon
// that does not own the deployment is applied. It is its own knob, not poll_interval: a short
// poll_interval (fast alarm polls) must not multiply every daemon's lease reads.
const (
	DefaultLeaseTime = lease.DefaultDuration
	MinLeaseTime     = 500 * time.Millisecond
	MaxLeaseTime     = time.Minute
	MaxLeaseScan     = time.Second // the default: min(1s, lease_time/4)
	MinLeaseScan     = 100 * time.Millisecond
)

func (s *Store) applyLeaseDefaults() {
	if s.Driver != "dynamodb" {
		return
	}
	if s.LeaseTime == 0 {
		s.LeaseTime = deploy.Duration(DefaultLeaseTime)
	}
	if s.LeaseScan == 0 {
		s.LeaseScan = deploy.Duration(min(MaxLeaseScan, s.LeaseTime.D()/4))
	}
}

// validateLeases checks the lease knobs: only the dynamodb store has leases, the scan must see a
// lease several times within its lease time (an observer times a lease by the scans that saw it).
func (s *Store) validateLeases(add func(string, ...any)) {
	if s.Driver != "dynamodb" {
		if s.LeaseTime != 0 || s.LeaseScan != 0 || s.DaemonName != "" {
			add("store.lease_time, store.lease_scan, store.daemon_name: only for the dynamodb store (one sqlite daemon holds every deployment)")
		}
		return
	}
	lt, sc := s.LeaseTime.D(), s.LeaseScan.D()
	if lt < MinLeaseTime || lt > MaxLeaseTime {
		add("store.lease_time: %s must be between %s and %s", s.LeaseTime, MinLeaseTime, MaxLeaseTime)
	}
	if sc < MinLeaseScan || sc > lt/4 {
		add("store.lease_scan: %s must be between %s and lease_time/4 (%s)", s.LeaseScan, MinLeaseScan, lt/4)
	}
	if s.DaemonName != "" && !tokenNameRE.MatchString(s.DaemonName) {
		add("store.daemon_name: %q must be 1-64 letters, digits or _.@- (a pid and a random suffix are added per process)", s.DaemonName)
	}
}
