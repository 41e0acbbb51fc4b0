// Package shifter moves ALB traffic between a service's blue and green target groups. Every change is one
// ModifyListener/ModifyRule per route, sent in parallel, then read back until the weights match: the
// controller only moves on when the load balancer really carries the split it asked for.
package shifter

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// Shifter applies and verifies weights through a TrafficRouter.
type Shifter struct {
	Router deploy.TrafficRouter
	// VerifyInterval is the pause between read-backs that do not match yet (ALB changes are usually
	// visible at once, but the API is eventually consistent).
	VerifyInterval time.Duration
	// OnSend, when set, is called right before the first modify call is sent (for decision-latency metrics).
	OnSend func()
}

// New returns a Shifter with a 50ms read-back interval.
func New(r deploy.TrafficRouter) *Shifter {
	return &Shifter{Router: r, VerifyInterval: 50 * time.Millisecond}
}

// TargetGroupWeights maps slot weights onto the service's target group ARNs.
func TargetGroupWeights(svc deploy.Service, w deploy.Weights) map[string]int {
	return map[string]int{
		svc.TargetGroups[deploy.SlotBlue]:  w.Blue,
		svc.TargetGroups[deploy.SlotGreen]: w.Green,
	}
}

// Apply sets w on every route of svc and returns once every route reads back w, or with an error when
// ctx ends first (the caller bounds it with the step timeout).
func (s *Shifter) Apply(ctx context.Context, svc deploy.Service, w deploy.Weights) error {
	if err := s.Send(ctx, svc, w); err != nil {
		return err
	}
	return s.Verify(ctx, svc, w)
}

// Send sends w to every route of svc, one ModifyListener/ModifyRule per route in parallel, without
// waiting for the change to read back. The controller lets a send finish (an aborted request may still
// be applied by AWS later, out of order) but may abandon the verification that follows.
func (s *Shifter) Send(ctx context.Context, svc deploy.Service, w deploy.Weights) error {
	const op = "shifter.Send"
	if err := w.Validate(); err != nil {
		return deploy.Wrap(op, deploy.KindInvalid, err, "refusing to send weights")
	}
	if len(svc.Routes) == 0 {
		return deploy.Errorf(op, deploy.KindInvalid, "service %s has no routes", svc.Name)
	}
	tg := TargetGroupWeights(svc, w)
	if s.OnSend != nil {
		s.OnSend()
	}
	return s.each(svc, func(r deploy.Route) error {
		if err := s.Router.SetWeights(ctx, r, tg); err != nil {
			return deploy.Wrap(op, "", err, "set weights on "+r.String())
		}
		return nil
	})
}

// Verify reads every route back (one batched read per round) until each carries w, or fails when ctx
// ends first.
func (s *Shifter) Verify(ctx context.Context, svc deploy.Service, w deploy.Weights) error {
	const op = "shifter.Verify"
	interval := s.VerifyInterval
	if interval <= 0 {
		interval = 50 * time.Millisecond
	}
	for {
		routes, err := s.Read(ctx, svc)
		var off *deploy.RouteWeights
		if err == nil {
			for i := range routes {
				if routes[i].Weights != w {
					off = &routes[i]
					break
				}
			}
			if off == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			if err != nil {
				kind := deploy.KindTimeout
				if deploy.KindOf(err) == deploy.KindThrottled {
					kind = deploy.KindThrottled // the read-backs waited for the budget: back-pressure, not failure
				}
				return deploy.Wrap(op, kind, err, "weights not verified")
			}
			return deploy.Errorf(op, deploy.KindTimeout, "weights on %s read back as %s, want %s", off.Route, off.Weights, w)
		case <-time.After(interval):
		}
	}
}

func (s *Shifter) each(svc deploy.Service, f func(deploy.Route) error) error {
	errs := make([]error, len(svc.Routes))
	var wg sync.WaitGroup
	for i, r := range svc.Routes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(r)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Read returns the weights of every route of svc, in route order, from one batched read.
func (s *Shifter) Read(ctx context.Context, svc deploy.Service) ([]deploy.RouteWeights, error) {
	got, err := s.Router.ReadRoutes(ctx, svc.Routes)
	if err != nil {
		return nil, deploy.Wrap("shifter.Read", "", err, "read weights of "+svc.Name)
	}
	return FromBatch(svc, got)
}

// FromBatch turns a ReadRoutes answer into svc's route weights; a route missing from it is not_found.
func FromBatch(svc deploy.Service, got map[deploy.Route]map[string]int) ([]deploy.RouteWeights, error) {
	out := make([]deploy.RouteWeights, 0, len(svc.Routes))
	for _, r := range svc.Routes {
		m, ok := got[r]
		if !ok {
			return nil, deploy.Errorf("shifter.Read", deploy.KindNotFound, "%s of %s does not exist", r, svc.Name)
		}
		w, err := slotWeights(svc, r, m)
		if err != nil {
			return nil, err
		}
		out = append(out, deploy.RouteWeights{Route: r, Weights: w})
	}
	return out, nil
}

// Live reads every route and returns their common weights; consistent is false when routes disagree.
func (s *Shifter) Live(ctx context.Context, svc deploy.Service) (w deploy.Weights, consistent bool, routes []deploy.RouteWeights, err error) {
	routes, err = s.Read(ctx, svc)
	if err != nil {
		return deploy.Weights{}, false, nil, err
	}
	w, consistent = Common(routes)
	return w, consistent, routes, nil
}

// Common returns the weights of the first route and whether every route carries the same; no routes
// are not consistent.
func Common(routes []deploy.RouteWeights) (deploy.Weights, bool) {
	if len(routes) == 0 {
		return deploy.Weights{}, false
	}
	w := routes[0].Weights
	for _, rw := range routes[1:] {
		if rw.Weights != w {
			return w, false
		}
	}
	return w, true
}

func slotWeights(svc deploy.Service, r deploy.Route, m map[string]int) (deploy.Weights, error) {
	blue, okB := m[svc.TargetGroups[deploy.SlotBlue]]
	green, okG := m[svc.TargetGroups[deploy.SlotGreen]]
	if !okB && !okG {
		return deploy.Weights{}, deploy.Errorf("shifter.Read", deploy.KindPrecondition,
			"%s forwards to neither of %s's target groups", r, svc.Name)
	}
	if extra := len(m) - btoi(okB) - btoi(okG); extra > 0 {
		return deploy.Weights{}, deploy.Errorf("shifter.Read", deploy.KindPrecondition,
			"%s forwards to %d target group(s) outside %s's blue/green pair", r, extra, svc.Name)
	}
	return deploy.Weights{Blue: blue, Green: green}, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Describe renders weights as percentages for logs and events.
func Describe(w deploy.Weights) string {
	return fmt.Sprintf("blue %d (%.1f%%) / green %d (%.1f%%)", w.Blue, w.Percent(deploy.SlotBlue), w.Green, w.Percent(deploy.SlotGreen))
}
