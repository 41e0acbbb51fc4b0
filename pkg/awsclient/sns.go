package awsclient

import (
	"context"
	"errors"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/pkg/config"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/metrics"
	"github.com/switchyard/switchyard/pkg/ratelimit"
)

// ServiceSNS labels Amazon SNS calls (metrics, rate-limit family, aws.endpoints key). The limiter has
// no default budget for it (a family without a budget is not limited); aws.rate_limits.sns sets one
// once package ratelimit knows the family.
const ServiceSNS = "sns"

// SNSAPI is the part of the SNS API the notifications adapter uses.
type SNSAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// SNS implements notify.Publisher.
type SNS struct{ api SNSAPI }

// NewSNS returns an adapter using api (an *sns.Client in production).
func NewSNS(api SNSAPI) *SNS { return &SNS{api: api} }

// NewSNSClient builds an SNS client like the daemon's other clients: the same credentials, Region,
// retryer and metrics, waiting for the limiter's sns family. endpoint overrides the client's endpoint
// (aws.endpoints.sns; empty: the configuration's base endpoint).
func NewSNSClient(ac aws.Config, endpoint string, m *metrics.Metrics, lim *ratelimit.Limiter) *sns.Client {
	if ac.Retryer == nil {
		ac.Retryer = retryer(ac.RetryMaxAttempts)
	}
	return sns.NewFromConfig(ac, func(o *sns.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		o.APIOptions = append(o.APIOptions, metricsMiddleware(m, ServiceSNS), rateLimitMiddleware(lim, ServiceSNS))
	})
}

// snsCodes are SNS's own error codes that the shared table (errors.go) does not know: a publish that
// cannot succeed by repetition is recorded at once instead of retried.
var snsCodes = map[string]deploy.Kind{
	"InvalidParameter": deploy.KindInvalid, "InvalidParameterValue": deploy.KindInvalid,
	"NotFound": deploy.KindNotFound, "AuthorizationError": deploy.KindForbidden,
	"KMSAccessDenied": deploy.KindForbidden, "KMSDisabled": deploy.KindForbidden,
}

// Publish sends message to topicARN with subject and string message attributes. Errors carry the
// project's kinds (throttled, unavailable, not_found, invalid), so the dispatcher retries what can
// succeed and records the rest.
func (s *SNS) Publish(ctx context.Context, topicARN, subject, message string, attributes map[string]string) (string, error) {
	const op = "sns.Publish"
	in := &sns.PublishInput{TopicArn: aws.String(topicARN), Message: aws.String(message)}
	if subject != "" {
		in.Subject = aws.String(subject)
	}
	if len(attributes) > 0 {
		keys := make([]string, 0, len(attributes))
		for k := range attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		in.MessageAttributes = make(map[string]snstypes.MessageAttributeValue, len(keys))
		for _, k := range keys {
			if attributes[k] == "" {
				continue // SNS refuses an attribute without a value
			}
			in.MessageAttributes[k] = snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(attributes[k])}
		}
	}
	out, err := s.api.Publish(ctx, in)
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		if kind, ok := snsCodes[apiErr.ErrorCode()]; ok {
			return "", deploy.Wrap(op, kind, err, "publish to "+topicARN)
		}
	}
	if err != nil {
		return "", mapErr(op, err, "publish to "+topicARN)
	}
	return aws.ToString(out.MessageId), nil
}

// SNSPublisher builds the SNS adapter on the clients' credentials, Region and limiter, with the
// configuration's endpoint override (aws.endpoint_url, or aws.endpoints.sns once the configuration
// accepts that key) and retry count.
func (c *Clients) SNSPublisher(cfg config.AWS, m *metrics.Metrics) *SNS {
	ac := aws.Config{Region: c.Region, Credentials: c.Credentials}
	if cfg.EndpointURL != "" {
		ac.BaseEndpoint = aws.String(cfg.EndpointURL)
	}
	if cfg.MaxRetries > 0 {
		ac.RetryMaxAttempts = cfg.MaxRetries + 1
	}
	return NewSNS(NewSNSClient(ac, cfg.Endpoints[ServiceSNS], m, c.Limiter))
}
