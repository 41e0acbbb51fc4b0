package awsclient

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// batchECS answers DescribeServices for any list of names like ECS: unknown names are MISSING failures;
// more than 10 names is an InvalidParameterException.
type batchECS struct {
	fakeECS
	mu       sync.Mutex
	existing map[string]bool
	calls    [][]string
	failure  string // a non-MISSING failure reason reported for every name, when set
}

func (f *batchECS) DescribeServices(_ context.Context, in *ecs.DescribeServicesInput, _ ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	f.mu.Lock()
	f.calls = append(f.calls, in.Services)
	f.mu.Unlock()
	if len(in.Services) > 10 {
		return nil, fmt.Errorf("InvalidParameterException: more than 10 services")
	}
	out := &ecs.DescribeServicesOutput{}
	for _, n := range in.Services {
		switch {
		case f.failure != "":
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: aws.String(n), Reason: aws.String(f.failure)})
		case f.existing[n]:
			out.Services = append(out.Services, ecstypes.Service{ServiceName: aws.String(n), Status: aws.String("ACTIVE"), DesiredCount: int32(len(n)),
				Deployments: []ecstypes.Deployment{{Id: aws.String("d-old"), Status: aws.String("ACTIVE")}, {Id: aws.String("d-new"), Status: aws.String("PRIMARY")}}})
		default:
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: aws.String("arn:aws:ecs:us-east-1:1:service/c/" + n), Reason: aws.String("MISSING")})
		}
	}
	return out, nil
}

func TestDescribeServicesBatches(t *testing.T) {
	f := &batchECS{existing: map[string]bool{}}
	var names []string
	for i := range 25 {
		n := fmt.Sprintf("svc-%02d", i)
		names = append(names, n)
		if i != 13 {
			f.existing[n] = true
		}
	}
	got, err := NewContainers(f).DescribeServices(context.Background(), "c", append(names, names[0], ""))
	if err != nil {
		t.Fatalf("DescribeServices: %v", err)
	}
	if len(f.calls) != 3 {
		t.Errorf("25 names: want 3 calls, got %d", len(f.calls))
	}
	if len(got) != 24 {
		t.Errorf("want 24 services (one MISSING), got %d", len(got))
	}
	if _, ok := got["svc-13"]; ok {
		t.Errorf("a MISSING service is in the result")
	}
	s := got["svc-04"]
	if s.Cluster != "c" || s.Name != "svc-04" || s.DesiredCount != 6 || s.Deployments[0].Status != "PRIMARY" {
		t.Errorf("svc-04 read as %+v", s)
	}

	f.failure = "INTERNAL_ERROR"
	if _, err := NewContainers(f).DescribeServices(context.Background(), "c", names); deploy.KindOf(err) != deploy.KindUnavailable {
		t.Errorf("a non-MISSING failure: want unavailable, got %v", err)
	}
	if got, err := NewContainers(f).DescribeServices(context.Background(), "c", nil); err != nil || len(got) != 0 {
		t.Errorf("no names: %v, %v", got, err)
	}
}
