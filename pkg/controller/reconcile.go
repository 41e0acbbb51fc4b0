package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/shifter"
)

// reconcile drives a deployment that carries, or may carry, traffic: shifting, paused and finalizing
// up to the point of no return. Each round gathers the observation (the guards' readings and their
// freshness, time), asks decide for the next action and carries it out; it then waits for new readings,
// an operator command or the decision's wake time. Every action is idempotent and journalled before
// its side effect, so a round repeated after a crash does no harm.
func (r *runner) reconcile(ctx context.Context) error {
	r.watch(true)
	r.phaseSince = r.now()
	if t := r.startAnalysis(ctx); t != nil {
		return r.startRollback(ctx, *t, "")
	}
	for {
		ev, _ := r.evaluate()
		now := r.now()
		an := r.analysisRun()
		changes := r.c.calendarChanges() // taken before the window: a change after it wakes this round
		w, werr := r.c.window(r.svc)
		dec := decide(r.d, observation{now: now, verdict: ev.verdict, unhealthy: ev.unhealthy,
			deregDelay: r.deregDelay(ctx), policy: r.svc.GuardStalePolicy, analysis: an,
			window: w, windowErr: werr, timeouts: r.svc.StepTimeouts()})
		if dec.act != actWait {
			r.logger().Debug("decision", zap.String("action", dec.act.String()), zap.String("why", dec.why))
		}
		switch dec.act {
		case actRollback:
			return r.startRollback(ctx, *dec.trigger, "")
		case actPause:
			if err := r.pauseForStale(ctx, dec.why); err != nil {
				return err
			}
			continue
		case actPromote:
			r.d.Step, r.d.StepStartedAt, r.d.StepReadyAt = len(r.d.Steps)-1, nil, &now
			if err := r.save(ctx, "", "promote.skip", "skipping to 100%", nil); err != nil {
				return err
			}
			continue
		case actSetWeights:
			if err := r.setWeightsGuarded(ctx, dec.weights, dec.why); err != nil {
				return err
			}
			continue
		case actStartBake:
			r.d.StepStartedAt = &now
			if err := r.save(ctx, "", "", "", nil); err != nil {
				return err
			}
			continue
		case actAdvance:
			r.observeStep()
			r.d.Step++
			r.d.StepStartedAt, r.d.StepReadyAt = nil, &now
			if err := r.save(ctx, "", "step.baked", fmt.Sprintf("step %d/%d baked", r.d.Step, len(r.d.Steps)), nil); err != nil {
				return err
			}
			continue
		case actShifted:
			r.observeStep()
			r.stopAnalysis()
			r.d.State, r.d.ShiftedAt = deploy.StateFinalizing, &now
			if err := r.save(ctx, "", "shifted", "all traffic on "+string(r.d.To), nil); err != nil {
				return err
			}
			continue
		case actRetire:
			return r.retire(ctx)
		case actPauseStep:
			if err := r.pauseAtStep(ctx, dec.why); err != nil {
				return err
			}
			continue
		}
		if since := r.freshSince(); !ev.verdict.Fresh && r.d.TaskDef != "" && !since.Equal(r.demandedFor) {
			r.c.obs.Demand(r.d.ID) // once per bake (or phase) that waits for evidence newer than its start
			r.demandedFor = since
		}
		if err := r.checkpointAnalysis(ctx, an); err != nil {
			return err
		}
		if dec.why != r.heldWhy && dec.act == actWait && strings.Contains(dec.why, " held: ") {
			// A hold is audited once per reason, so the trail says when and why a step waited.
			r.c.event(ctx, r.d, "", "step.hold", dec.why, map[string]string{"until": formatWake(dec.wake)})
		}
		r.heldWhy = dec.why
		if err := r.await(ctx, dec, changes); err != nil {
			return err
		}
	}
}

func formatWake(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// await waits for new readings, a command or the decision's wake time (at most a poll interval, so
// staleness is noticed even when nothing arrives).
func (r *runner) await(ctx context.Context, dec decision, changes <-chan struct{}) error {
	d := r.c.o.PollInterval
	if !dec.wake.IsZero() {
		d = min(d, max(dec.wake.Sub(r.now()), 0))
	}
	wake, stop := r.c.clock.After(d)
	defer stop()
	state := r.d.State
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-wake:
	case <-r.notify:
	case <-r.analysisNotify:
	case <-changes: // a freeze or closure changed: look at the window again now
	case cmd := <-r.cmds:
		r.apply(ctx, cmd)
		if r.d.State == deploy.StateRollingBack || r.d.State.Terminal() {
			return errInterrupted
		}
		if r.d.State != state {
			// A resume gives the guards a new stale_after window: the operator has looked.
			r.phaseSince, r.watchedFrom = r.now(), r.now()
		}
	}
	return nil
}

func (r *runner) pauseForStale(ctx context.Context, why string) error {
	r.d.PausedFrom, r.d.State = r.d.State, deploy.StatePaused
	return r.save(ctx, "", "pause", why+" (guard_stale_policy: pause)", map[string]string{"weights": r.d.Weights.String()})
}

func (r *runner) observeStep() {
	if m := r.c.o.Metrics; m != nil && r.d.StepStartedAt != nil {
		m.StepDuration.WithLabelValues(r.d.Service).Observe(r.now().Sub(*r.d.StepStartedAt).Seconds())
	}
}

// deregDelay is the old target group's deregistration delay, read from the ALB once it matters (else
// the configured one).
func (r *runner) deregDelay(ctx context.Context) time.Duration {
	if r.d.State != deploy.StateFinalizing {
		return r.svc.DeregDelay.D()
	}
	if r.dereg == nil {
		delay := r.svc.DeregDelay.D()
		cctx, cancel := awsCtx(ctx)
		if live, err := r.c.o.Router.DeregistrationDelay(cctx, r.svc.TargetGroups[r.d.From]); err == nil {
			delay = live
		}
		cancel()
		r.dereg = &delay
	}
	return *r.dereg
}

// setWeightsGuarded applies a forward step while still watching the guards: a trigger or an abort
// that arrives while the change is being verified abandons the verification and rolls back at once
// (the send itself is let finish, so no late request can land after the rollback's).
func (r *runner) setWeightsGuarded(ctx context.Context, w deploy.Weights, why string) error {
	if err := r.journal(ctx, w, why); err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, r.svc.StepTimeout.D())
	defer cancel()
	done := make(chan error, 1)
	resend := r.sent == nil || *r.sent != w
	sentOK := false // written by the goroutine before it answers on done
	go func() {
		// A change already sent and only awaiting its read-back (the last verification ran out of
		// time, e.g. in a throttled burst) is verified again, not sent again.
		if resend {
			if err := r.c.shifter.Send(sctx, r.svc, w); err != nil {
				done <- err
				return
			}
			sentOK = true
		}
		done <- r.c.shifter.Verify(sctx, r.svc, w)
	}()
	defer func() {
		if sentOK && r.d.Intended != nil && *r.d.Intended == w {
			r.sent = &w
		}
	}()
	// Pause, resume and promote wait until the change is verified, so that their answer and audit
	// event carry the weights the ALB really has; abort does not wait.
	var held []command
	defer func() {
		for _, cmd := range held {
			r.apply(ctx, cmd)
		}
	}()
	for {
		select {
		case err := <-done:
			return r.verified(ctx, w, why, err)
		case <-r.notify:
			if ev, _ := r.evaluate(); ev.trigger() != nil {
				cancel()
				<-done
				return r.startRollback(ctx, *ev.trigger(), "")
			}
		case cmd := <-r.cmds:
			if cmd.kind != cmdAbort {
				held = append(held, cmd)
				continue
			}
			cancel()
			<-done
			r.apply(ctx, cmd)
			return errInterrupted
		case <-ctx.Done():
			<-done
			return ctx.Err()
		}
	}
}

// journal stores the intended weights before anything is sent (the journal recovery relies on).
func (r *runner) journal(ctx context.Context, w deploy.Weights, why string) error {
	if err := w.Validate(); err != nil {
		return err
	}
	if r.d.Intended != nil && *r.d.Intended == w {
		return nil
	}
	r.d.Intended = &w
	return r.save(ctx, "", "weights.intent", why, map[string]string{"weights": shifter.Describe(w), "previous": shifter.Describe(r.d.Weights)})
}

// verified records a weight change that read back (or returns its failure).
func (r *runner) verified(ctx context.Context, w deploy.Weights, why string, err error) error {
	r.flush(ctx)
	if err != nil {
		return deploy.Wrap("setWeights", "", err, "apply "+w.String())
	}
	r.d.Weights, r.d.Intended, r.sent = w, nil, nil
	r.c.routesVerified(r.svc, w)
	return r.save(ctx, "", "weights.verified", why, map[string]string{"weights": shifter.Describe(w)})
}

// setWeights applies weights without watching guards (rollbacks and recovery): journal, send, verify.
func (r *runner) setWeights(ctx context.Context, w deploy.Weights, why string) error {
	if err := r.journal(ctx, w, why); err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, r.svc.StepTimeout.D())
	s := *r.c.shifter
	s.OnSend = func() { r.sentAt = r.c.clock.Now() }
	err := s.Apply(sctx, r.svc, w)
	cancel()
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return ctx.Err()
	}
	return r.verified(ctx, w, why, err)
}
