package awsclient

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// MaxServicesPerDescribe is the most services one ECS DescribeServices call accepts.
const MaxServicesPerDescribe = 10

// batchParallelism bounds how many batches of one read are in flight at once.
const batchParallelism = 4

// DescribeServices reads many services of one cluster, MaxServicesPerDescribe names a call, the calls in
// parallel (at most batchParallelism at once). A service ECS reports MISSING is absent from the result;
// any other failure fails the whole read.
func (c *Containers) DescribeServices(ctx context.Context, cluster string, services []string) (map[string]deploy.ECSService, error) {
	const op = "ecs.DescribeServices"
	names := uniqueNonEmpty(services)
	var mu sync.Mutex
	out := make(map[string]deploy.ECSService, len(names))
	err := inBatches(ctx, op, len(names), MaxServicesPerDescribe, func(ctx context.Context, lo, hi int) error {
		batch := names[lo:hi]
		res, err := c.api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: batch})
		if err != nil {
			return mapErr(op, err, fmt.Sprintf("describe %d ECS services in %s", len(batch), cluster))
		}
		for _, f := range res.Failures {
			if aws.ToString(f.Reason) != "MISSING" {
				return deploy.Errorf(op, deploy.KindUnavailable, "ECS service %s in %s: %s %s", aws.ToString(f.Arn), cluster, aws.ToString(f.Reason), aws.ToString(f.Detail))
			}
		}
		want := make(map[string]bool, len(batch))
		for _, n := range batch {
			want[n] = true
		}
		mu.Lock()
		defer mu.Unlock()
		for _, s := range res.Services {
			// Key by the name the caller asked for (a name or an ARN).
			switch {
			case want[aws.ToString(s.ServiceName)]:
				out[aws.ToString(s.ServiceName)] = toECSService(cluster, s)
			case want[aws.ToString(s.ServiceArn)]:
				out[aws.ToString(s.ServiceArn)] = toECSService(cluster, s)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func uniqueNonEmpty(in []string) []string {
	out := make([]string, 0, len(in))
	seen := make(map[string]bool, len(in))
	for _, s := range in {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// inBatches calls fn for [lo, hi) batches of n items, size items each, at most batchParallelism at once.
// The first error cancels the batches not yet finished and is returned; op names the call for the error
// when ctx ends before every batch has started.
func inBatches(ctx context.Context, op string, n, size int, fn func(ctx context.Context, lo, hi int) error) error {
	if n == 0 {
		return nil
	}
	if n <= size {
		return fn(ctx, 0, n)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, batchParallelism)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for lo := 0; lo < n; lo += size {
		hi := min(lo+size, n)
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(ctx, lo, hi); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return mapErr(op, ctx.Err(), "batched read stopped")
}
