package ratelimit

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// epsilon absorbs float rounding in the refill, so that a timer set for the next whole token finds it.
const epsilon = 1e-9

// Bucket is one family's token bucket with two FIFO queues of waiting calls: urgent ones are served
// first. A call never jumps the queue: while anyone waits, a new call queues too.
type Bucket struct {
	clk    Clock
	family string
	limit  Limit

	mu     sync.Mutex
	tokens float64
	last   time.Time
	urgent []*waiter
	normal []*waiter
	armed  bool // a timer is set for the next token

	observe Observer
}

type waiter struct {
	ready   chan struct{}
	granted bool
}

// NewBucket returns a full bucket. Burst below 1 counts as 1; Rate must be positive.
func NewBucket(clk Clock, family string, l Limit) *Bucket {
	if l.Burst < 1 {
		l.Burst = 1
	}
	return &Bucket{clk: clk, family: family, limit: l, tokens: float64(l.Burst), last: clk.Now()}
}

// Wait takes one token, as Limiter.Wait does.
func (b *Bucket) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return waitErr(b.family, err)
	}
	b.mu.Lock()
	b.refill()
	if len(b.urgent) == 0 && len(b.normal) == 0 && b.tokens >= 1-epsilon {
		b.tokens--
		b.mu.Unlock()
		return nil
	}
	w := &waiter{ready: make(chan struct{})}
	urgent := deploy.IsUrgent(ctx)
	start := b.clk.Now()
	if urgent {
		b.urgent = append(b.urgent, w)
	} else {
		b.normal = append(b.normal, w)
	}
	b.dispatch()
	b.mu.Unlock()

	select {
	case <-w.ready:
		if b.observe != nil {
			b.observe(b.family, urgent, b.clk.Now().Sub(start))
		}
		return nil
	case <-ctx.Done():
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if w.granted {
		// Granted as ctx ended: the call will not be made, so the token goes back to the others.
		b.tokens = min(b.tokens+1, float64(b.limit.Burst))
		b.dispatch()
	} else {
		b.urgent = remove(b.urgent, w)
		b.normal = remove(b.normal, w)
	}
	return waitErr(b.family, ctx.Err())
}

// Waiting reports how many calls wait, urgent and not.
func (b *Bucket) Waiting() (urgent, normal int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.urgent), len(b.normal)
}

// Limit returns the bucket's budget.
func (b *Bucket) Limit() Limit { return b.limit }

func (b *Bucket) refill() {
	now := b.clk.Now()
	if now.After(b.last) {
		b.tokens = min(float64(b.limit.Burst), b.tokens+b.limit.Rate*now.Sub(b.last).Seconds())
		b.last = now
	}
}

// dispatch hands the available tokens to the waiting calls, urgent ones first, and sets a timer for the
// next token while calls still wait. Called with b.mu held.
func (b *Bucket) dispatch() {
	b.refill()
	for b.tokens >= 1-epsilon {
		var w *waiter
		switch {
		case len(b.urgent) > 0:
			w, b.urgent = b.urgent[0], b.urgent[1:]
		case len(b.normal) > 0:
			w, b.normal = b.normal[0], b.normal[1:]
		}
		if w == nil {
			break
		}
		b.tokens--
		w.granted = true
		close(w.ready)
	}
	if len(b.urgent)+len(b.normal) == 0 || b.armed {
		return
	}
	// Rounded up to a whole microsecond (and epsilon absorbs the rest), so the token is there on time.
	us := math.Ceil((1 - b.tokens) / b.limit.Rate * 1e6 * (1 - epsilon))
	wait := max(time.Duration(us)*time.Microsecond, time.Microsecond)
	ch, _ := b.clk.After(wait)
	b.armed = true
	go func() {
		<-ch
		b.mu.Lock()
		defer b.mu.Unlock()
		b.armed = false
		b.dispatch()
	}()
}

func remove(q []*waiter, w *waiter) []*waiter {
	for i, o := range q {
		if o == w {
			return append(q[:i:i], q[i+1:]...)
		}
	}
	return q
}
