package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// dynamoCounter is a pass-through proxy in front of one daemon's DynamoDB endpoint that names each
// call by what it touches (the fault proxy names operations only): "Query LEASES" is a lease scan,
// "UpdateItem LEASE" a renewal or takeover, "TransactWriteItems" a fenced record or event write, and
// so on. It is how the HA tests tell a daemon's lease traffic from the rest.
type dynamoCounter struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls []dynamoCall
}

type dynamoCall struct {
	at  time.Time
	key string
}

func newDynamoCounter(t testing.TB, upstream string) *dynamoCounter {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	c := &dynamoCounter{}
	rp := httputil.NewSingleHostReverseProxy(u)
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
		c.mu.Lock()
		c.calls = append(c.calls, dynamoCall{at: time.Now(), key: dynamoPurpose(op, body)})
		c.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *dynamoCounter) URL() string { return c.srv.URL }

// Between counts the calls that arrived in [from, to) by purpose.
func (c *dynamoCounter) Between(from, to time.Time) map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for _, x := range c.calls {
		if !x.at.Before(from) && x.at.Before(to) {
			out[x.key]++
		}
	}
	return out
}

// dynamoPurpose names a call by its operation and the kind of item it reads or writes (the key's
// prefix: LEASES partition, LEASE# or CMD# items, DEPLOYMENT# history, an index).
func dynamoPurpose(op string, body []byte) string {
	var in struct {
		IndexName                 string
		Key                       map[string]map[string]any
		ExpressionAttributeValues map[string]map[string]any
	}
	_ = json.Unmarshal(body, &in)
	kind := func(v map[string]any) string {
		s, _ := v["S"].(string)
		if k, _, ok := strings.Cut(s, "#"); ok {
			return k
		}
		return s
	}
	switch {
	case in.IndexName != "":
		return op + " " + in.IndexName
	case op == "Query":
		return op + " " + kind(in.ExpressionAttributeValues[":pk"])
	case in.Key != nil:
		if kind(in.Key["pk"]) == "LEASES" {
			return op + " " + kind(in.Key["sk"])
		}
		return op + " " + kind(in.Key["pk"])
	}
	return op
}

// rateTable renders counts as calls and calls per second over window, busiest first.
func rateTable(c map[string]int, window time.Duration) string {
	keys := make([]string, 0, len(c))
	total := 0
	for k, n := range c {
		keys = append(keys, k)
		total += n
	}
	sort.Slice(keys, func(i, j int) bool { return c[keys[i]] > c[keys[j]] || c[keys[i]] == c[keys[j]] && keys[i] < keys[j] })
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-28s %6d  %6.2f/s\n", k, c[k], float64(c[k])/window.Seconds())
	}
	fmt.Fprintf(&b, "  %-28s %6d  %6.2f/s\n", "total", total, float64(total)/window.Seconds())
	return b.String()
}
