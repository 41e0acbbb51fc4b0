// Package healthfront is a thin HTTP front to kumo for the daemon: it answers ELBv2
// DescribeTargetHealth (query protocol, the XML AWS sends) from the data plane's real health checks,
// since kumo reports every registered target healthy, and forwards every other request to kumo
// unchanged.
package healthfront

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/test/dataplane"
)

// Options configures Start.
type Options struct {
	Upstream string // kumo's URL, e.g. http://127.0.0.1:4566
	// Health returns a target group's targets as the data plane sees them; false: the data plane
	// does not follow that group and kumo answers.
	Health func(tgARN string) ([]dataplane.Target, bool)
}

// Front is a running front.
type Front struct {
	url      string
	srv      *http.Server
	answered atomic.Int64
}

// Start listens on a free loopback port.
func Start(o Options) (*Front, error) {
	up, err := url.Parse(o.Upstream)
	if err != nil || up.Host == "" {
		return nil, fmt.Errorf("healthfront: upstream %q: %v", o.Upstream, err)
	}
	if o.Health == nil {
		return nil, errors.New("healthfront: Health is required")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(up); r.Out.Host = r.In.Host }}
	f := &Front{url: "http://" + l.Addr().String()}
	f.srv = &http.Server{Handler: f.handler(o.Health, proxy), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = f.srv.Serve(l) }()
	return f, nil
}

// URL is the front's address, to use as the daemon's ELBv2 endpoint.
func (f *Front) URL() string { return f.url }

// Answered counts the DescribeTargetHealth calls the front answered itself.
func (f *Front) Answered() int64 { return f.answered.Load() }

// Close stops the front.
func (f *Front) Close() { _ = f.srv.Close() }

func (f *Front) handler(health func(string) ([]dataplane.Target, bool), proxy http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			r.Body.Close()
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			// Whatever is not answered here goes to kumo byte for byte.
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
			form, err := url.ParseQuery(string(body))
			if err == nil && form.Get("Action") == "DescribeTargetHealth" {
				if targets, ok := health(form.Get("TargetGroupArn")); ok {
					f.answered.Add(1)
					writeXML(w, describe(targets, requested(form)))
					return
				}
			}
		}
		proxy.ServeHTTP(w, r)
	})
}

type key struct {
	id   string
	port int32
}

// requested reads Targets.member.N.Id/Port; nil means all registered targets.
func requested(form url.Values) []key {
	var out []key
	for i := 1; ; i++ {
		id := form.Get(fmt.Sprintf("Targets.member.%d.Id", i))
		if id == "" {
			return out
		}
		port, _ := strconv.Atoi(form.Get(fmt.Sprintf("Targets.member.%d.Port", i)))
		out = append(out, key{id, int32(port)})
	}
}

// describe selects the asked-for targets; one that is not registered is `unused` with
// Target.NotRegistered, as the ALB answers.
func describe(all []dataplane.Target, want []key) []dataplane.Target {
	if want == nil {
		return all
	}
	var out []dataplane.Target
	for _, k := range want {
		found := false
		for _, t := range all {
			if t.ID == k.id && (k.port == 0 || t.Port == k.port) {
				out, found = append(out, t), true
			}
		}
		if !found {
			out = append(out, dataplane.Target{ID: k.id, Port: k.port, State: "unused", Reason: "Target.NotRegistered",
				Description: "Target is not registered to the target group"})
		}
	}
	return out
}

const namespace = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"

type response struct {
	XMLName xml.Name `xml:"DescribeTargetHealthResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		Descriptions struct {
			Members []member `xml:"member"`
		} `xml:"TargetHealthDescriptions"` // present even when empty, as AWS sends it
	} `xml:"DescribeTargetHealthResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

type member struct {
	HealthCheckPort string       `xml:"HealthCheckPort,omitempty"`
	TargetHealth    targetHealth `xml:"TargetHealth"`
	Target          target       `xml:"Target"`
}

type targetHealth struct {
	Description string `xml:"Description,omitempty"`
	State       string `xml:"State"`
	Reason      string `xml:"Reason,omitempty"`
}

type target struct {
	Port int32  `xml:"Port,omitempty"`
	ID   string `xml:"Id"`
}

var reqSeq atomic.Int64

func writeXML(w http.ResponseWriter, ts []dataplane.Target) {
	resp := response{Xmlns: namespace, RequestID: fmt.Sprintf("00000000-0000-4000-8000-%012d", reqSeq.Add(1))}
	for _, t := range ts {
		resp.Result.Descriptions.Members = append(resp.Result.Descriptions.Members, member{HealthCheckPort: t.HealthCheckPort,
			TargetHealth: targetHealth{Description: t.Description, State: t.State, Reason: t.Reason},
			Target:       target{Port: t.Port, ID: t.ID}})
	}
	b, err := xml.Marshal(resp)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", resp.RequestID)
	_, _ = w.Write(append([]byte(xml.Header), b...))
}
