package controller

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// slowRouter answers ReadRoutes after a delay and counts the calls.
type slowRouter struct {
	*fakeRouter
	calls atomic.Int32
}

func (s *slowRouter) ReadRoutes(ctx context.Context, routes []deploy.Route) (map[deploy.Route]map[string]int, error) {
	s.calls.Add(1)
	time.Sleep(20 * time.Millisecond)
	return s.fakeRouter.ReadRoutes(ctx, routes)
}

// Fifty deployments reading their routes at once share a few reads, and each gets its own routes.
func TestBatchReaderCoalescesConcurrentReads(t *testing.T) {
	var routes []deploy.Route
	for i := 0; i < 50; i++ {
		routes = append(routes, deploy.Route{ListenerARN: fmt.Sprintf("l-%d", i)})
	}
	sr := &slowRouter{fakeRouter: newFakeRouter(routes, "tg-b", "tg-g")}
	b := newBatchReader(sr)
	var wg sync.WaitGroup
	errs := make(chan error, len(routes))
	for _, r := range routes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := b.ReadRoutes(context.Background(), []deploy.Route{r})
			if err != nil || len(got) != 1 || got[r]["tg-b"] != 999 {
				errs <- fmt.Errorf("%s: %v %v", r, got, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := sr.calls.Load(); n > 5 {
		t.Fatalf("%d underlying reads for 50 concurrent callers", n)
	}
	t.Logf("50 concurrent callers, %d reads", sr.calls.Load())
}
