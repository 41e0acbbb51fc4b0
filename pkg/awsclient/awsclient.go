// Package awsclient implements switchyard's ports (deploy.TrafficRouter, deploy.Containers,
// deploy.Alarms, deploy.Images, deploy.Scaling) with aws-sdk-go-v2. Each adapter talks to the SDK
// through a narrow interface holding only the calls it makes, so that the action-preserving and
// batching logic is unit tested with small fakes and integration tested against the kumo emulator (and
// test/ecsfake for ECS and Application Auto Scaling, which kumo lacks).
package awsclient

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/switchyard/switchyard/pkg/config"
	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/metrics"
	"github.com/switchyard/switchyard/pkg/ratelimit"
)

// Service labels: the keys of config.AWS.Endpoints and the "service" label of the AWS metrics.
const (
	ServiceECS        = "ecs"
	ServiceELBv2      = "elbv2"
	ServiceCloudWatch = "cloudwatch"
	ServiceECR        = "ecr"
	ServiceDynamoDB   = "dynamodb"
	// ServiceAutoScaling is Application Auto Scaling (ECS service desired count).
	ServiceAutoScaling = "autoscaling"
)

// Clients holds the port implementations and the raw SDK clients they use.
type Clients struct {
	Router     *Router     // deploy.TrafficRouter
	Containers *Containers // deploy.Containers
	Alarms     *Alarms     // deploy.Alarms
	Images     *Images     // deploy.Images
	Scaling    *Scaling    // deploy.Scaling

	ELBv2       *elbv2.Client
	ECS         *ecs.Client
	CloudWatch  *cloudwatch.Client
	ECR         *ecr.Client
	DynamoDB    *dynamodb.Client
	AutoScaling *applicationautoscaling.Client

	// Credentials and Region are the ones every client above uses (Prometheus' SigV4 signing shares them).
	Credentials aws.CredentialsProvider
	Region      string

	// Limiter holds the daemon's call budgets, one per API family; every call of the clients above waits
	// for it (nil: no limit).
	Limiter *ratelimit.Limiter
}

var (
	_ deploy.TrafficRouter = (*Router)(nil)
	_ deploy.Containers    = (*Containers)(nil)
	_ deploy.Alarms        = (*Alarms)(nil)
	_ deploy.Images        = (*Images)(nil)
	_ deploy.Scaling       = (*Scaling)(nil)
)

// New builds the SDK clients from the daemon configuration. With StaticCredentials the keys come only
// from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN and nothing else is consulted (no
// shared files, no instance metadata); otherwise the SDK's default chain runs (in production: the ECS
// task role). EndpointURL overrides every service's endpoint, Endpoints[svc] one service's. Every call
// waits for its family's budget (config RateLimits over ratelimit.Defaults, on the wall clock), calls
// whose ctx is deploy.Urgent first.
func New(ctx context.Context, cfg config.AWS, m *metrics.Metrics) (*Clients, error) {
	region := cfg.Region
	if region == "" {
		region = config.DefaultRegion
	}
	var ac aws.Config
	if cfg.StaticCredentials {
		id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
		if id == "" || secret == "" {
			return nil, fmt.Errorf("awsclient: aws.static_credentials is set but AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY is empty")
		}
		ac = aws.Config{
			Region:      region,
			Credentials: credentials.NewStaticCredentialsProvider(id, secret, os.Getenv("AWS_SESSION_TOKEN")),
		}
	} else {
		var err error
		ac, err = awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region))
		if err != nil {
			return nil, fmt.Errorf("awsclient: load AWS configuration: %w", err)
		}
	}
	if cfg.EndpointURL != "" {
		ac.BaseEndpoint = aws.String(cfg.EndpointURL)
	}
	if cfg.MaxRetries > 0 {
		ac.RetryMaxAttempts = cfg.MaxRetries + 1
	}
	for svc, url := range cfg.Endpoints {
		switch svc {
		case ServiceECS, ServiceELBv2, ServiceCloudWatch, ServiceECR, ServiceDynamoDB, ServiceAutoScaling, ServiceSNS:
		default:
			return nil, fmt.Errorf("awsclient: aws.endpoints.%s: unknown service", svc)
		}
		if strings.TrimSpace(url) == "" {
			return nil, fmt.Errorf("awsclient: aws.endpoints.%s: empty URL", svc)
		}
	}
	lim, err := ratelimit.New(ratelimit.RealClock{}, limitsFromConfig(cfg.RateLimits))
	if err != nil {
		return nil, fmt.Errorf("awsclient: aws.rate_limits: %w", err)
	}
	return build(ac, cfg.Endpoints, m, lim), nil
}

// Option adjusts FromAWSConfig.
type Option func(*options)

type options struct{ limiter *ratelimit.Limiter }

// WithLimiter makes every call wait for l's budgets.
func WithLimiter(l *ratelimit.Limiter) Option { return func(o *options) { o.limiter = l } }

// FromAWSConfig builds the clients from a ready SDK configuration (tests: emulator.Config); without
// WithLimiter the calls are not rate limited.
func FromAWSConfig(ac aws.Config, m *metrics.Metrics, opts ...Option) *Clients {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return build(ac, nil, m, o.limiter)
}

func build(ac aws.Config, endpoints map[string]string, m *metrics.Metrics, lim *ratelimit.Limiter) *Clients {
	if ac.Retryer == nil {
		ac.Retryer = retryer(ac.RetryMaxAttempts)
	}
	// endpoint returns the per-service override, if any; the SDK falls back to ac.BaseEndpoint.
	endpoint := func(svc string) *string {
		if u := endpoints[svc]; u != "" {
			return aws.String(u)
		}
		return nil
	}
	c := &Clients{
		Credentials: ac.Credentials, Region: ac.Region,
		ELBv2: elbv2.NewFromConfig(ac, func(o *elbv2.Options) {
			if u := endpoint(ServiceELBv2); u != nil {
				o.BaseEndpoint = u
			}
			o.APIOptions = append(o.APIOptions, metricsMiddleware(m, ServiceELBv2), rateLimitMiddleware(lim, ServiceELBv2))
		}),
		ECS: ecs.NewFromConfig(ac, func(o *ecs.Options) {
			if u := endpoint(ServiceECS); u != nil {
				o.BaseEndpoint = u
			}
			o.APIOptions = append(o.APIOptions, metricsMiddleware(m, ServiceECS), rateLimitMiddleware(lim, ServiceECS))
		}),
		CloudWatch: cloudwatch.NewFromConfig(ac, func(o *cloudwatch.Options) {
			if u := endpoint(ServiceCloudWatch); u != nil {
				o.BaseEndpoint = u
			}
			o.APIOptions = append(o.APIOptions, metricsMiddleware(m, ServiceCloudWatch), rateLimitMiddleware(lim, ServiceCloudWatch))
		}),
		ECR: ecr.NewFromConfig(ac, func(o *ecr.Options) {
			if u := endpoint(ServiceECR); u != nil {
				o.BaseEndpoint = u
			}
			o.APIOptions = append(o.APIOptions, metricsMiddleware(m, ServiceECR), rateLimitMiddleware(lim, ServiceECR))
		}),
		DynamoDB: dynamodb.NewFromConfig(ac, func(o *dynamodb.Options) {
			if u := endpoint(ServiceDynamoDB); u != nil {
				o.BaseEndpoint = u
			}
			o.APIOptions = append(o.APIOptions, metricsMiddleware(m, ServiceDynamoDB), rateLimitMiddleware(lim, ServiceDynamoDB))
		}),
		AutoScaling: applicationautoscaling.NewFromConfig(ac, func(o *applicationautoscaling.Options) {
			if u := endpoint(ServiceAutoScaling); u != nil {
				o.BaseEndpoint = u
			}
			o.APIOptions = append(o.APIOptions, metricsMiddleware(m, ServiceAutoScaling), rateLimitMiddleware(lim, ServiceAutoScaling))
		}),
	}
	c.Limiter = lim
	c.Router = NewRouter(c.ELBv2)
	c.Containers = NewContainers(c.ECS)
	c.Alarms = NewAlarms(c.CloudWatch)
	c.Images = NewImages(c.ECR, ac.Region)
	c.Scaling = NewScaling(c.AutoScaling)
	return c
}
