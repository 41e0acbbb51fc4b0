package controller

import (
	"context"
	"sync"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// batchReader coalesces concurrent ReadRoutes calls (weight read-backs of many deployments, the route
// cache, status reads) into one: callers that arrive while a read is in flight join the next one, which
// reads the union of their routes in as few DescribeListeners/DescribeRules calls as the API allows. A
// hundred deployments verifying their steps at once cost a handful of calls per round, not two each.
type batchReader struct {
	deploy.TrafficRouter

	mu      sync.Mutex
	pending map[deploy.Route]bool
	waiters []chan batchResult
	urgent  bool // a waiter serves a rollback: the shared read goes first in the daemon's budget
	running bool
}

type batchResult struct {
	got map[deploy.Route]map[string]int
	err error
}

func newBatchReader(r deploy.TrafficRouter) *batchReader {
	return &batchReader{TrafficRouter: r, pending: map[deploy.Route]bool{}}
}

// ReadRoutes joins the next shared read and returns the caller's routes from it.
func (b *batchReader) ReadRoutes(ctx context.Context, routes []deploy.Route) (map[deploy.Route]map[string]int, error) {
	ch := make(chan batchResult, 1)
	b.mu.Lock()
	for _, r := range routes {
		b.pending[r] = true
	}
	b.waiters = append(b.waiters, ch)
	b.urgent = b.urgent || deploy.IsUrgent(ctx)
	if !b.running {
		b.running = true
		go b.loop()
	}
	b.mu.Unlock()
	select {
	case res := <-ch:
		if res.err != nil {
			return nil, res.err
		}
		out := make(map[deploy.Route]map[string]int, len(routes))
		for _, r := range routes {
			if w, ok := res.got[r]; ok {
				out[r] = w
			}
		}
		return out, nil
	case <-ctx.Done():
		return nil, deploy.Wrap("controller.ReadRoutes", deploy.KindTimeout, ctx.Err(), "read listener and rule weights")
	}
}

// loop runs shared reads while callers wait. The read has its own time-out: one caller giving up must
// not cancel the others' read.
func (b *batchReader) loop() {
	for {
		b.mu.Lock()
		if len(b.waiters) == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		routes := make([]deploy.Route, 0, len(b.pending))
		for r := range b.pending {
			routes = append(routes, r)
		}
		waiters, urgent := b.waiters, b.urgent
		b.pending, b.waiters, b.urgent = map[deploy.Route]bool{}, nil, false
		b.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if urgent {
			ctx = deploy.Urgent(ctx)
		}
		got, err := b.TrafficRouter.ReadRoutes(ctx, routes)
		cancel()
		for _, w := range waiters {
			w <- batchResult{got: got, err: err}
		}
	}
}
