package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/clock"
	"github.com/switchyard/switchyard/pkg/deploy"
)

// Webhook headers. The signature follows Stripe's scheme: "t=<unix seconds>,v1=<hex HMAC-SHA256 of
// "<t>.<body>">", so a receiver checks both the body and its age (replays of old deliveries).
const (
	HeaderSignature = "X-Switchyard-Signature"
	HeaderDelivery  = "X-Switchyard-Delivery" // the message id: the receiver's idempotency key
	HeaderEvent     = "X-Switchyard-Event"    // the event's action
)

// Webhook posts each message as JSON, signed with a shared secret.
type Webhook struct {
	url    string
	secret Secret
	client *http.Client
	clock  clock.Clock
}

// NewWebhook returns a sink posting to url. client nil: a client with DefaultSinkTimeout.
func NewWebhook(url string, secret Secret, client *http.Client, clk clock.Clock) *Webhook {
	if client == nil {
		client = &http.Client{Timeout: DefaultSinkTimeout}
	}
	if clk == nil {
		clk = clock.Real{}
	}
	return &Webhook{url: url, secret: secret, client: client, clock: clk}
}

// Send posts m. A 2xx answer is a delivery; 408, 429 and 5xx are retried; any other status cannot
// succeed by repeating the same request (KindInvalid: recorded at once).
func (h *Webhook) Send(ctx context.Context, m Message) error {
	const op = "webhook.Send"
	body, err := jsonEncode(m)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return deploy.Wrap(op, deploy.KindInvalid, err, "build request")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "switchyard-notify/1")
	req.Header.Set(HeaderDelivery, m.ID)
	req.Header.Set(HeaderEvent, m.Event.Action)
	req.Header.Set(HeaderSignature, Sign(h.secret.Bytes(), h.clock.Now(), body))
	return post(op, h.client, req)
}

// post runs req and classifies the answer. The URL is never put into an error: a Slack URL is a
// credential.
func post(op string, c *http.Client, req *http.Request) error {
	resp, err := c.Do(req)
	if err != nil {
		return deploy.Errorf(op, deploy.KindUnavailable, "post to %s: %s", req.URL.Host, redactURL(err, req))
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		return nil
	case s == http.StatusRequestTimeout || s == http.StatusTooManyRequests || s >= 500:
		return deploy.Errorf(op, deploy.KindUnavailable, "%s answered %d: %s", req.URL.Host, s, strings.TrimSpace(string(snippet)))
	default:
		return deploy.Errorf(op, deploy.KindInvalid, "%s answered %d: %s", req.URL.Host, s, strings.TrimSpace(string(snippet)))
	}
}

func redactURL(err error, req *http.Request) string {
	return strings.ReplaceAll(err.Error(), req.URL.String(), req.URL.Scheme+"://"+req.URL.Host+"/…")
}

// Sign returns the signature header value for body at time t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(webhookMAC(secret, ts, body))
}

func webhookMAC(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// VerifySignature is what a receiver runs: the header must carry a v1 signature of body by secret, in
// constant time, made no more than tolerance before (or after) now.
func VerifySignature(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return fmt.Errorf("signature header malformed")
	}
	if age := now.Sub(time.Unix(sec, 0)); age > tolerance || age < -tolerance {
		return fmt.Errorf("signature timestamp outside the tolerance (%s)", age.Round(time.Second))
	}
	want := webhookMAC(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return fmt.Errorf("signature does not match")
}
