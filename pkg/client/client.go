// Package client is a Go client for switchyard's HTTP API, used by the CLI. Every method mirrors one
// route; non-2xx answers come back as *APIError.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/api"
	"github.com/switchyard/switchyard/pkg/deploy"
)

// APIError is a non-2xx response.
type APIError struct {
	Status   int
	Code     string // a deploy.Kind, or one of api's transport kinds (too_large, ...)
	Message  string
	ActiveID string // the active deployment, on conflicts
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("%s (HTTP %d", e.Message, e.Status)
	if e.Code != "" {
		msg += ", " + e.Code
	}
	msg += ")"
	if e.ActiveID != "" {
		msg += "; active deployment: " + e.ActiveID
	}
	return msg
}

// Kind returns the error's code as a deploy.Kind.
func (e *APIError) Kind() deploy.Kind { return deploy.Kind(e.Code) }

// Client talks to one switchyard daemon.
type Client struct {
	base  *url.URL
	token string
	http  *http.Client
}

// DefaultTimeout bounds one API call; every route answers from the store without waiting on AWS for
// long, so a slow answer means something is wrong.
const DefaultTimeout = 30 * time.Second

// New returns a client for baseURL (e.g. http://127.0.0.1:8080). httpClient may be nil for one with
// sensible timeouts.
func New(baseURL, token string, httpClient *http.Client) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: server URL %q must be http(s)://host[:port]", baseURL)
	}
	if httpClient == nil {
		httpClient = &http.Client{
			Timeout: DefaultTimeout,
			Transport: &http.Transport{
				Proxy:                 http.ProxyFromEnvironment,
				DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
				TLSHandshakeTimeout:   5 * time.Second,
				ResponseHeaderTimeout: DefaultTimeout,
				IdleConnTimeout:       90 * time.Second,
				MaxIdleConns:          4,
			},
		}
	}
	return &Client{base: u, token: token, http: httpClient}, nil
}

// BaseURL returns the server URL the client talks to.
func (c *Client) BaseURL() string { return c.base.String() }

// do sends a request and decodes a 2xx JSON answer into out (when non-nil).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	u, err := url.Parse(c.base.String() + path)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	if query != nil {
		u.RawQuery = query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("client: encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "switchyard-cli")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the method and URL
		}
		return fmt.Errorf("%s %s: %w", method, u.Redacted(), err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read response: %w", method, u.Path, err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return decodeError(res.StatusCode, b)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", method, u.Path, err)
	}
	return nil
}

// seg escapes one path segment taken from user input. "." and ".." would be resolved away by the
// server's path cleaning, so they are refused here instead of silently hitting another route.
func seg(s string) (string, error) {
	if s == "" || s == "." || s == ".." {
		return "", fmt.Errorf("client: invalid path element %q", s)
	}
	return url.PathEscape(s), nil
}

func decodeError(status int, b []byte) error {
	var er api.ErrorResponse
	if err := json.Unmarshal(b, &er); err != nil || er.Error.Message == "" {
		// Not our API (a proxy, a wrong port): show what came back, briefly.
		text := strings.TrimSpace(string(b))
		if len(text) > 200 {
			text = text[:200] + "..."
		}
		if text == "" {
			text = http.StatusText(status)
		}
		return &APIError{Status: status, Message: text}
	}
	return &APIError{Status: status, Code: er.Error.Code, Message: er.Error.Message, ActiveID: er.Error.ActiveDeployment}
}

// IsKind reports whether err is an *APIError of kind k.
func IsKind(err error, k deploy.Kind) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Kind() == k
}

// Deploy options mirror the create body.
type DeployOptions struct {
	Strategy *deploy.Strategy
	Reason   string
	// Force deploys although a guarding alarm is in ALARM (the daemon otherwise answers 412
	// guard_firing); it needs a Reason.
	Force bool
	// StartAt keeps the deployment pending until then (deploy --at).
	StartAt *time.Time
}

// CreateDeployment starts a deployment of tag to service.
func (c *Client) CreateDeployment(ctx context.Context, service, tag string, o DeployOptions) (*deploy.Deployment, error) {
	svc, err := seg(service)
	if err != nil {
		return nil, err
	}
	var d deploy.Deployment
	body := api.CreateDeploymentBody{ImageTag: tag, Strategy: o.Strategy, Reason: o.Reason, Force: o.Force, StartAt: o.StartAt}
	if err := c.do(ctx, http.MethodPost, "/v1/services/"+svc+"/deployments", nil, body, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// Deployment returns one deployment.
func (c *Client) Deployment(ctx context.Context, id string) (*deploy.Deployment, error) {
	p, err := seg(id)
	if err != nil {
		return nil, err
	}
	var d deploy.Deployment
	if err := c.do(ctx, http.MethodGet, "/v1/deployments/"+p, nil, nil, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// Analysis returns a deployment's analysis run.
func (c *Client) Analysis(ctx context.Context, id string) (*deploy.AnalysisRun, error) {
	p, err := seg(id)
	if err != nil {
		return nil, err
	}
	var a deploy.AnalysisRun
	if err := c.do(ctx, http.MethodGet, "/v1/deployments/"+p+"/analysis", nil, nil, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// ListOptions filters a service's history.
type ListOptions struct {
	ActiveOnly bool
	Limit      int // 0: server default
}

// Deployments returns a service's deployments, newest first.
func (c *Client) Deployments(ctx context.Context, service string, o ListOptions) ([]*deploy.Deployment, error) {
	svc, err := seg(service)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	if o.ActiveOnly {
		q.Set("active", "true")
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	var ds []*deploy.Deployment
	if err := c.do(ctx, http.MethodGet, "/v1/services/"+svc+"/deployments", q, nil, &ds); err != nil {
		return nil, err
	}
	return ds, nil
}

// Services returns every configured service with its live weights.
func (c *Client) Services(ctx context.Context) ([]deploy.ServiceStatus, error) {
	var ss []deploy.ServiceStatus
	if err := c.do(ctx, http.MethodGet, "/v1/services", nil, nil, &ss); err != nil {
		return nil, err
	}
	return ss, nil
}

// Events returns a deployment's events with Seq > after, oldest first.
func (c *Client) Events(ctx context.Context, id string, after int64) ([]deploy.Event, error) {
	p, err := seg(id)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	if after > 0 {
		q.Set("after", strconv.FormatInt(after, 10))
	}
	var evs []deploy.Event
	if err := c.do(ctx, http.MethodGet, "/v1/deployments/"+p+"/events", q, nil, &evs); err != nil {
		return nil, err
	}
	return evs, nil
}

func (c *Client) action(ctx context.Context, id, action, reason string) (*deploy.Deployment, error) {
	p, err := seg(id)
	if err != nil {
		return nil, err
	}
	var d deploy.Deployment
	if err := c.do(ctx, http.MethodPost, "/v1/deployments/"+p+"/"+action, nil, api.ActionBody{Reason: reason}, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// Abort rolls a deployment back.
func (c *Client) Abort(ctx context.Context, id, reason string) (*deploy.Deployment, error) {
	return c.action(ctx, id, "abort", reason)
}

// Pause holds a deployment's weights where they are.
func (c *Client) Pause(ctx context.Context, id, reason string) (*deploy.Deployment, error) {
	return c.action(ctx, id, "pause", reason)
}

// Resume continues a paused deployment.
func (c *Client) Resume(ctx context.Context, id, reason string) (*deploy.Deployment, error) {
	return c.action(ctx, id, "resume", reason)
}

// Promote skips a deployment's remaining steps.
func (c *Client) Promote(ctx context.Context, id, reason string) (*deploy.Deployment, error) {
	return c.action(ctx, id, "promote", reason)
}

// Reload asks the daemon to re-read its configuration.
func (c *Client) Reload(ctx context.Context, reason string) error {
	return c.do(ctx, http.MethodPost, "/v1/reload", nil, api.ActionBody{Reason: reason}, nil)
}

// Health checks /healthz.
func (c *Client) Health(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/healthz", nil, nil, nil)
}

// Ready checks /readyz; a not-ready daemon gives an *APIError with status 503.
func (c *Client) Ready(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/readyz", nil, nil, nil)
}
