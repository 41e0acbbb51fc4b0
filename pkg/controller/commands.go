package controller

import (
	"context"
	"errors"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/rollback"
)

type cmdKind string

const (
	cmdAbort   cmdKind = "Abort"
	cmdPause   cmdKind = "Pause"
	cmdResume  cmdKind = "Resume"
	cmdPromote cmdKind = "Promote"
)

type command struct {
	kind  cmdKind
	req   deploy.ActionRequest
	reply chan cmdResult
}

type cmdResult struct {
	d   *deploy.Deployment
	err error
}

// apply handles an operator command and answers it; it reports whether the deployment's state changed.
func (r *runner) apply(ctx context.Context, cmd command) bool {
	state, promote := r.d.State, r.d.Promote
	d, err := r.handle(ctx, cmd)
	cmd.reply <- cmdResult{d: d, err: err}
	return r.d.State != state || r.d.Promote != promote
}

// handle applies an operator command to the record.
func (r *runner) handle(ctx context.Context, cmd command) (*deploy.Deployment, error) {
	d := r.d
	op := "controller." + string(cmd.kind)
	snapshot := func() *deploy.Deployment { c := *d; return &c }
	switch cmd.kind {
	case cmdAbort:
		if d.RetireAt != nil {
			return nil, deploy.Errorf(op, deploy.KindPrecondition, "deployment is retiring %s after verifying all traffic on %s; too late to abort (deploy the previous tag instead)", d.From, d.To)
		}
		reason := "aborted by " + cmd.req.Actor
		if cmd.req.Reason != "" {
			reason += ": " + cmd.req.Reason
		}
		if err := r.startRollback(ctx, rollback.Trigger{Cause: deploy.CauseAbort, Reason: reason, ObservedAt: r.now()}, cmd.req.Actor); err != nil && !errors.Is(err, errInterrupted) {
			return nil, err
		}
		return snapshot(), nil
	case cmdPause:
		if d.State != deploy.StateShifting && d.State != deploy.StatePreparing {
			return nil, deploy.Errorf(op, deploy.KindPrecondition, "cannot pause a deployment that is %s", d.State)
		}
		d.PausedFrom, d.State = d.State, deploy.StatePaused
		if err := r.save(ctx, cmd.req.Actor, "pause", cmd.req.Reason, map[string]string{"weights": d.Weights.String()}); err != nil {
			return nil, err
		}
		return snapshot(), nil
	case cmdResume:
		if d.State != deploy.StatePaused {
			return nil, deploy.Errorf(op, deploy.KindPrecondition, "cannot resume a deployment that is %s", d.State)
		}
		d.State, d.PausedFrom = d.PausedFrom, ""
		if d.State == deploy.StateShifting && d.StepStartedAt != nil {
			now := r.now()
			d.StepStartedAt = &now // the bake starts again: the release was not watched advancing
		}
		if d.State == deploy.StateShifting && d.StepStartedAt == nil {
			now := r.now()
			d.StepReadyAt = &now // the step is ready from the resume: its timing counts from here
		}
		if err := r.save(ctx, cmd.req.Actor, "resume", cmd.req.Reason, nil); err != nil {
			return nil, err
		}
		return snapshot(), nil
	case cmdPromote:
		switch d.State {
		case deploy.StatePreparing, deploy.StateShifting, deploy.StatePaused:
		case deploy.StateFinalizing:
			return nil, deploy.Errorf(op, deploy.KindPrecondition, "deployment already sends all traffic to %s", d.To)
		default:
			return nil, deploy.Errorf(op, deploy.KindPrecondition, "cannot promote a deployment that is %s", d.State)
		}
		d.Promote = true
		if d.State == deploy.StatePaused {
			d.State, d.PausedFrom = d.PausedFrom, ""
		}
		if err := r.save(ctx, cmd.req.Actor, "promote", cmd.req.Reason, nil); err != nil {
			return nil, err
		}
		return snapshot(), nil
	}
	return nil, deploy.Errorf(op, deploy.KindInternal, "unknown command")
}
