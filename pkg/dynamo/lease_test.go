package dynamo

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/lease"
	"github.com/switchyard/switchyard/test/emulator"
)

func lost(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, deploy.ErrLeaseLost) || deploy.KindOf(err) != deploy.KindConflict {
		t.Fatalf("%s: %v, want ErrLeaseLost (conflict)", what, err)
	}
}

func TestLeaseConditions(t *testing.T) {
	s, _ := newStore(t)
	ctx := emulator.Context(t, 30*time.Second)
	l, err := s.Claim(ctx, deploy.Lease{DeploymentID: "d1", Service: "web", Owner: "a", Duration: 6 * time.Second})
	if err != nil || l.Epoch != 1 || l.Token == "" {
		t.Fatalf("claim: %+v %v", l, err)
	}
	_, err = s.Claim(ctx, deploy.Lease{DeploymentID: "d1", Service: "web", Owner: "b"})
	lost(t, "second claim", err)

	r, err := s.Renew(ctx, l)
	if err != nil || r.Token == l.Token || r.Epoch != 1 {
		t.Fatalf("renew: %+v %v", r, err)
	}
	// b saw the lease before the renewal: its takeover must fail (the owner is alive).
	_, err = s.Acquire(ctx, l, "b", 6*time.Second)
	lost(t, "takeover on a stale token", err)
	b, err := s.Acquire(ctx, r, "b", 6*time.Second)
	if err != nil || b.Owner != "b" || b.Epoch != 2 {
		t.Fatalf("takeover: %+v %v", b, err)
	}
	_, err = s.Renew(ctx, r)
	lost(t, "the old owner's renewal", err)

	leases, _, err := s.ListLeases(ctx)
	if err != nil || len(leases) != 1 || leases[0].Owner != "b" || leases[0].Epoch != 2 || leases[0].Token != b.Token || leases[0].Duration != 6*time.Second {
		t.Fatalf("list: %+v %v", leases, err)
	}
	if err := s.Release(ctx, r); err != nil { // not a's any more: nothing happens
		t.Fatal(err)
	}
	if err := s.Release(ctx, b); err != nil {
		t.Fatal(err)
	}
	if leases, _, _ := s.ListLeases(ctx); len(leases) != 0 {
		t.Fatalf("released lease still listed: %+v", leases)
	}
}

// Exactly one of many daemons racing for the same expired lease wins it.
func TestLeaseTakeoverRace(t *testing.T) {
	s, _ := newStore(t)
	ctx := emulator.Context(t, 30*time.Second)
	l, err := s.Claim(ctx, deploy.Lease{DeploymentID: "d1", Service: "web", Owner: "dead"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if _, err := s.Acquire(ctx, l, string(rune('a'+i)), time.Second); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, deploy.ErrLeaseLost) {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d daemons won the same lease, want 1", wins)
	}
}

func TestFencedCommandCompletion(t *testing.T) {
	s, _ := newStore(t)
	ctx := emulator.Context(t, 30*time.Second)
	l, _ := s.Claim(ctx, deploy.Lease{DeploymentID: "d1", Service: "web", Owner: "a"})
	c := deploy.Command{ID: "c1", DeploymentID: "d1", Kind: "Pause", Actor: "ops", At: time.Now().UTC()}
	if err := s.PutCommand(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.PutCommand(ctx, c); err != nil { // a retry stores nothing twice
		t.Fatal(err)
	}
	_, cmds, err := s.ListLeases(ctx)
	if err != nil || len(cmds) != 1 || cmds[0].ID != "c1" || cmds[0].Kind != "Pause" {
		t.Fatalf("commands: %+v %v", cmds, err)
	}
	c.Done = true
	stale := deploy.WithFence(ctx, deploy.Fence{DeploymentID: "d1", Owner: "a", Epoch: 7})
	lost(t, "completion on a stale epoch", s.CompleteCommand(stale, c))
	lapsed := deploy.WithFence(ctx, deploy.Fence{DeploymentID: "d1", Owner: "a", Epoch: 1, Check: func() error { return deploy.ErrLeaseLost }})
	lost(t, "completion after the lease lapsed", s.CompleteCommand(lapsed, c))
	if got, _ := s.GetCommand(ctx, "d1", "c1"); got.Done {
		t.Fatal("a refused completion was stored")
	}
	if err := s.CompleteCommand(deploy.WithFence(ctx, deploy.Fence{DeploymentID: "d1", Owner: l.Owner, Epoch: l.Epoch}), c); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetCommand(ctx, "d1", "c1"); err != nil || !got.Done {
		t.Fatalf("completed command: %+v %v", got, err)
	}
	if err := s.DeleteCommand(ctx, "d1", "c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetCommand(ctx, "d1", "c1"); deploy.KindOf(err) != deploy.KindNotFound {
		t.Fatalf("deleted command: %v", err)
	}
}

// A released lease is never taken over, and fenced writes on it fail.
func TestReleasedLeaseRefusesFencedWrites(t *testing.T) {
	s, c := newStore(t)
	ctx := emulator.Context(t, 30*time.Second)
	l, _ := s.Claim(ctx, deploy.Lease{DeploymentID: "d1", Service: "web", Owner: "a"})
	f := deploy.Fence{DeploymentID: "d1", Owner: "a", Epoch: 1}
	if _, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{s.fenceRelease(f, time.Now())}}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Acquire(ctx, l, "b", time.Second)
	lost(t, "takeover of a released lease", err)
	leases, _, _ := s.ListLeases(ctx)
	if len(leases) != 1 || !leases[0].Released {
		t.Fatalf("leases: %+v", leases)
	}
	_, err = c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{s.fenceCheck(f)}})
	if cancelled(err) == nil {
		t.Fatalf("fence check on a released lease passed: %v", err)
	}
}

// Two Managers on the emulator's DynamoDB with short leases, on the wall clock: the survivor takes
// over the dead owner's leases within the lease time plus two scans and the jitter.
func TestManagersTakeOverOnDynamoDB(t *testing.T) {
	s, _ := newStore(t)
	ctx := emulator.Context(t, 60*time.Second)
	gained := make(chan string, 10)
	opts := func(owner string) lease.Options {
		return lease.Options{Owner: owner, Store: s, Clock: clock.Real{}, Duration: 800 * time.Millisecond, Scan: 100 * time.Millisecond,
			OnGained: func(l deploy.Lease) { gained <- l.DeploymentID }}
	}
	a, b := lease.New(opts("a")), lease.New(opts("b"))
	actx, killA := context.WithCancel(ctx)
	for _, id := range []string{"d1", "d2", "d3"} {
		if _, err := a.Claim(ctx, id, "web"); err != nil {
			t.Fatal(err)
		}
	}
	go a.Run(actx)
	go b.Run(ctx)
	// b watches a renewing for twice the lease time (20 scans): it must not take anything.
	for b.Stats().Scans < 20 {
		select {
		case <-ctx.Done():
			t.Fatal("b does not scan")
		case <-time.After(20 * time.Millisecond):
		}
	}
	if b.Held() != 0 {
		t.Fatalf("b took %d leases from a live owner", b.Held())
	}
	killA()
	died := time.Now()
	for i := 0; i < 3; i++ {
		select {
		case <-gained:
		case <-ctx.Done():
			t.Fatal("takeover did not happen")
		}
	}
	took := time.Since(died)
	t.Logf("3 leases taken over %v after the owner stopped (lease 800ms)", took)
	leases, _, _ := s.ListLeases(ctx)
	for _, l := range leases {
		if l.Owner != "b" || l.Epoch != 2 {
			t.Errorf("lease %+v", l)
		}
	}
}
