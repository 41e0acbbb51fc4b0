package awsclient

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// gateCW holds every DescribeAlarms call until `release` calls are in flight at once (or 5 s pass),
// and records the most ever in flight. A call naming "broken" fails.
type gateCW struct {
	mu       sync.Mutex
	inFlight int
	most     int
	calls    int
	release  int
	open     chan struct{}
}

func (g *gateCW) DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	g.mu.Lock()
	g.calls++
	g.inFlight++
	g.most = max(g.most, g.inFlight)
	if g.inFlight == g.release {
		close(g.open)
	}
	g.mu.Unlock()
	defer func() { g.mu.Lock(); g.inFlight--; g.mu.Unlock() }()
	select {
	case <-g.open:
	case <-time.After(5 * time.Second):
		return nil, fmt.Errorf("gate: only some calls ever ran at once")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	out := &cloudwatch.DescribeAlarmsOutput{}
	for _, n := range in.AlarmNames {
		if n == "broken" {
			return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "no"}
		}
		out.MetricAlarms = append(out.MetricAlarms, cwtypes.MetricAlarm{AlarmName: aws.String(n), StateValue: cwtypes.StateValueOk})
	}
	return out, nil
}

func alarmNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("alarm-%04d", i)
	}
	return out
}

// holdCW holds every DescribeAlarms call until the test lets one go, and records the most in flight.
type holdCW struct {
	mu       sync.Mutex
	inFlight int
	most     int
	hold     chan struct{}
}

func (h *holdCW) DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	h.mu.Lock()
	h.inFlight++
	h.most = max(h.most, h.inFlight)
	h.mu.Unlock()
	defer func() { h.mu.Lock(); h.inFlight--; h.mu.Unlock() }()
	select {
	case <-h.hold:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	out := &cloudwatch.DescribeAlarmsOutput{}
	for _, n := range in.AlarmNames {
		out.MetricAlarms = append(out.MetricAlarms, cwtypes.MetricAlarm{AlarmName: aws.String(n), StateValue: cwtypes.StateValueOk})
	}
	return out, nil
}

func (h *holdCW) counts() (inFlight, most int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.inFlight, h.most
}

func TestAlarmBatchesRunInParallelBounded(t *testing.T) {
	// 10 batches of 100: batchParallelism of them are in flight before any answers, never more.
	h := &holdCW{hold: make(chan struct{})}
	type result struct {
		got map[string]deploy.AlarmState
		err error
	}
	done := make(chan result, 1)
	go func() {
		got, err := NewAlarms(h).AlarmStates(context.Background(), alarmNames(1000))
		done <- result{got, err}
	}()
	waitFor(t, "batches in flight together", func() bool { n, _ := h.counts(); return n >= batchParallelism })
	for range 10 {
		h.hold <- struct{}{}
	}
	r := <-done
	if r.err != nil || len(r.got) != 1000 {
		t.Fatalf("AlarmStates: %d alarms, %v", len(r.got), r.err)
	}
	if _, most := h.counts(); most != batchParallelism {
		t.Errorf("most calls in flight: %d, want %d", most, batchParallelism)
	}

	// One failing batch fails the read.
	names := append(alarmNames(250), "broken")
	g := &gateCW{release: 3, open: make(chan struct{})}
	if _, err := NewAlarms(g).AlarmStates(context.Background(), names); deploy.KindOf(err) != deploy.KindInternal {
		t.Errorf("a failed batch: want its error (internal), got %v", err)
	}
}
