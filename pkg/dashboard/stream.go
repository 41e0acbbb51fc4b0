package dashboard

import (
	"fmt"
	"net/http"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// StreamBuffer is a stream's hub buffer. A browser that cannot keep up (a suspended tab on a slow
// link) is dropped by the hub, told "lagging", and reloads the state when it reconnects.
const StreamBuffer = 512

// stream serves the hub as server-sent events: "hello" first, then "deployment" and "event" with
// the records' JSON, ":" comments as heartbeats, "lagging" or "signout" before it ends. The browser's
// EventSource reconnects by itself; the page then reads the overview again, so nothing is missed.
func (d *Dashboard) stream(w http.ResponseWriter, r *http.Request, _ who) error {
	if d.o.Hub == nil {
		return deploy.Errorf("dashboard.stream", deploy.KindUnavailable, "this daemon has no event stream")
	}
	rc := http.NewResponseController(w)
	// The daemon's WriteTimeout bounds ordinary answers; a stream is meant to stay open.
	_ = rc.SetWriteDeadline(time.Time{})
	sub := d.o.Hub.Subscribe(StreamBuffer)
	defer sub.Close()

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // proxies must not hold events back
	w.WriteHeader(http.StatusOK)
	send := func(event, id string, data []byte) bool {
		if id != "" {
			fmt.Fprintf(w, "id: %s\n", id)
		}
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data)
		return rc.Flush() == nil
	}
	if !send("hello", "", []byte(`{"retry":2000}`)) {
		return nil
	}
	for {
		beat, stop := d.o.Clock.After(d.o.Heartbeat)
		select {
		case m, ok := <-sub.C():
			stop()
			if !ok {
				send("lagging", "", []byte(`{}`))
				return nil
			}
			if !send(string(m.Kind), fmt.Sprint(m.Seq), m.Data) {
				return nil
			}
		case <-beat:
			if d.sessionEnded(r) {
				send("signout", "", []byte(`{}`))
				return nil
			}
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil || rc.Flush() != nil {
				return nil
			}
		case <-r.Context().Done():
			stop()
			return nil
		case <-d.closing:
			stop()
			return nil
		}
	}
}
