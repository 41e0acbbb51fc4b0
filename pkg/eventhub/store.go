package eventhub

import (
	"context"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// Wrap returns store with every successful CreateDeployment, UpdateDeployment and AppendEvent
// published to the hub after the write returned. Reads pass straight through. When store also keeps
// calendar objects (deploy.ObjectStore), so does the result; callers that look for other optional
// ports (leases, commands) should look on the store they wrapped.
func (h *Hub) Wrap(store deploy.Store) deploy.Store {
	w := &published{Store: store, hub: h}
	if o, ok := store.(deploy.ObjectStore); ok {
		return &publishedObjects{published: w, ObjectStore: o}
	}
	return w
}

// Unwrap returns the store a Wrap result decorates (or s itself).
func Unwrap(s deploy.Store) deploy.Store {
	switch w := s.(type) {
	case *published:
		return w.Store
	case *publishedObjects:
		return w.published.Store
	}
	return s
}

type published struct {
	deploy.Store
	hub *Hub
}

type publishedObjects struct {
	*published
	deploy.ObjectStore
}

func (p *published) CreateDeployment(ctx context.Context, d *deploy.Deployment) error {
	if err := p.Store.CreateDeployment(ctx, d); err != nil {
		return err
	}
	p.hub.PublishDeployment(d)
	return nil
}

func (p *published) UpdateDeployment(ctx context.Context, d *deploy.Deployment) error {
	if err := p.Store.UpdateDeployment(ctx, d); err != nil {
		return err
	}
	p.hub.PublishDeployment(d)
	return nil
}

func (p *published) AppendEvent(ctx context.Context, e *deploy.Event) error {
	if err := p.Store.AppendEvent(ctx, e); err != nil {
		return err
	}
	p.hub.PublishEvent(*e)
	return nil
}
