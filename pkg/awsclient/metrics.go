package awsclient

import (
	"context"
	"errors"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/switchyard/switchyard/pkg/metrics"
)

const metricsMiddlewareID = "switchyard.AWSMetrics"

// metricsMiddleware counts every API call and every failed one. It sits first in the Finalize step, i.e.
// outside the retry loop: one count per operation the daemon asked for, and an error only when the call
// failed after the SDK's retries (what the controller actually sees).
func metricsMiddleware(m *metrics.Metrics, service string) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		if m == nil {
			return nil
		}
		return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc(metricsMiddlewareID,
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				op := awsmiddleware.GetOperationName(ctx)
				m.AWSCalls.WithLabelValues(service, op).Inc()
				out, md, err := next.HandleFinalize(ctx, in)
				if err != nil {
					m.AWSErrors.WithLabelValues(service, op, errorCode(err)).Inc()
				}
				return out, md, err
			}), middleware.Before)
	}
}

// errorCode returns a low-cardinality label for err: the AWS error code when the service answered,
// otherwise a coarse class.
func errorCode(err error) string {
	var apiErr smithy.APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.ErrorCode() != "":
		return apiErr.ErrorCode()
	case errors.Is(err, context.DeadlineExceeded):
		return "Timeout"
	case errors.Is(err, context.Canceled):
		return "Canceled"
	default:
		return "NetworkError"
	}
}
