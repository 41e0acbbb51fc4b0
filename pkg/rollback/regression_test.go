package rollback

import (
	"context"
	"testing"

	"github.com/switchyard/switchyard/pkg/deploy"
)

type gatedAlarms struct{ entered, release chan struct{} }

func (g gatedAlarms) AlarmStates(ctx context.Context, names []string) (map[string]deploy.AlarmState, error) {
	close(g.entered)
	<-g.release
	return map[string]deploy.AlarmState{"a": {Name: "a", State: "ALARM"}}, nil
}

// Poll snapshots the watches, then fires on the snapshot after the (up to 5 intervals long) call:
// a deployment unwatched meanwhile still gets its callback.
func TestRegressionFireAfterUnwatch(t *testing.T) {
	g := gatedAlarms{entered: make(chan struct{}), release: make(chan struct{})}
	m := NewMonitor(g, 1e9, nil)
	fired := make(chan struct{}, 1)
	m.Watch("d1", []string{"a"}, func(Trigger) { fired <- struct{}{} })
	done := make(chan struct{})
	go func() { m.Poll(context.Background()); close(done) }()
	<-g.entered
	m.Unwatch("d1")
	close(g.release)
	<-done
	select {
	case <-fired:
		t.Fatal("fire called after Unwatch returned")
	default:
	}
}
