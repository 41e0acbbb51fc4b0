package awsclient

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awsratelimit "github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go/middleware"

	"github.com/switchyard/switchyard/pkg/config"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/ratelimit"
)

const rateLimitMiddlewareID = "switchyard.RateLimit"

// rateLimitMiddleware makes every attempt of every call of one client wait for its family's budget. It
// sits in the Finalize step right after the SDK's retry middleware, i.e. inside the retry loop: a retry
// takes a token like a first attempt, so retries of a throttled call cannot outrun the budget.
func rateLimitMiddleware(l *ratelimit.Limiter, family string) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		if l == nil {
			return nil
		}
		mw := middleware.FinalizeMiddlewareFunc(rateLimitMiddlewareID,
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if err := l.Wait(ctx, family); err != nil {
					op := family + "." + awsmiddleware.GetOperationName(ctx)
					return middleware.FinalizeOutput{}, middleware.Metadata{}, budgetError{deploy.Wrap(op, "", err, "")}
				}
				return next.HandleFinalize(ctx, in)
			})
		if _, ok := stack.Finalize.Get("Retry"); ok {
			return stack.Finalize.Insert(mw, "Retry", middleware.After)
		}
		return stack.Finalize.Add(mw, middleware.After)
	}
}

// retryer is the SDK's standard retryer (exponential back-off with jitter, MaxAttempts attempts) without
// its retry quota. That quota is one bucket of 500 tokens per client, 5 per retry (10 after a
// time-out): a few dozen throttled calls across all deployments would drain it, after which every
// failure returns at once instead of being retried, turning back-pressure into hard errors. The daemon's
// own limiter (rateLimitMiddleware) bounds the attempt rate instead, and adaptive mode is not used
// because its client-side rate would be a second, per-client bucket that knows nothing of priorities.
func retryer(maxAttempts int) func() aws.Retryer {
	return func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.RateLimiter = awsratelimit.None
			if maxAttempts > 0 {
				o.MaxAttempts = maxAttempts
			}
		})
	}
}

// limitsFromConfig converts the configuration's budgets.
func limitsFromConfig(in map[string]config.RateLimit) map[string]ratelimit.Limit {
	out := make(map[string]ratelimit.Limit, len(in))
	for f, l := range in {
		out[f] = ratelimit.Limit{Rate: l.Rate, Burst: l.Burst}
	}
	return out
}

// budgetError is a wait for the budget that ended with its ctx. The SDK would take the deadline inside
// it for a retryable time-out and replace it with its own "request canceled" error; the call is over.
type budgetError struct{ err error }

func (e budgetError) Error() string        { return e.err.Error() }
func (e budgetError) Unwrap() error        { return e.err }
func (e budgetError) RetryableError() bool { return false }
