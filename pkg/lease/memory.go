package lease

import (
	"context"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// Memory is a deploy.LeaseStore and deploy.CommandStore in memory with the same conditions as the
// DynamoDB adapter, for tests of the Manager and of the controller. It counts the writes each owner
// attempted.
type Memory struct {
	mu     sync.Mutex
	leases map[string]deploy.Lease
	cmds   map[string]deploy.Command
	tokens int64
	writes map[string]int // attempted writes per owner
	calls  map[string]int // calls per method (ListLeases, Renew, ...), as a store bill would count them
	// Fail, when set, is returned by every call (a store outage).
	Fail error
}

var (
	_ deploy.LeaseStore   = (*Memory)(nil)
	_ deploy.CommandStore = (*Memory)(nil)
)

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{leases: map[string]deploy.Lease{}, cmds: map[string]deploy.Command{}, writes: map[string]int{}, calls: map[string]int{}}
}

// Calls returns how many times method (ListLeases, Claim, Acquire, Renew, Release) was called.
func (s *Memory) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// Writes returns how many writes owner attempted.
func (s *Memory) Writes(owner string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes[owner]
}

// Get returns the stored lease of id.
func (s *Memory) Get(id string) (deploy.Lease, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.leases[id]
	return l, ok
}

func (s *Memory) token() string { s.tokens++; return "t" + strconv.FormatInt(s.tokens, 10) }

func (s *Memory) ListLeases(context.Context) ([]deploy.Lease, []deploy.Command, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls["ListLeases"]++
	if s.Fail != nil {
		return nil, nil, s.Fail
	}
	ls := make([]deploy.Lease, 0, len(s.leases))
	for _, l := range s.leases {
		ls = append(ls, l)
	}
	sort.Slice(ls, func(i, j int) bool { return ls[i].DeploymentID < ls[j].DeploymentID })
	cs := make([]deploy.Command, 0, len(s.cmds))
	for _, c := range s.cmds {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].At.Before(cs[j].At) })
	return ls, cs, nil
}

func (s *Memory) Claim(_ context.Context, l deploy.Lease) (deploy.Lease, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls["Claim"]++
	s.writes[l.Owner]++
	if s.Fail != nil {
		return deploy.Lease{}, s.Fail
	}
	if _, ok := s.leases[l.DeploymentID]; ok {
		return deploy.Lease{}, deploy.Wrap("lease.Claim", deploy.KindConflict, deploy.ErrLeaseLost, "deployment "+l.DeploymentID+" has a lease")
	}
	l.Epoch, l.Token = 1, s.token()
	s.leases[l.DeploymentID] = l
	return l, nil
}

func (s *Memory) Acquire(_ context.Context, seen deploy.Lease, owner string, d time.Duration) (deploy.Lease, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls["Acquire"]++
	s.writes[owner]++
	if s.Fail != nil {
		return deploy.Lease{}, s.Fail
	}
	cur, ok := s.leases[seen.DeploymentID]
	if !ok || cur.Epoch != seen.Epoch || cur.Token != seen.Token || cur.Released {
		return deploy.Lease{}, deploy.Wrap("lease.Acquire", deploy.KindConflict, deploy.ErrLeaseLost, "lease of "+seen.DeploymentID+" changed")
	}
	cur.Owner, cur.Epoch, cur.Token, cur.Duration = owner, cur.Epoch+1, s.token(), d
	s.leases[cur.DeploymentID] = cur
	return cur, nil
}

func (s *Memory) Renew(_ context.Context, l deploy.Lease) (deploy.Lease, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls["Renew"]++
	s.writes[l.Owner]++
	if s.Fail != nil {
		return deploy.Lease{}, s.Fail
	}
	cur, ok := s.leases[l.DeploymentID]
	if !ok || cur.Owner != l.Owner || cur.Epoch != l.Epoch || cur.Released {
		return deploy.Lease{}, deploy.Wrap("lease.Renew", deploy.KindConflict, deploy.ErrLeaseLost, "lease of "+l.DeploymentID+" lost")
	}
	cur.Token, cur.RenewedAt = s.token(), l.RenewedAt
	s.leases[cur.DeploymentID] = cur
	return cur, nil
}

func (s *Memory) Release(_ context.Context, l deploy.Lease) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls["Release"]++
	s.writes[l.Owner]++
	if s.Fail != nil {
		return s.Fail
	}
	if cur, ok := s.leases[l.DeploymentID]; ok && cur.Owner == l.Owner && cur.Epoch == l.Epoch {
		delete(s.leases, l.DeploymentID)
	}
	return nil
}

// Steal rewrites a lease as if another daemon had taken it over (tests).
func (s *Memory) Steal(id, owner string) deploy.Lease {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.leases[id]
	cur.Owner, cur.Epoch, cur.Token = owner, cur.Epoch+1, s.token()
	s.leases[id] = cur
	return cur
}

func (s *Memory) PutCommand(_ context.Context, c deploy.Command) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail != nil {
		return s.Fail
	}
	s.cmds[c.DeploymentID+"/"+c.ID] = c
	return nil
}

func (s *Memory) GetCommand(_ context.Context, deploymentID, id string) (deploy.Command, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cmds[deploymentID+"/"+id]
	if !ok {
		return deploy.Command{}, deploy.Errorf("lease.GetCommand", deploy.KindNotFound, "no command %s", id)
	}
	return c, nil
}

func (s *Memory) CompleteCommand(ctx context.Context, c deploy.Command) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := deploy.FenceFrom(ctx, c.DeploymentID); ok {
		s.writes[f.Owner]++
		if err := f.Valid(); err != nil {
			return err
		}
		if cur := s.leases[c.DeploymentID]; cur.Owner != f.Owner || cur.Epoch != f.Epoch {
			return deploy.Wrap("lease.CompleteCommand", deploy.KindConflict, deploy.ErrLeaseLost, "lease lost")
		}
	}
	s.cmds[c.DeploymentID+"/"+c.ID] = c
	return nil
}

func (s *Memory) DeleteCommand(_ context.Context, deploymentID, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.cmds, deploymentID+"/"+id)
	return nil
}
