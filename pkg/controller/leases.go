package controller

// Several daemons on one store (docs/ha.md): each active deployment is run only by the daemon that
// holds its lease (package lease). A runner's context carries its lease's fence, so every store write
// it makes is conditional on the epoch and every AWS side effect is checked against the lease first
// (fencedRouter and friends below); a lost lease cancels the runner. Operator commands for a
// deployment this daemon does not run are stored as desired state and applied by its owner.

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/lease"
)

// LeaseOptions turn leases on (a shared DynamoDB store). Without them (SQLite: one daemon) this daemon
// holds every lease trivially: nothing is fenced, every unfinished deployment is recovered at start.
type LeaseOptions struct {
	Store    deploy.LeaseStore
	Commands deploy.CommandStore
	Owner    string        // unique per daemon process
	Duration time.Duration // lease time (default lease.DefaultDuration)
	// Scan paces the listing of every lease and pending command (default min(PollInterval, Duration/4)):
	// a command sent to another daemon is applied within about one scan.
	Scan time.Duration
}

func (c *Controller) newLeases(o LeaseOptions) {
	if o.Scan <= 0 {
		o.Scan = c.o.PollInterval
	}
	c.cmdStore = o.Commands
	c.leases = lease.New(lease.Options{
		Owner: o.Owner, Store: o.Store, Clock: c.clock, Duration: o.Duration, Scan: min(o.Scan, max(o.Duration, lease.DefaultDuration)/4),
		OnGained: c.leaseGained, OnLost: c.leaseLost, OnCommands: c.storedCommands, Log: c.log.Named("lease"),
	})
}

// Leases returns the lease manager (nil without leases).
func (c *Controller) Leases() *lease.Manager { return c.leases }

// startLeased is Start's recovery with leases: deployments are taken over as their leases expire
// (lease.Manager); only an active deployment without any lease (written by a daemon without leases) is
// claimed here and recovered at once.
func (c *Controller) startLeased(ctx context.Context, active []*deploy.Deployment) error {
	all, _, err := c.o.Leases.Store.ListLeases(ctx)
	if err != nil {
		return deploy.Wrap("controller.Start", "", err, "list leases")
	}
	has := map[string]bool{}
	for _, l := range all {
		has[l.DeploymentID] = true
	}
	for _, d := range active {
		if d.Quarantine != "" || has[d.ID] {
			continue
		}
		f, err := c.leases.Claim(ctx, d.ID, d.Service)
		if err != nil {
			continue // another daemon claimed it first: it runs it
		}
		c.recovering.Add(1)
		c.log.Info("claimed unfinished deployment without a lease", zap.String("deployment_id", d.ID), zap.Int64("epoch", f.Epoch))
		c.launch(d, true)
	}
	go c.leases.Run(ctx)
	return nil
}

// leaseGained runs a deployment whose lease this daemon took over, through the recovery path.
func (c *Controller) leaseGained(l deploy.Lease) {
	c.mu.Lock()
	ctx, running := c.ctx, c.runners[l.DeploymentID] != nil
	c.mu.Unlock()
	if running || ctx == nil || ctx.Err() != nil {
		return
	}
	d, err := c.store.GetDeployment(ctx, l.DeploymentID)
	switch {
	case err != nil:
		c.log.Error("lease taken over but the deployment cannot be read; releasing nothing, retrying at the next takeover", zap.String("deployment_id", l.DeploymentID), zap.Error(err))
		c.leases.Lost(l.DeploymentID)
		return
	case d.State.Terminal():
		c.leases.Release(ctx, d.ID) // its owner died between finishing and deleting the lease
		return
	case d.Quarantine != "":
		c.log.Error("deployment record quarantined: not run", zap.String("deployment_id", d.ID), zap.String("problem", d.Quarantine))
		return
	}
	c.log.Info("taking over deployment", zap.String("deployment_id", d.ID), zap.String("service", d.Service),
		zap.String("state", string(d.State)), zap.Int64("epoch", l.Epoch))
	c.launch(d, true)
}

// leaseLost stops a runner before any further side effect.
func (c *Controller) leaseLost(id string) {
	c.mu.Lock()
	r := c.runners[id]
	c.mu.Unlock()
	if r != nil && r.cancel != nil {
		r.cancel()
	}
}

// runnerContext is the context a runner of d lives on: cancelled when its lease is lost, carrying
// its lease's fence.
func (c *Controller) runnerContext(parent context.Context, id string) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	if c.leases != nil {
		if f, ok := c.leases.Fence(id); ok {
			ctx = deploy.WithFence(ctx, f)
		} else {
			cancel() // not ours: never run it
		}
	}
	return ctx, cancel
}

// leaseFor is the context of a deployment's first write: with leases, the creating daemon owns the
// new deployment from that write on.
func (c *Controller) leaseFor(ctx context.Context, d *deploy.Deployment) (context.Context, func()) {
	if c.leases == nil {
		return ctx, func() {}
	}
	sent := c.clock.Now()
	l := deploy.Lease{DeploymentID: d.ID, Service: d.Service, Owner: c.leases.Owner(), Epoch: 1, Token: uuid.NewString(),
		Duration: c.leases.Duration(), RenewedAt: sent.UTC()}
	return deploy.WithNewLease(ctx, l), func() { c.leases.Hold(l, sent) }
}

// fenced returns ctx with d's fence, for writes outside a runner (the create event).
func (c *Controller) fenced(ctx context.Context, id string) context.Context {
	if c.leases == nil {
		return ctx
	}
	if f, ok := c.leases.Fence(id); ok {
		return deploy.WithFence(ctx, f)
	}
	return ctx
}

// released ends the lease of a deployment whose runner finished it.
func (c *Controller) released(d *deploy.Deployment) {
	if c.leases != nil && d.State.Terminal() {
		c.leases.Release(context.WithoutCancel(c.ctx), d.ID)
	}
}

// remoteCommand stores an operator command for a deployment this daemon does not run, and waits for
// its owner to apply it (within about one scan; a dead owner's commands wait for the takeover).
func (c *Controller) remoteCommand(ctx context.Context, kind cmdKind, req deploy.ActionRequest) (*deploy.Deployment, error) {
	op := "controller." + string(kind)
	cmd := deploy.Command{ID: uuid.NewString(), DeploymentID: req.ID, Kind: string(kind), Actor: req.Actor, Reason: req.Reason, At: c.clock.Now().UTC()}
	if err := c.cmdStore.PutCommand(ctx, cmd); err != nil {
		return nil, deploy.Wrap(op, "", err, "store the command for the deployment's owner")
	}
	deadline := c.clock.Now().Add(2*c.leases.Duration() + 10*c.o.PollInterval)
	// The owner applies it at its next lease scan: look soon, then less often (50 ms doubling to
	// 500 ms), so that a waiting command costs a few reads a second, not twenty.
	for wait := 50 * time.Millisecond; c.clock.Now().Before(deadline); wait = min(2*wait, 500*time.Millisecond) {
		if !c.sleep(ctx, wait) {
			return nil, deploy.Wrap(op, deploy.KindTimeout, ctx.Err(), "command "+cmd.ID+" stored; its owner applies it when it can")
		}
		got, err := c.cmdStore.GetCommand(ctx, req.ID, cmd.ID)
		if err != nil || !got.Done {
			continue
		}
		_ = c.cmdStore.DeleteCommand(context.WithoutCancel(ctx), req.ID, cmd.ID)
		if got.ErrKind != "" {
			return nil, deploy.Errorf(op, got.ErrKind, "%s (applied by %s)", got.ErrMessage, got.AppliedBy)
		}
		return c.store.GetDeployment(ctx, req.ID)
	}
	return nil, deploy.Errorf(op, deploy.KindTimeout, "command %s stored, not yet applied by the deployment's owner; it will be when an owner runs it", cmd.ID)
}

func (c *Controller) sleep(ctx context.Context, d time.Duration) bool {
	wake, stop := c.clock.After(d)
	defer stop()
	select {
	case <-ctx.Done():
		return false
	case <-wake:
		return true
	}
}

// storedCommands hands commands stored by other daemons to the runners of this daemon's leases and
// records each outcome, fenced on the lease.
func (c *Controller) storedCommands(cmds []deploy.Command) {
	for _, cmd := range cmds {
		c.mu.Lock()
		r := c.runners[cmd.DeploymentID]
		c.mu.Unlock()
		if r == nil {
			c.leases.Redeliver(cmd.ID) // its runner is not up yet: the next scan brings it again
			continue
		}
		go c.applyStored(r, cmd)
	}
}

func (c *Controller) applyStored(r *runner, cmd deploy.Command) {
	reply := make(chan cmdResult, 1)
	req := deploy.ActionRequest{ID: cmd.DeploymentID, Actor: cmd.Actor, Reason: cmd.Reason}
	select {
	case r.cmds <- command{kind: cmdKind(cmd.Kind), req: req, reply: reply}:
	case <-r.done:
		c.leases.Redeliver(cmd.ID)
		return
	}
	res := <-reply
	if errors.Is(res.err, deploy.ErrLeaseLost) {
		return // the new owner applies it
	}
	cmd.Done, cmd.AppliedBy = true, c.leases.Owner()
	if res.err != nil {
		cmd.ErrKind, cmd.ErrMessage = deploy.KindOf(res.err), deploy.MessageOf(res.err)
	}
	if err := c.cmdStore.CompleteCommand(r.fenceCtx, cmd); err != nil {
		c.log.Warn("command outcome not recorded", zap.String("command", cmd.ID), zap.Error(err))
	}
}

// Fenced AWS ports: a side effect made on a runner's context is sent only while its lease holds.

func fenceCheck(ctx context.Context) error {
	if f, ok := deploy.AnyFence(ctx); ok {
		if err := f.Valid(); err != nil {
			return deploy.Wrap("controller.fence", deploy.KindConflict, err, "deployment "+f.DeploymentID)
		}
	}
	return nil
}

type fencedRouter struct{ deploy.TrafficRouter }

func (f fencedRouter) SetWeights(ctx context.Context, r deploy.Route, w map[string]int) error {
	if err := fenceCheck(ctx); err != nil {
		return err
	}
	return f.TrafficRouter.SetWeights(ctx, r, w)
}

func (f fencedRouter) ForwardTo(ctx context.Context, r deploy.Route, tg string) error {
	if err := fenceCheck(ctx); err != nil {
		return err
	}
	return f.TrafficRouter.ForwardTo(ctx, r, tg)
}

type fencedContainers struct{ deploy.Containers }

func (f fencedContainers) RegisterTaskDefinition(ctx context.Context, base, container, image string, tags map[string]string) (string, error) {
	if err := fenceCheck(ctx); err != nil {
		return "", err
	}
	return f.Containers.RegisterTaskDefinition(ctx, base, container, image, tags)
}

func (f fencedContainers) UpdateService(ctx context.Context, cluster, service, td string, desired int) error {
	if err := fenceCheck(ctx); err != nil {
		return err
	}
	return f.Containers.UpdateService(ctx, cluster, service, td, desired)
}

type fencedScaling struct{ deploy.Scaling }

func (f fencedScaling) SetScaling(ctx context.Context, cluster, service string, t deploy.ScalableTarget) error {
	if err := fenceCheck(ctx); err != nil {
		return err
	}
	return f.Scaling.SetScaling(ctx, cluster, service, t)
}
