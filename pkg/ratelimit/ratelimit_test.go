package ratelimit

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/deploy"
)

// fakeClock is the project's virtual clock with a helper that waits for a parked timer.
type fakeClock struct{ *clock.Fake }

func newFakeClock() *fakeClock {
	return &fakeClock{clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
}

func (f *fakeClock) pending() int { return f.Pending() }

// advance moves time on once the bucket has set its timer for the next token (it does so right after a
// grant, which the test may see first).
func (f *fakeClock) advance(t *testing.T, d time.Duration) {
	t.Helper()
	eventually(t, "a timer to be set", func() bool { return f.pending() > 0 })
	f.Advance(d)
}

// eventually polls cond (real time, bounded) for a state that another goroutine reaches.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func waiting(b *Bucket, urgent, normal int) func() bool {
	return func() bool { u, n := b.Waiting(); return u == urgent && n == normal }
}

// next returns the next value from c, failing after 5 s of real time.
func next[T any](t *testing.T, c <-chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("timed out waiting for a grant")
		panic("unreachable")
	}
}

func TestBurstThenRate(t *testing.T) {
	clk := newFakeClock()
	lim, err := New(clk, map[string]Limit{ELBv2: {Rate: 2, Burst: 3}})
	if err != nil {
		t.Fatal(err)
	}
	var waited []time.Duration
	lim.Observe(func(family string, urgent bool, d time.Duration) {
		if family == ELBv2 && !urgent {
			waited = append(waited, d)
		}
	})
	b := lim.Bucket(ELBv2)
	ctx := context.Background()
	for i := range 3 {
		if err := b.Wait(ctx); err != nil {
			t.Fatalf("call %d of the burst: %v", i, err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- b.Wait(ctx) }()
	eventually(t, "the 4th call to queue", waiting(b, 0, 1))
	clk.Advance(499 * time.Millisecond)
	if u, n := b.Waiting(); u != 0 || n != 1 {
		t.Fatalf("granted before the next token: waiting %d/%d", u, n)
	}
	clk.Advance(2 * time.Millisecond)
	if err := next(t, done); err != nil {
		t.Fatal(err)
	}
	if len(waited) != 1 || waited[0] != 501*time.Millisecond {
		t.Errorf("observed waits %v, want one of 501ms (the burst waits for nothing)", waited)
	}
}

func TestUrgentGoesFirst(t *testing.T) {
	clk := newFakeClock()
	b := NewBucket(clk, "elbv2", Limit{Rate: 1, Burst: 1})
	if err := b.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	order := make(chan string, 5)
	start := func(name string, ctx context.Context, urgent, normal int) {
		go func() {
			if err := b.Wait(ctx); err != nil {
				order <- "error " + err.Error()
				return
			}
			order <- name
		}()
		eventually(t, name+" to queue", waiting(b, urgent, normal))
	}
	start("n1", context.Background(), 0, 1)
	start("n2", context.Background(), 0, 2)
	start("n3", context.Background(), 0, 3)
	start("u1", deploy.Urgent(context.Background()), 1, 3)
	start("u2", deploy.Urgent(context.Background()), 2, 3)
	var got []string
	for range 5 {
		clk.advance(t, time.Second)
		got = append(got, next(t, order))
	}
	want := []string{"u1", "u2", "n1", "n2", "n3"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("grant order %v, want %v", got, want)
		}
	}
}

func TestWaitRespectsContext(t *testing.T) {
	clk := newFakeClock()
	b := NewBucket(clk, "cloudwatch", Limit{Rate: 1, Burst: 1})
	if err := b.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	past, cancelPast := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancelPast()
	if err := b.Wait(past); deploy.KindOf(err) != deploy.KindThrottled {
		t.Errorf("expired deadline: want throttled, got %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Wait(ctx) }()
	eventually(t, "the call to queue", waiting(b, 0, 1))
	cancel()
	if err := next(t, done); deploy.KindOf(err) != deploy.KindUnavailable {
		t.Errorf("cancelled wait: want unavailable, got %v", err)
	}
	eventually(t, "the cancelled call to leave the queue", waiting(b, 0, 0))
	// The cancelled call used no token: the next one is served as soon as the token is there.
	clk.Advance(time.Second)
	if err := b.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if u, n := b.Waiting(); u+n != 0 {
		t.Errorf("queue not empty: %d/%d", u, n)
	}
}

func TestBudgetHoldsOverTime(t *testing.T) {
	clk := newFakeClock()
	lim, err := New(clk, map[string]Limit{ELBv2: {Rate: 5, Burst: 20}})
	if err != nil {
		t.Fatal(err)
	}
	const calls = 100
	var mu sync.Mutex
	granted := 0
	for range calls {
		go func() {
			if err := lim.Wait(context.Background(), ELBv2); err == nil {
				mu.Lock()
				granted++
				mu.Unlock()
			}
		}()
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return granted }
	b := lim.Bucket(ELBv2)
	eventually(t, "the burst to be served and the rest to queue", func() bool { _, n := b.Waiting(); return count() == 20 && n == calls-20 })
	for step := 1; step <= 20; step++ { // 16 virtual seconds in steps of 0.8 s: 4 tokens a step
		clk.advance(t, 800*time.Millisecond)
		want := min(calls, 20+4*step)
		eventually(t, "the step's grants", func() bool { return count() == want })
		if _, n := b.Waiting(); n != calls-want {
			t.Fatalf("after %d steps: %d granted, %d waiting; want %d granted", step, count(), n, want)
		}
	}
	if err := lim.Wait(context.Background(), "sts"); err != nil {
		t.Errorf("a family without a budget is not limited: %v", err)
	}
}

func TestNewValidatesOverrides(t *testing.T) {
	if _, err := New(nil, map[string]Limit{"ec2": {Rate: 1, Burst: 1}}); err == nil {
		t.Error("unknown family accepted")
	}
	for _, l := range []Limit{{Rate: 0, Burst: 1}, {Rate: -1, Burst: 1}, {Rate: 1, Burst: 0}} {
		if _, err := New(nil, map[string]Limit{ECS: l}); err == nil {
			t.Errorf("invalid limit %+v accepted", l)
		}
	}
	lim, err := New(nil, map[string]Limit{ECS: {Rate: 3, Burst: 7}})
	if err != nil {
		t.Fatal(err)
	}
	got := lim.Limits()
	if got[ECS] != (Limit{Rate: 3, Burst: 7}) || got[ELBv2] != Defaults()[ELBv2] || len(got) != len(Defaults()) {
		t.Errorf("limits in force: %+v", got)
	}
}

// The defaults stay under AWS's documented default quotas (see the package documentation).
func TestDefaultsBelowAWSQuotas(t *testing.T) {
	aws := map[string]Limit{
		ELBv2:      {Rate: 10, Burst: 40},  // ELB API throttling guide, Describe* bucket
		ECS:        {Rate: 20, Burst: 100}, // ECS service read actions
		CloudWatch: {Rate: 9, Burst: 9},    // DescribeAlarms 9 per second
	}
	d := Defaults()
	for f, q := range aws {
		if d[f].Rate >= q.Rate || d[f].Burst >= q.Burst {
			t.Errorf("%s default %+v is not below AWS's %+v", f, d[f], q)
		}
	}
}

func TestBudgetWaitIsMarked(t *testing.T) {
	err := waitErr(ELBv2, context.DeadlineExceeded)
	if !errors.Is(err, deploy.ErrBudgetWait) || deploy.KindOf(err) != deploy.KindThrottled {
		t.Fatalf("%v (kind %s)", err, deploy.KindOf(err))
	}
	if err := waitErr(ELBv2, context.Canceled); errors.Is(err, deploy.ErrBudgetWait) {
		t.Fatalf("a cancelled wait is not a budget wait: %v", err)
	}
}
