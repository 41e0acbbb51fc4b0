package awsclient

import (
	"context"
	"sync"

	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// actionCache holds, per route, the actions of its last successful read (GetWeights, ReadRoutes, the
// controller's verification read-back) or of its last accepted Modify. A weight change, above all a
// rollback's, is built from it without a Describe call first; see Router.rewrite for what happens when
// the cached actions turn out to be stale.
type actionCache struct {
	mu sync.Mutex
	m  map[string][]elbtypes.Action
}

// routeKey names a route by the ARN its actions are read and written through.
func routeKey(r deploy.Route) string {
	if r.RuleARN != "" {
		return "rule " + r.RuleARN
	}
	return "listener " + r.ListenerARN
}

func (c *actionCache) get(r deploy.Route) ([]elbtypes.Action, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.m[routeKey(r)]
	return a, ok
}

// put stores a copy of the slice; actions are never modified in place (withWeights and ForwardTo build
// new slices and configs), so sharing their pointed-to parts is safe.
func (c *actionCache) put(r deploy.Route, actions []elbtypes.Action) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string][]elbtypes.Action{}
	}
	c.m[routeKey(r)] = append([]elbtypes.Action(nil), actions...)
}

func (c *actionCache) drop(r deploy.Route) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, routeKey(r))
}

func (r *Router) remember(route deploy.Route, actions []elbtypes.Action) { r.cache.put(route, actions) }

// Forget drops the cached actions of a route, so that its next change starts with a fresh read.
func (r *Router) Forget(route deploy.Route) { r.cache.drop(route) }

// rewrite changes a route's actions with build and writes them back in one Modify call. The actions come
// from the cache when it holds the route (no Describe call: a rollback is not delayed by a read, nor
// throttled by one), otherwise from a fresh read. When a Modify built from cached actions is refused as
// invalid or naming something that no longer exists (the target group set changed since, say), the cache
// entry is dropped and the change is made once more from a fresh read. Transient failures (throttling,
// time-outs) keep the entry: the route then holds either the cached actions or the written ones, and
// both are a sound base for the next attempt.
func (r *Router) rewrite(ctx context.Context, route deploy.Route, what string, build func(actions []elbtypes.Action, fwd int) ([]elbtypes.Action, error)) error {
	actions, cached := r.cache.get(route)
	for {
		if !cached {
			var dop string
			var err error
			actions, dop, err = r.actions(ctx, route)
			if err != nil {
				return err
			}
			if _, err := forwardIndex(dop, route, actions); err != nil {
				return err
			}
			r.remember(route, actions)
		}
		i, err := forwardIndex("elbv2.Modify", route, actions)
		if err != nil {
			return err
		}
		next, err := build(actions, i)
		if err != nil {
			return err
		}
		err = r.modify(ctx, route, next, what)
		switch k := deploy.KindOf(err); {
		case err == nil:
			r.remember(route, next)
			return nil
		case k == deploy.KindInvalid || k == deploy.KindNotFound:
			r.cache.drop(route)
			if !cached {
				return err
			}
			cached = false // stale cache: once more from a fresh read
		default:
			return err
		}
	}
}
