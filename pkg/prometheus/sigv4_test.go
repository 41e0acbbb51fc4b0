package prometheus

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/switchyard/switchyard/pkg/analysis"
	"github.com/switchyard/switchyard/pkg/deploy"
)

// sigv4Server plays Amazon Managed Service for Prometheus' front: it recomputes each request's
// SigV4 signature with the secret it knows and answers 403 when the Authorization header differs.
func sigv4Server(t *testing.T, secret, region string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		auth := r.Header.Get("Authorization")
		want, err := resign(r, body, secret, region)
		if err != nil || auth != want || !strings.Contains(auth, "/"+region+"/aps/aws4_request") {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, `{"message":"signature mismatch: got %q want %q (%v)"}`, auth, want, err)
			return
		}
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"42"]}]}}`)
	}))
}

// resign signs a copy of r holding only the headers r's signature covers, at r's X-Amz-Date.
func resign(r *http.Request, body []byte, secret, region string) (string, error) {
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return "", err
	}
	auth := r.Header.Get("Authorization")
	i := strings.Index(auth, "SignedHeaders=")
	if i < 0 {
		return "", fmt.Errorf("no SignedHeaders in %q", auth)
	}
	signed := strings.Split(strings.SplitN(auth[i+len("SignedHeaders="):], ",", 2)[0], ";")
	cp, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	for _, h := range signed {
		if h != "host" && h != "x-amz-date" && h != "content-length" {
			cp.Header.Set(h, r.Header.Get(h))
		}
	}
	h := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, cp, hex.EncodeToString(h[:]), "aps", region, at); err != nil {
		return "", err
	}
	return cp.Header.Get("Authorization"), nil
}

func TestSigV4Signing(t *testing.T) {
	s := sigv4Server(t, "s3cret", "eu-west-1")
	defer s.Close()
	m := metric(s.URL+"/workspaces/ws-1", deploy.PrometheusQueries{Requests: `sum(r{slot="{{.Slot}}"})`, SigV4: true})
	r := analysis.Request{Metric: m, Base: blue, Canary: green}
	p := New(Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "s3cret", "")})
	got, err := measureOne(t, p, r)
	if err != nil || got.Base.Requests != 42 || got.Canary.Requests != 42 {
		t.Fatalf("signed query: %+v, %v", got, err)
	}
	wrong := New(Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "other", "")})
	if _, err := measureOne(t, wrong, r); deploy.KindOf(err) != deploy.KindForbidden {
		t.Fatalf("wrong secret: %v, want forbidden", err)
	}
	region := New(Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "s3cret", "")})
	if _, err := measureOne(t, region, r); deploy.KindOf(err) != deploy.KindForbidden {
		t.Fatalf("wrong region: %v, want forbidden", err)
	}
	m.Prometheus.SigV4 = false
	if _, err := measureOne(t, p, analysis.Request{Metric: m, Base: blue, Canary: green}); deploy.KindOf(err) != deploy.KindForbidden {
		t.Fatalf("unsigned: %v, want forbidden", err)
	}
}

type failingCreds struct{}

func (failingCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{}, fmt.Errorf("no credentials")
}

func TestSigV4CredentialsFailure(t *testing.T) {
	s := sigv4Server(t, "s3cret", "eu-west-1")
	defer s.Close()
	p := New(Config{Region: "eu-west-1", Credentials: failingCreds{}})
	m := metric(s.URL, deploy.PrometheusQueries{Requests: "r", SigV4: true})
	if _, err := measureOne(t, p, analysis.Request{Metric: m, Base: blue, Canary: green}); deploy.KindOf(err) != deploy.KindUnavailable {
		t.Fatalf("credentials failure: %v, want unavailable", err)
	}
}
