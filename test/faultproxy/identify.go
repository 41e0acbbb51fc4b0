// Package faultproxy is an HTTP reverse proxy for tests that sits between the switchyard daemon and one
// AWS stand-in (kumo or the ECS stand-in). It names every AWS operation it forwards, counts calls as
// they appear on the wire (SDK retries included: they count against real AWS quotas too), and injects
// faults with the error shapes real AWS sends: query-protocol XML (ELBv2), JSON with x-amzn-ErrorType
// (ECS, ECR, Application Auto Scaling, DynamoDB) and Smithy RPCv2 CBOR (CloudWatch in the SDK this
// module uses). It can add latency, answer and then drop the connection, and emulate a token bucket.
package faultproxy

import (
	"net/http"
	"net/url"
	"strings"
)

// Protocol is the wire protocol of one call; it decides the shape of an injected error.
type Protocol int

const (
	ProtocolUnknown Protocol = iota
	ProtocolQuery            // form-encoded POST with Action=, XML answers (ELBv2, CloudWatch before CBOR)
	ProtocolJSON             // awsJson1_0/1_1: X-Amz-Target header, JSON answers
	ProtocolCBOR             // Smithy RPCv2 CBOR: POST /service/<svc>/operation/<op>
)

func (p Protocol) String() string {
	return [...]string{"unknown", "query", "json", "cbor"}[p]
}

// Call is one request as the proxy identified it.
type Call struct {
	Service   string // short name: elbv2, cloudwatch, ecs, autoscaling, ecr, dynamodb (or the signing name)
	Operation string // e.g. DescribeListeners
	Protocol  Protocol
}

// Key is the name counts are kept under: "service:Operation".
func (c Call) Key() string { return c.Service + ":" + c.Operation }

// signingNames maps SigV4 signing names to the short service names used in keys.
var signingNames = map[string]string{
	"elasticloadbalancing":    "elbv2",
	"monitoring":              "cloudwatch",
	"ecs":                     "ecs",
	"application-autoscaling": "autoscaling",
	"ecr":                     "ecr",
	"dynamodb":                "dynamodb",
}

// targetPrefixes maps JSON/CBOR service shape names to short service names, for unsigned requests.
var targetPrefixes = map[string]string{
	"AmazonEC2ContainerServiceV20141113":   "ecs",
	"AnyScaleFrontendService":              "autoscaling",
	"AmazonEC2ContainerRegistry_V20150921": "ecr",
	"DynamoDB_20120810":                    "dynamodb",
	"GraniteServiceVersion20100801":        "cloudwatch",
}

// queryVersions maps query-protocol API versions to short service names, for unsigned requests.
var queryVersions = map[string]string{"2015-12-01": "elbv2", "2010-08-01": "cloudwatch"}

// identify names the call from its headers, path and (form) body; the body is only read, never changed.
func identify(r *http.Request, body []byte) Call {
	c := Call{Service: signingService(r.Header.Get("Authorization"))}
	var shape string
	switch {
	case r.Header.Get("X-Amz-Target") != "":
		c.Protocol = ProtocolJSON
		shape, c.Operation, _ = strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	case strings.HasPrefix(r.URL.Path, "/service/") && strings.Contains(r.URL.Path, "/operation/"):
		c.Protocol = ProtocolCBOR
		rest := strings.TrimPrefix(r.URL.Path, "/service/")
		shape, c.Operation, _ = strings.Cut(rest, "/operation/")
	case strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		c.Protocol = ProtocolQuery
		if form, err := url.ParseQuery(string(body)); err == nil {
			c.Operation = form.Get("Action")
			if c.Service == "" {
				c.Service = queryVersions[form.Get("Version")]
			}
		}
	}
	if c.Service == "" {
		c.Service = targetPrefixes[shape]
	}
	if c.Service == "" {
		c.Service = "unknown"
	}
	if c.Operation == "" {
		c.Operation = r.Method + " " + r.URL.Path
	}
	return c
}

// signingService reads the service from a SigV4 Authorization header's credential scope
// (Credential=AKID/20260101/us-east-1/elasticloadbalancing/aws4_request).
func signingService(auth string) string {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/")
	if len(parts) < 5 {
		return ""
	}
	if s, ok := signingNames[parts[3]]; ok {
		return s
	}
	return parts[3]
}
