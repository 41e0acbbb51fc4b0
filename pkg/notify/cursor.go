package notify

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// Settle is how long after its time an event can still appear with a lower sequence number than one
// already read. DynamoDB takes an event's number from a counter before writing it, so two appends to
// one deployment racing (the runner and the analysis loop) can land in the other order; the gap
// between taking the number and the write is one PutItem. SQLite numbers events as it commits them.
const Settle = 30 * time.Second

// cursor is a sink's place in one deployment's events: every event up to Seq is handled (delivered,
// recorded as failed, or not routed to the sink), and so are the Recent ones above it. An event moves
// under Seq only once it is older than Settle, so one written late with a lower number is still read.
// Version is the stored object's (0: not stored yet).
type cursor struct {
	Seq     int64     `json:"seq"`
	Recent  []int64   `json:"recent,omitempty"`
	At      time.Time `json:"at"`
	Version int64     `json:"-"`
}

func (c *cursor) handled(seq int64) bool {
	if seq <= c.Seq {
		return true
	}
	for _, s := range c.Recent {
		if s == seq {
			return true
		}
	}
	return false
}

// settle moves Seq over the handled events of evs (read after Seq, in order) older than Settle, up to
// the first that is not, and reports whether it changed.
func (c *cursor) settle(evs []deploy.Event, now time.Time) bool {
	moved := false
	for _, e := range evs {
		if e.Seq <= c.Seq {
			continue
		}
		if !c.handled(e.Seq) || now.Sub(e.Time) < Settle {
			break
		}
		c.Seq, moved = e.Seq, true
	}
	if moved {
		kept := c.Recent[:0]
		for _, s := range c.Recent {
			if s > c.Seq {
				kept = append(kept, s)
			}
		}
		c.Recent = kept
	}
	return moved
}

// marker is a sink's first start: events older than it are history, not news.
type marker struct {
	Since time.Time `json:"since"`
}

// load reads the sink's marker (creating it on the first start) and every cursor.
func (w *worker) load(ctx context.Context) error {
	objs, err := w.d.o.Objects.ListObjects(ctx, KindCursor)
	if err != nil {
		return err
	}
	w.cursors = map[string]*cursor{}
	found := false
	for _, o := range objs {
		switch {
		case o.ID == w.name:
			var m marker
			if err := jsonDecode(o.Body, &m); err != nil {
				return deploy.Wrap("notify.load", deploy.KindInternal, err, "decode marker "+o.ID)
			}
			w.since, found = m.Since, true
		case strings.HasPrefix(o.ID, w.name+"/"):
			c := &cursor{}
			if err := jsonDecode(o.Body, c); err != nil {
				return deploy.Wrap("notify.load", deploy.KindInternal, err, "decode cursor "+o.ID)
			}
			c.Version = o.Version
			w.cursors[strings.TrimPrefix(o.ID, w.name+"/")] = c
		}
	}
	if !found {
		w.since = w.d.o.Clock.Now().UTC()
		body, err := jsonEncode(marker{Since: w.since})
		if err != nil {
			return err
		}
		// A conflict means another daemon created it first: the next load reads its time.
		if err := w.d.o.Objects.PutObject(ctx, &deploy.Object{Kind: KindCursor, ID: w.name, Body: body}); err != nil {
			return err
		}
		w.log.Info("notification sink started: events from now on are delivered", zap.Time("since", w.since))
	}
	w.ready = true
	return nil
}

func (w *worker) cursorOf(deploymentID string) *cursor {
	c, ok := w.cursors[deploymentID]
	if !ok {
		c = &cursor{}
		w.cursors[deploymentID] = c
	}
	return c
}

// save writes c conditionally on its version: a conflict means another daemon moved it, and the pass
// stops so that the next one reloads (its deliveries may then repeat: at-least-once).
func (w *worker) save(ctx context.Context, deploymentID string, c *cursor) error {
	c.At = w.d.o.Clock.Now().UTC()
	body, err := jsonEncode(c)
	if err != nil {
		return err
	}
	o := &deploy.Object{Kind: KindCursor, ID: w.name + "/" + deploymentID, Body: body, Version: c.Version}
	if err := w.d.o.Objects.PutObject(ctx, o); err != nil {
		return err
	}
	c.Version = o.Version
	return nil
}

// prune deletes the cursors of deployments that finished more than two lookbacks ago (no pass reads
// them any more), so the cursor objects do not grow with the history.
func (w *worker) prune(ctx context.Context, listed map[string]bool, now time.Time) {
	for id, c := range w.cursors {
		if c.Version == 0 && !listed[id] {
			delete(w.cursors, id) // never stored: nothing to delete
			continue
		}
		if listed[id] || c.Version == 0 || now.Sub(c.At) < 2*w.d.o.Lookback {
			continue
		}
		if err := w.d.o.Objects.DeleteObject(ctx, KindCursor, w.name+"/"+id); err != nil && deploy.KindOf(err) != deploy.KindNotFound {
			w.log.Warn("old notification cursor not deleted", zap.String("deployment_id", id), zap.Error(err))
			continue
		}
		delete(w.cursors, id)
	}
}

func jsonEncode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, deploy.Wrap("notify.encode", deploy.KindInternal, err, "")
	}
	return b, nil
}

func jsonDecode(b []byte, v any) error { return json.Unmarshal(b, v) }
