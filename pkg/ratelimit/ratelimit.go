// Package ratelimit keeps the daemon's AWS calls inside budgets of its own: one token bucket per AWS API
// family (ecs, elbv2, cloudwatch, ecr, dynamodb, autoscaling, sns), shared by every deployment, in which a
// call serving a rollback or its verification (deploy.IsUrgent) goes ahead of every waiting routine call.
//
// AWS throttles per account and Region, and the account is shared with everything else that runs in it
// (Terraform, the console, other controllers), so the defaults sit below AWS's documented default
// quotas (about 60-80% for the families a burst of deployments leans on, half elsewhere):
//
//	family       rate/s  burst  AWS default it stays under
//	elbv2           8     30    ELB API throttling guide: all Describe* of an account share one bucket,
//	                            40 burst / 10 per second refill in its example (Modify* and registration
//	                            calls have buckets of their own, no larger)
//	ecs            10     50    ECS request throttling: service read actions (DescribeServices)
//	                            100 burst / 20 per second; service modify (UpdateService) 50 / 5;
//	                            task definition modify (RegisterTaskDefinition) 20 / 1
//	cloudwatch      6      8    CloudWatch service quotas: DescribeAlarms 9 per second
//	                            (GetMetricData 500 per second)
//	ecr            10     20    ECR: one BatchGetImage per create; its per-API rate quotas are far higher
//	autoscaling     5     10    Application Auto Scaling: no published per-API rate; its calls are rare
//	                            (a hand-over at the end of a release)
//	sns            10     20    SNS Publish: thousands per second in us-east-1; notifications are a few
//	                            messages per deployment step, so this only caps a runaway retry loop
//	dynamodb     1000   2000    DynamoDB data-plane calls are limited by table capacity, not a request
//	                            rate; this only caps a runaway loop (the API's reads of the store share
//	                            it, so it must not be tight)
//
// Sources: docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-api-throttling.html,
// docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html,
// docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html.
//
// A budget is not what keeps 100 deployments cheap (batched reads do that); it is what keeps a burst
// from turning into AWS throttling, and what decides who waits when calls queue up. Every attempt of a
// call takes a token, retries included, so the SDK's retries cannot hammer a throttled API.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// Limit is a token bucket: Rate tokens a second on average, at most Burst at once.
type Limit struct {
	Rate  float64
	Burst int
}

// Family names, as in config.AWS.RateLimits and awsclient's service labels.
const (
	ECS         = "ecs"
	ELBv2       = "elbv2"
	CloudWatch  = "cloudwatch"
	ECR         = "ecr"
	DynamoDB    = "dynamodb"
	AutoScaling = "autoscaling"
	SNS         = "sns"
)

// Defaults returns the built-in budgets (see the package documentation for their sources).
func Defaults() map[string]Limit {
	return map[string]Limit{
		ELBv2:       {Rate: 8, Burst: 30},
		ECS:         {Rate: 10, Burst: 50},
		CloudWatch:  {Rate: 6, Burst: 8},
		ECR:         {Rate: 10, Burst: 20},
		AutoScaling: {Rate: 5, Burst: 10},
		DynamoDB:    {Rate: 1000, Burst: 2000},
		SNS:         {Rate: 10, Burst: 20},
	}
}

// Clock is the time source (clock.Real and clock.Fake of package clock fit it).
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed, and a function that stops the timer.
	After(d time.Duration) (<-chan time.Time, func())
}

// RealClock is the wall clock.
type RealClock struct{}

func (RealClock) Now() time.Time { return time.Now() }

func (RealClock) After(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTimer(d)
	return t.C, func() { t.Stop() }
}

// Limiter holds one bucket per family.
type Limiter struct {
	buckets map[string]*Bucket
}

// New returns a limiter with the default budgets, each family in overrides replacing its default.
// An override must have a positive Rate and Burst and name a known family.
func New(clk Clock, overrides map[string]Limit) (*Limiter, error) {
	if clk == nil {
		clk = RealClock{}
	}
	limits := Defaults()
	fams := make([]string, 0, len(overrides))
	for f := range overrides {
		fams = append(fams, f)
	}
	sort.Strings(fams)
	for _, f := range fams {
		l := overrides[f]
		if _, ok := limits[f]; !ok {
			return nil, fmt.Errorf("ratelimit: unknown API family %q (known: ecs, elbv2, cloudwatch, ecr, dynamodb, autoscaling, sns)", f)
		}
		if !(l.Rate > 0) || math.IsInf(l.Rate, 0) || l.Burst < 1 {
			return nil, fmt.Errorf("ratelimit: %s: rate must be > 0 and burst >= 1 (got rate %v, burst %d)", f, l.Rate, l.Burst)
		}
		limits[f] = l
	}
	lim := &Limiter{buckets: make(map[string]*Bucket, len(limits))}
	for f, l := range limits {
		lim.buckets[f] = NewBucket(clk, f, l)
	}
	return lim, nil
}

// Wait takes one token of family's budget, waiting as long as needed and ctx allows; a ctx marked
// deploy.Urgent goes ahead of every waiting call that is not. A family without a budget is not limited.
// When ctx ends first the error is a *deploy.Error of kind throttled (deadline) or unavailable
// (cancelled) wrapping ctx.Err(), and no token is used.
func (l *Limiter) Wait(ctx context.Context, family string) error {
	if l == nil {
		return nil
	}
	b, ok := l.buckets[family]
	if !ok {
		return nil
	}
	return b.Wait(ctx)
}

// Observer learns of every call that had to wait for its budget, and for how long (e.g. for a metric).
type Observer func(family string, urgent bool, waited time.Duration)

// Observe installs fn on every bucket. Call it before the limiter is used.
func (l *Limiter) Observe(fn Observer) {
	for _, b := range l.buckets {
		b.observe = fn
	}
}

// Bucket returns family's bucket, or nil.
func (l *Limiter) Bucket(family string) *Bucket {
	if l == nil {
		return nil
	}
	return l.buckets[family]
}

// Limits returns the budget in force for each family.
func (l *Limiter) Limits() map[string]Limit {
	out := make(map[string]Limit, len(l.buckets))
	for f, b := range l.buckets {
		out[f] = b.limit
	}
	return out
}

func waitErr(family string, err error) error {
	kind := deploy.KindUnavailable
	if errors.Is(err, context.DeadlineExceeded) {
		kind = deploy.KindThrottled
		err = fmt.Errorf("%w: %w", deploy.ErrBudgetWait, err)
	}
	return deploy.Wrap("ratelimit.Wait", kind, err, "waiting for the daemon's "+family+" call budget")
}
