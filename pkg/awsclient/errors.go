package awsclient

import (
	"context"
	"errors"

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
	unavailableCodes = map[string]bool{
		"Throttling": true, "ThrottlingException": true, "ThrottledException": true, "RequestLimitExceeded": true,
		"TooManyRequestsException": true, "RequestThrottled": true, "RequestThrottledException": true,
		"ProvisionedThroughputExceededException": true, "LimitExceededException": true,
		"ServiceUnavailable": true, "ServiceUnavailableException": true, "InternalFailure": true,
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
		return de.Kind
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
		if errors.As(err, &re) && (re.HTTPStatusCode() >= 500 || re.HTTPStatusCode() == 429) {
			return deploy.KindUnavailable
		}
		if apiErr.ErrorFault() == smithy.FaultServer {
			return deploy.KindUnavailable
		}
		// An AWS answer we have no rule for (e.g. AccessDenied): not retryable, needs a human.
		return deploy.KindInternal
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && (re.HTTPStatusCode() >= 500 || re.HTTPStatusCode() == 429) {
		return deploy.KindUnavailable
	}
	// No answer from AWS at all: connection refused/reset, DNS, retry quota exhausted.
	return deploy.KindUnavailable
}
