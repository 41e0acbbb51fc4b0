package awsclient

import (
	"context"
	"errors"

	awsratelimit "github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// Error codes, by the kind the controller should see. Codes differ per service (elbv2 "RuleNotFound",
// ECS "ServiceNotFoundException", CloudWatch "ResourceNotFound"), so one table covers them all.
var (
	notFoundCodes = map[string]bool{
		"ListenerNotFound": true, "RuleNotFound": true, "TargetGroupNotFound": true, "LoadBalancerNotFound": true,
		"ServiceNotFoundException": true, "ClusterNotFoundException": true, "ServiceNotActiveException": true,
		"RepositoryNotFoundException": true, "ImageNotFoundException": true,
		"ResourceNotFound": true, "ResourceNotFoundException": true,
	}
	invalidCodes = map[string]bool{
		"ValidationError": true, "ValidationException": true, "InvalidParameterException": true,
		"InvalidParameterValue": true, "InvalidParameterValueException": true, "InvalidParameterCombination": true,
		"InvalidConfigurationRequest": true, "InvalidTarget": true, "TooManyTargetGroups": true,
		"TooManyActions": true, "TooManyTags": true, "ClientException": true, "InvalidLoadBalancerAction": true,
		"IncompatibleProtocols": true, "TargetGroupAssociationLimit": true,
	}
	// throttledCodes are AWS asking for fewer calls (the SDK's own throttle list, retry.DefaultThrottleErrorCodes,
	// without LimitExceededException, which several services use for resource counts).
	throttledCodes = map[string]bool{
		"Throttling": true, "ThrottlingException": true, "ThrottledException": true, "RequestLimitExceeded": true,
		"TooManyRequestsException": true, "RequestThrottled": true, "RequestThrottledException": true,
		"ProvisionedThroughputExceededException": true, "BandwidthLimitExceeded": true, "SlowDown": true,
		"TransactionInProgressException": true, "EC2ThrottledException": true,
	}
	unavailableCodes = map[string]bool{
		"LimitExceededException": true,
		"ServiceUnavailable":     true, "ServiceUnavailableException": true, "InternalFailure": true,
		"InternalError": true, "InternalServerError": true, "InternalServiceError": true, "ServerException": true,
		"PriorRequestNotComplete": true, "RequestTimeout": true, "RequestTimeoutException": true,
	}
)

// mapErr turns an SDK error into a *deploy.Error of the right kind. op names the call
// ("elbv2.ModifyListener"); msg says what was being done, for humans.
func mapErr(op string, err error, msg string) error {
	if err == nil {
		return nil
	}
	return deploy.Wrap(op, kindOf(err), err, msg)
}

func kindOf(err error) deploy.Kind {
	var de *deploy.Error
	if errors.As(err, &de) && de.Kind != "" {
		return de.Kind // e.g. the daemon's own rate limiter
	}
	if isThrottle(err) {
		return deploy.KindThrottled
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return deploy.KindTimeout
	}
	if errors.Is(err, context.Canceled) {
		return deploy.KindUnavailable
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code := apiErr.ErrorCode()
		switch {
		case notFoundCodes[code]:
			return deploy.KindNotFound
		case invalidCodes[code]:
			return deploy.KindInvalid
		case unavailableCodes[code]:
			return deploy.KindUnavailable
		}
		var re *smithyhttp.ResponseError
		if errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
			return deploy.KindUnavailable
		}
		if apiErr.ErrorFault() == smithy.FaultServer {
			return deploy.KindUnavailable
		}
		// An AWS answer we have no rule for (e.g. AccessDenied): not retryable, needs a human.
		return deploy.KindInternal
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
		return deploy.KindUnavailable
	}
	// No answer from AWS at all: connection refused/reset, DNS, retry quota exhausted.
	return deploy.KindUnavailable
}

// isThrottle reports AWS throttling anywhere in err's chain: a throttling error code, an HTTP 429, or the
// SDK refusing to retry because its retry quota ran out (which it joins to the error that needed the
// retry, so a throttle behind it is found by the code check first).
func isThrottle(err error) bool {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && throttledCodes[apiErr.ErrorCode()] {
		return true
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() == 429 {
		return true
	}
	var qe awsratelimit.QuotaExceededError
	return errors.As(err, &qe)
}
