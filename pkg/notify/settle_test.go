package notify_test

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/notify"
)

// lateEvents is an event source whose events the test numbers itself, to model DynamoDB: a number is
// taken from the counter before the write, so an event can appear after one with a higher number.
type lateEvents struct {
	mu  sync.Mutex
	dep *deploy.Deployment
	evs []deploy.Event
}

func (l *lateEvents) ListDeployments(context.Context, deploy.ListFilter) ([]*deploy.Deployment, error) {
	return []*deploy.Deployment{l.dep}, nil
}

func (l *lateEvents) Events(_ context.Context, id string, after int64) ([]deploy.Event, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []deploy.Event
	for _, e := range l.evs {
		if e.DeploymentID == id && e.Seq > after {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, nil
}

func (l *lateEvents) add(seq int64, action string, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evs = append(l.evs, deploy.Event{Seq: seq, ID: action, DeploymentID: "d1", Service: "web", Time: at, Actor: "controller", Action: action})
}

// An event written late with a lower number than one already delivered is still delivered; once both
// are older than Settle the cursor moves past them, and a restart sends neither again.
func TestLateLowerSequenceStillDelivered(t *testing.T) {
	objs := openStore(t)
	clk := clock.NewFake(t0)
	r := newReceiver(t, hookSecret, clk.Now)
	src := &lateEvents{dep: &deploy.Deployment{ID: "d1", Service: "web", State: deploy.StateShifting, UpdatedAt: t0}}
	mut := func(o *notify.Options) { o.PollInterval = time.Second }
	stop := run(webhookDispatcher(t, src, objs, r, clk, mut))
	markerStored(t, objs, "hook")
	tick := func() {
		eventually(t, "the dispatcher parked on its poll", 5*time.Second, func() bool { return clk.Pending() > 0 })
		clk.Advance(time.Second)
	}
	src.add(12, "rollback", clk.Now()) // numbered after the pause, written first
	tick()
	eventually(t, "the rollback delivered", 5*time.Second, func() bool { return r.counts()["rollback"] == 1 })
	src.add(11, "pause", clk.Now())
	tick()
	eventually(t, "the late pause delivered", 5*time.Second, func() bool { return r.counts()["pause"] == 1 })
	for i := 0; i < 31; i++ {
		tick()
	}
	eventually(t, "the cursor settled past both", 5*time.Second, func() bool {
		cs, _ := objs.ListObjects(context.Background(), notify.KindCursor)
		for _, c := range cs {
			var body struct {
				Seq    int64
				Recent []int64
			}
			if c.ID == "hook/d1" && json.Unmarshal(c.Body, &body) == nil && body.Seq == 12 && len(body.Recent) == 0 {
				return true
			}
		}
		return false
	})
	stop()
	stop = run(webhookDispatcher(t, src, objs, r, clk, mut))
	tick()
	tick()
	stop()
	if c := r.counts(); c["pause"] != 1 || c["rollback"] != 1 || len(c) != 2 {
		t.Errorf("deliveries %v, want pause and rollback once each", c)
	}
}
