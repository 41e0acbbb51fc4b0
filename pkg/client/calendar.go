package client

import (
	"context"
	"net/http"

	"github.com/switchyard/switchyard/pkg/api"
	"github.com/switchyard/switchyard/pkg/calendar"
	"github.com/switchyard/switchyard/pkg/deploy"
)

// DryRun asks for the timeline of a deployment of tag to service; nothing is created.
func (c *Client) DryRun(ctx context.Context, service, tag string, o DeployOptions) (*deploy.DryRun, error) {
	svc, err := seg(service)
	if err != nil {
		return nil, err
	}
	var out deploy.DryRun
	body := api.CreateDeploymentBody{ImageTag: tag, Strategy: o.Strategy, Reason: o.Reason, Force: o.Force, StartAt: o.StartAt, DryRun: true}
	if err := c.do(ctx, http.MethodPost, "/v1/services/"+svc+"/deployments", nil, body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Freezes lists the freezes.
func (c *Client) Freezes(ctx context.Context) ([]deploy.FreezeRecord, error) {
	var out []deploy.FreezeRecord
	err := c.do(ctx, http.MethodGet, "/v1/freezes", nil, nil, &out)
	return out, err
}

// AddFreeze stores a freeze.
func (c *Client) AddFreeze(ctx context.Context, f calendar.Freeze) (*deploy.FreezeRecord, error) {
	var out deploy.FreezeRecord
	return &out, c.do(ctx, http.MethodPost, "/v1/freezes", nil, api.FreezeBody(f), &out)
}

// DeleteFreeze removes a freeze.
func (c *Client) DeleteFreeze(ctx context.Context, id, reason string) error {
	return c.deleteObject(ctx, "freezes", id, reason)
}

// Closures lists the exchange closures (configured and stored).
func (c *Client) Closures(ctx context.Context) ([]deploy.ClosureRecord, error) {
	var out []deploy.ClosureRecord
	err := c.do(ctx, http.MethodGet, "/v1/closures", nil, nil, &out)
	return out, err
}

// AddClosure stores an exchange closure.
func (c *Client) AddClosure(ctx context.Context, cl calendar.Closure) (*deploy.ClosureRecord, error) {
	var out deploy.ClosureRecord
	return &out, c.do(ctx, http.MethodPost, "/v1/closures", nil, api.ClosureBody(cl), &out)
}

// DeleteClosure removes a stored closure.
func (c *Client) DeleteClosure(ctx context.Context, id, reason string) error {
	return c.deleteObject(ctx, "closures", id, reason)
}

// Schedules lists the recurring schedules.
func (c *Client) Schedules(ctx context.Context) ([]deploy.ScheduleRecord, error) {
	var out []deploy.ScheduleRecord
	err := c.do(ctx, http.MethodGet, "/v1/schedules", nil, nil, &out)
	return out, err
}

// AddSchedule stores a recurring schedule.
func (c *Client) AddSchedule(ctx context.Context, s api.ScheduleBody) (*deploy.ScheduleRecord, error) {
	var out deploy.ScheduleRecord
	return &out, c.do(ctx, http.MethodPost, "/v1/schedules", nil, s, &out)
}

// PauseSchedule pauses (or resumes, paused false) a schedule.
func (c *Client) PauseSchedule(ctx context.Context, name, reason string, paused bool) (*deploy.ScheduleRecord, error) {
	p, err := seg(name)
	if err != nil {
		return nil, err
	}
	verb := "resume"
	if paused {
		verb = "pause"
	}
	var out deploy.ScheduleRecord
	return &out, c.do(ctx, http.MethodPost, "/v1/schedules/"+p+"/"+verb, nil, api.ActionBody{Reason: reason}, &out)
}

// DeleteSchedule removes a schedule.
func (c *Client) DeleteSchedule(ctx context.Context, name, reason string) error {
	return c.deleteObject(ctx, "schedules", name, reason)
}

// ObjectEvents is the audit trail of a freeze, closure or schedule.
func (c *Client) ObjectEvents(ctx context.Context, kind deploy.ObjectKind, id string) ([]deploy.Event, error) {
	p, err := seg(id)
	if err != nil {
		return nil, err
	}
	var out []deploy.Event
	err = c.do(ctx, http.MethodGet, "/v1/"+string(kind)+"s/"+p+"/events", nil, nil, &out)
	return out, err
}

func (c *Client) deleteObject(ctx context.Context, coll, id, reason string) error {
	p, err := seg(id)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, "/v1/"+coll+"/"+p, nil, api.ActionBody{Reason: reason}, nil)
}
