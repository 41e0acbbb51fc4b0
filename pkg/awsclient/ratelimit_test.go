package awsclient

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/smithy-go/middleware"

	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/ratelimit"
)

// elbServer answers every ELBv2 call: the first throttle requests with Throttling, the rest with an
// empty DescribeTargetGroups result. It counts the requests.
func elbServer(t *testing.T, throttle int64) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		if n.Add(1) <= throttle {
			w.WriteHeader(400)
			fmt.Fprint(w, `<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>1</RequestId></ErrorResponse>`)
			return
		}
		fmt.Fprint(w, `<DescribeTargetGroupsResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><DescribeTargetGroupsResult><TargetGroups></TargetGroups></DescribeTargetGroupsResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeTargetGroupsResponse>`)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func testAWSConfig(url string) aws.Config {
	return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// Every call of the clients built with a limiter waits for its family's budget, urgent calls first.
func TestClientsCallsWaitForTheBudget(t *testing.T) {
	srv, hits := elbServer(t, 0)
	clk := clock.NewFake(time.Unix(0, 0))
	lim, err := ratelimit.New(clk, map[string]ratelimit.Limit{ratelimit.ELBv2: {Rate: 1, Burst: 2}})
	if err != nil {
		t.Fatal(err)
	}
	c := FromAWSConfig(testAWSConfig(srv.URL), nil, WithLimiter(lim))
	ctx := context.Background()
	for range 2 {
		if _, err := c.ELBv2.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{}); err != nil {
			t.Fatal(err)
		}
	}
	order := make(chan string, 2)
	go func() { c.ELBv2.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{}); order <- "normal" }()
	b := lim.Bucket(ratelimit.ELBv2)
	waitFor(t, "the normal call to queue", func() bool { _, n := b.Waiting(); return n == 1 })
	go func() {
		c.ELBv2.DescribeTargetGroups(deploy.Urgent(ctx), &elbv2.DescribeTargetGroupsInput{})
		order <- "urgent"
	}()
	waitFor(t, "the urgent call to queue", func() bool { u, _ := b.Waiting(); return u == 1 })
	if hits.Load() != 2 {
		t.Fatalf("calls beyond the burst reached AWS: %d", hits.Load())
	}
	clk.Advance(time.Second)
	if got := <-order; got != "urgent" {
		t.Errorf("first served after the burst: %s, want urgent", got)
	}
	clk.Advance(time.Second)
	<-order
	if hits.Load() != 4 {
		t.Errorf("want 4 requests, got %d", hits.Load())
	}

	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err = NewRouter(c.ELBv2).HealthCheckInterval(short, blueTG)
	if deploy.KindOf(err) != deploy.KindThrottled || !strings.Contains(err.Error(), "elbv2 call budget") {
		t.Errorf("deadline while waiting for the budget: want throttled, got %v", err)
	}
}

// Each attempt takes a token, retries included; and the SDK's retry quota is off, so a long run of
// throttles keeps being retried instead of failing at once.
func TestRetriesTakeTokensAndNoRetryQuota(t *testing.T) {
	srv, hits := elbServer(t, 1<<30)
	const calls = 60 // 60 calls × 2 retries × 5 tokens = 600 > the standard retry quota of 500
	clk := clock.NewFake(time.Unix(0, 0))
	lim, err := ratelimit.New(clk, map[string]ratelimit.Limit{ratelimit.ELBv2: {Rate: 1e-6, Burst: 3 * calls}})
	if err != nil {
		t.Fatal(err)
	}
	api := elbv2.New(elbv2.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		Retryer:    retry.AddWithMaxBackoffDelay(retryer(3)(), time.Millisecond),
		APIOptions: []func(*middleware.Stack) error{rateLimitMiddleware(lim, ServiceELBv2)},
	})
	for range calls {
		_, err := api.DescribeTargetGroups(context.Background(), &elbv2.DescribeTargetGroupsInput{})
		if deploy.KindOf(mapErr("elbv2.DescribeTargetGroups", err, "")) != deploy.KindThrottled {
			t.Fatalf("want a throttled error, got %v", err)
		}
	}
	if hits.Load() != 3*calls {
		t.Errorf("want %d attempts (3 a call, never cut short by a retry quota), got %d", 3*calls, hits.Load())
	}
	// The budget held exactly one token per attempt: the next call waits.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := api.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{}); done <- err }()
	b := lim.Bucket(ratelimit.ELBv2)
	waitFor(t, "the call after the budget's last token to wait", func() bool { _, n := b.Waiting(); return n == 1 })
	cancel()
	<-done
	if hits.Load() != 3*calls {
		t.Errorf("a call without budget reached AWS")
	}
}
