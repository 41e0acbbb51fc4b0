package faultproxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRulesChangeWhileCallsFly changes rules, buckets and counts from one goroutine while others call
// through the proxy (run with -race), then checks that no call was lost from the counts.
func TestRulesChangeWhileCallsFly(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write([]byte(`{}`))
	}))
	defer upstream.Close()
	p := mustStart(t, Options{Upstream: upstream.URL})
	const workers, each = 4, 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				req, _ := http.NewRequest(http.MethodPost, p.URL()+"/", strings.NewReader("{}"))
				req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.DescribeServices")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				statuses[resp.StatusCode]++
				mu.Unlock()
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 100; i++ {
			remove := p.Fail(Op("DescribeServices"), Throttling)
			stop := p.AddBucket(Bucket{Match: Service("ecs"), Burst: 5, PerSecond: 100})
			_ = p.Counts()
			_ = p.CountsBetween(time.Now().Add(-time.Second), time.Now())
			remove()
			stop()
			p.Inject(Rule{Match: All(), Latency: time.Millisecond, Times: 1})
		}
	}()
	wg.Wait()
	<-done
	c := p.Counts()["ecs:DescribeServices"]
	if c.Calls != workers*each {
		t.Fatalf("counted %d calls, sent %d", c.Calls, workers*each)
	}
	if statuses[http.StatusOK]+statuses[http.StatusBadRequest] != workers*each || statuses[http.StatusBadRequest] != c.Injected+c.Throttled {
		t.Fatalf("answers %v do not match counts %+v", statuses, c)
	}
}
