// Package eventhub is the daemon's one in-process event stream: a deploy.Store decorator publishes
// every stored audit event and every created or updated deployment to subscribers (the dashboard's
// server-sent events). Publishing never waits for a subscriber: each has a bounded buffer, and one
// that falls behind is dropped and told so, because a rollback must never wait for a browser.
package eventhub

import (
	"encoding/json"
	"sync"
	"sync/atomic"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// Kind says what a Message carries.
type Kind string

const (
	KindEvent      Kind = "event"      // an audit event was stored
	KindDeployment Kind = "deployment" // a deployment was created or updated
)

// Message is one published change. Data is its JSON, encoded once at publication, so that every
// subscriber shares a copy taken before the writer could change the record again.
type Message struct {
	Seq          uint64          `json:"seq"` // the hub's own order, increasing
	Kind         Kind            `json:"kind"`
	Service      string          `json:"service"`
	DeploymentID string          `json:"deployment_id"`
	Data         json.RawMessage `json:"data"`
}

// DefaultBuffer is a subscriber's buffer when none is given: a deployment writes a few records per
// step, so this is minutes of history for a reader that is merely slow.
const DefaultBuffer = 256

// Hub fans messages out to subscribers.
type Hub struct {
	mu      sync.Mutex
	subs    map[*Subscription]struct{}
	seq     uint64
	dropped atomic.Int64
}

// New returns an empty hub.
func New() *Hub { return &Hub{subs: map[*Subscription]struct{}{}} }

// Subscription receives messages on C until it is closed or falls behind. When its buffer is full the
// hub drops it: C is closed and Lagging reports true. A lagging reader starts again from a fresh read
// of the state and a new subscription.
type Subscription struct {
	hub     *Hub
	ch      chan Message
	lagging atomic.Bool
	once    sync.Once
}

// C delivers the messages, in order; it is closed when the subscription ends.
func (s *Subscription) C() <-chan Message { return s.ch }

// Lagging reports whether the hub dropped this subscription because its buffer was full.
func (s *Subscription) Lagging() bool { return s.lagging.Load() }

// Close ends the subscription; it is safe to call more than once and after the hub dropped it.
func (s *Subscription) Close() { s.hub.remove(s, false) }

// Subscribe starts a subscription with a buffer of n messages (DefaultBuffer when n <= 0).
func (h *Hub) Subscribe(n int) *Subscription {
	if n <= 0 {
		n = DefaultBuffer
	}
	s := &Subscription{hub: h, ch: make(chan Message, n)}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

// Subscribers is the number of live subscriptions.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Dropped is the number of subscriptions dropped for lagging since the hub started.
func (h *Hub) Dropped() int64 { return h.dropped.Load() }

func (h *Hub) remove(s *Subscription, lagging bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(s, lagging)
}

func (h *Hub) removeLocked(s *Subscription, lagging bool) {
	if _, ok := h.subs[s]; !ok {
		return
	}
	delete(h.subs, s)
	if lagging {
		s.lagging.Store(true)
		h.dropped.Add(1)
	}
	s.once.Do(func() { close(s.ch) })
}

// active reports whether anyone listens, so that a store write with no dashboard open encodes nothing.
func (h *Hub) active() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs) > 0
}

// publish encodes v and offers it to every subscriber without blocking: a full buffer drops that
// subscriber, never the message for the others and never the writer.
func (h *Hub) publish(kind Kind, service, id string, v any) {
	if !h.active() {
		return
	}
	data, err := json.Marshal(v)
	if err != nil { // the store just wrote it, so it encodes; nothing to publish if not
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	m := Message{Seq: h.seq, Kind: kind, Service: service, DeploymentID: id, Data: data}
	for s := range h.subs {
		select {
		case s.ch <- m:
		default:
			h.removeLocked(s, true)
		}
	}
}

// PublishEvent publishes a stored audit event.
func (h *Hub) PublishEvent(e deploy.Event) { h.publish(KindEvent, e.Service, e.DeploymentID, e) }

// PublishDeployment publishes a stored deployment.
func (h *Hub) PublishDeployment(d *deploy.Deployment) {
	h.publish(KindDeployment, d.Service, d.ID, d)
}
