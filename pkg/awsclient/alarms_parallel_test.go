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

func TestAlarmBatchesRunInParallelBounded(t *testing.T) {
	// 10 batches: they must run batchParallelism at a time (the gate opens only when that many wait).
	g := &gateCW{release: batchParallelism, open: make(chan struct{})}
	got, err := NewAlarms(g).AlarmStates(context.Background(), alarmNames(1000))
	if err != nil {
		t.Fatalf("AlarmStates: %v", err)
	}
	if len(got) != 1000 || g.calls != 10 {
		t.Errorf("want 1000 alarms from 10 calls, got %d from %d", len(got), g.calls)
	}
	if g.most != batchParallelism {
		t.Errorf("most calls in flight: %d, want %d", g.most, batchParallelism)
	}

	// One failing batch fails the read.
	names := append(alarmNames(250), "broken")
	g = &gateCW{release: 3, open: make(chan struct{})}
	if _, err := NewAlarms(g).AlarmStates(context.Background(), names); deploy.KindOf(err) != deploy.KindInternal {
		t.Errorf("a failed batch: want its error (internal), got %v", err)
	}
}
