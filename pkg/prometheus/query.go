package prometheus

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// SigningName is the SigV4 service name of Amazon Managed Service for Prometheus.
const SigningName = "aps"

// qop names one query in errors (the provider's own errors are op).
const qop = "prometheus.Query"

// maxAnswer bounds the body read from Prometheus: a counter query answers a few hundred bytes; a
// query that returns megabytes is wrong.
const maxAnswer = 8 << 20

type sample struct {
	Labels map[string]string
	Value  float64
}

// apiResponse is the Prometheus HTTP API envelope.
type apiResponse struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

// query runs one instant query at now (POST /api/v1/query, form-encoded, so long queries fit).
func (p *Provider) query(ctx context.Context, now time.Time, q *deploy.PrometheusQueries, expr string) ([]sample, error) {
	select {
	case p.sem <- struct{}{}:
		defer func() { <-p.sem }()
	case <-ctx.Done():
		return nil, transportErr(ctx.Err())
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	body := url.Values{"query": {expr}, "time": {strconv.FormatFloat(float64(now.UnixMilli())/1000, 'f', 3, 64)}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(q.URL, "/")+"/api/v1/query", strings.NewReader(body))
	if err != nil {
		return nil, deploy.Wrap(qop, deploy.KindInvalid, err, "prometheus url")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if q.SigV4 {
		if err := p.sign(ctx, req, body, now); err != nil {
			return nil, err
		}
	}
	resp, err := p.cfg.HTTP.Do(req)
	if err != nil {
		return nil, transportErr(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, transportErr(err)
	}
	var ans apiResponse
	decodeErr := json.Unmarshal(raw, &ans)
	if resp.StatusCode == http.StatusOK && (decodeErr != nil || ans.Status != "success") {
		return nil, deploy.Errorf(qop, deploy.KindInvalid, "not a Prometheus API answer (check the url): %.200q", raw)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, answerErr(resp.StatusCode, ans, raw)
	}
	return parseResult(ans.Data.ResultType, ans.Data.Result)
}

func (p *Provider) sign(ctx context.Context, req *http.Request, body string, now time.Time) error {
	creds, err := p.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return deploy.Wrap(qop, deploy.KindUnavailable, err, "retrieve AWS credentials for SigV4")
	}
	h := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(h[:]), SigningName, p.cfg.Region, now); err != nil {
		return deploy.Wrap(qop, deploy.KindInternal, err, "sigv4 sign")
	}
	return nil
}

// transportErr classifies a request that got no answer.
func transportErr(err error) error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return deploy.Wrap(qop, deploy.KindTimeout, err, "no answer from prometheus in time")
	}
	return deploy.Wrap(qop, deploy.KindUnavailable, err, "prometheus unreachable")
}

// answerErr classifies an error answer: by Prometheus' errorType when the body is an API envelope,
// else by HTTP status (a proxy or AMP's own front answered).
func answerErr(status int, ans apiResponse, raw []byte) error {
	msg := ans.Error
	if msg == "" {
		msg = strings.TrimSpace(string(raw[:min(len(raw), 300)]))
	}
	kind := deploy.KindInternal
	switch {
	case status == http.StatusTooManyRequests:
		kind = deploy.KindThrottled
	case status == http.StatusUnauthorized:
		kind = deploy.KindUnauthorized
	case status == http.StatusForbidden:
		kind = deploy.KindForbidden
	case ans.ErrorType == "timeout":
		kind = deploy.KindTimeout
	case ans.ErrorType == "bad_data" || ans.ErrorType == "execution":
		kind = deploy.KindInvalid // the query is wrong (or too big for the server): a human must fix it
	case ans.ErrorType == "canceled" || ans.ErrorType == "unavailable" || ans.ErrorType == "internal":
		kind = deploy.KindUnavailable
	case ans.ErrorType == "not_found" || status == http.StatusNotFound:
		kind = deploy.KindNotFound
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		kind = deploy.KindInvalid
	case status >= 500:
		kind = deploy.KindUnavailable
	}
	return deploy.Errorf(qop, kind, "HTTP %d %s: %s", status, ans.ErrorType, msg)
}

// parseResult reads a scalar or an instant vector.
func parseResult(typ string, raw json.RawMessage) ([]sample, error) {
	switch typ {
	case "scalar":
		var v [2]any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, deploy.Errorf(qop, deploy.KindInvalid, "scalar result: %v", err)
		}
		f, err := value(v[1])
		if err != nil {
			return nil, err
		}
		return []sample{{Value: f}}, nil
	case "vector":
		var vs []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		}
		if err := json.Unmarshal(raw, &vs); err != nil {
			return nil, deploy.Errorf(qop, deploy.KindInvalid, "vector result: %v", err)
		}
		out := make([]sample, len(vs))
		for i, s := range vs {
			f, err := value(s.Value[1])
			if err != nil {
				return nil, err
			}
			out[i] = sample{Labels: s.Metric, Value: f}
		}
		return out, nil
	}
	return nil, deploy.Errorf(qop, deploy.KindInvalid, "result type %q: the query must return a scalar or an instant vector", typ)
}

// value parses a sample value; NaN (a ratio of nothing, a histogram_quantile) is no counter.
func value(v any) (float64, error) {
	s, ok := v.(string)
	if !ok {
		return 0, deploy.Errorf(qop, deploy.KindInvalid, "sample value %v is not a string", v)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		return 0, deploy.Errorf(qop, deploy.KindInvalid, "sample value %q is not a counter", s)
	}
	return f, nil
}
