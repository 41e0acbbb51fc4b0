package loadgen

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Outcome is how a request ended.
type Outcome string

// Outcomes. ServerError, ConnError and Timeout are failures a user sees.
const (
	OK          Outcome = "ok"
	ClientError Outcome = "4xx"
	ServerError Outcome = "5xx"
	ConnError   Outcome = "conn" // refused, reset, closed before an answer
	Timeout     Outcome = "timeout"
)

// Failed reports whether the outcome is a failure a user sees (5xx, connection error, timeout).
func (o Outcome) Failed() bool { return o == ServerError || o == ConnError || o == Timeout }

// Request is one request sent.
type Request struct {
	Seq     uint64
	Start   time.Time
	Latency time.Duration
	Status  int    // 0: no answer
	Colour  string // X-Switchyard-Colour of the answer; "": none
	Task    string
	Tag     string
	Err     string // the client's error, or the status line of a 4xx/5xx
	Outcome Outcome
}

// Failed reports whether the request failed (5xx, connection error, timeout).
func (r Request) Failed() bool { return r.Outcome.Failed() }

// Results are the requests of a run, in start order.
type Results struct {
	Requests []Request
	Began    time.Time // the run's start
	Ended    time.Time // when the last answer was in (or the snapshot was taken)
	Rate     int
	Duration time.Duration
}

func newResults(o Options, began, ended time.Time, reqs []Request) *Results {
	sort.SliceStable(reqs, func(i, j int) bool { return reqs[i].Start.Before(reqs[j].Start) })
	return &Results{Requests: reqs, Began: began, Ended: ended, Rate: o.Rate, Duration: o.Duration}
}

// Total is the number of requests sent.
func (r *Results) Total() int { return len(r.Requests) }

// Count counts the requests for which keep holds.
func (r *Results) Count(keep func(Request) bool) int {
	n := 0
	for _, q := range r.Requests {
		if keep(q) {
			n++
		}
	}
	return n
}

// ByColour counts requests per answering colour ("" for no answer or no colour header).
func (r *Results) ByColour() map[string]int {
	out := map[string]int{}
	for _, q := range r.Requests {
		out[q.Colour]++
	}
	return out
}

// ByStatus counts requests per HTTP status (0 for no answer).
func (r *Results) ByStatus() map[int]int {
	out := map[int]int{}
	for _, q := range r.Requests {
		out[q.Status]++
	}
	return out
}

// ByColourStatus counts requests per colour and status.
func (r *Results) ByColourStatus() map[string]map[int]int {
	out := map[string]map[int]int{}
	for _, q := range r.Requests {
		if out[q.Colour] == nil {
			out[q.Colour] = map[int]int{}
		}
		out[q.Colour][q.Status]++
	}
	return out
}

// ByOutcome counts requests per outcome.
func (r *Results) ByOutcome() map[Outcome]int {
	out := map[Outcome]int{}
	for _, q := range r.Requests {
		out[q.Outcome]++
	}
	return out
}

// Between returns the requests that started in [from, to); a zero bound is open.
func (r *Results) Between(from, to time.Time) []Request {
	var out []Request
	for _, q := range r.Requests {
		if (from.IsZero() || !q.Start.Before(from)) && (to.IsZero() || q.Start.Before(to)) {
			out = append(out, q)
		}
	}
	return out
}

// Failures returns the failed requests (5xx, connection errors, timeouts) that started in [from, to);
// a zero bound is open.
func (r *Results) Failures(from, to time.Time) []Request {
	var out []Request
	for _, q := range r.Between(from, to) {
		if q.Failed() {
			out = append(out, q)
		}
	}
	return out
}

// FirstSeen returns the start of the first request colour answered.
func (r *Results) FirstSeen(colour string) (time.Time, bool) {
	for _, q := range r.Requests {
		if q.Colour == colour && q.Status > 0 {
			return q.Start, true
		}
	}
	return time.Time{}, false
}

// LastSeen returns the start of the last request colour answered.
func (r *Results) LastSeen(colour string) (time.Time, bool) {
	for i := len(r.Requests) - 1; i >= 0; i-- {
		if q := r.Requests[i]; q.Colour == colour && q.Status > 0 {
			return q.Start, true
		}
	}
	return time.Time{}, false
}

// Second is one second of a run, by request start.
type Second struct {
	Index    int // seconds since the run began
	Start    time.Time
	Total    int
	ByColour map[string]int
	Failed   int
	ByFail   map[Outcome]int // failed requests per outcome
	MaxLat   time.Duration
}

// PerSecond buckets the requests by the second they started in, from the run's start; seconds with no
// request are present (Total 0) up to the last one that had any.
func (r *Results) PerSecond() []Second {
	var out []Second
	for _, q := range r.Requests {
		i := int(q.Start.Sub(r.Began) / time.Second)
		if i < 0 {
			i = 0
		}
		for len(out) <= i {
			n := len(out)
			out = append(out, Second{Index: n, Start: r.Began.Add(time.Duration(n) * time.Second), ByColour: map[string]int{}, ByFail: map[Outcome]int{}})
		}
		s := &out[i]
		s.Total++
		s.ByColour[q.Colour]++
		if q.Failed() {
			s.Failed++
			s.ByFail[q.Outcome]++
		}
		s.MaxLat = max(s.MaxLat, q.Latency)
	}
	return out
}

// Table renders PerSecond as text: one line a second with the count per colour and the failures.
func (r *Results) Table() string {
	colours := map[string]bool{}
	for _, q := range r.Requests {
		if q.Colour != "" {
			colours[q.Colour] = true
		}
	}
	names := make([]string, 0, len(colours))
	for c := range colours {
		names = append(names, c)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "%4s %6s", "sec", "total")
	for _, c := range names {
		fmt.Fprintf(&b, " %8s", c)
	}
	fmt.Fprintf(&b, " %6s %5s %5s %7s %9s\n", "failed", "5xx", "conn", "timeout", "max-lat")
	for _, s := range r.PerSecond() {
		fmt.Fprintf(&b, "%4d %6d", s.Index, s.Total)
		for _, c := range names {
			fmt.Fprintf(&b, " %8d", s.ByColour[c])
		}
		fmt.Fprintf(&b, " %6d %5d %5d %7d %9s\n", s.Failed, s.ByFail[ServerError], s.ByFail[ConnError], s.ByFail[Timeout], s.MaxLat.Round(time.Millisecond))
	}
	return b.String()
}

// Summary is a one-line account of the run.
func (r *Results) Summary() string {
	o := r.ByOutcome()
	return fmt.Sprintf("%d requests at %d/s over %v: by colour %v, ok %d, 4xx %d, 5xx %d, conn errors %d, timeouts %d",
		r.Total(), r.Rate, r.Duration, r.ByColour(), o[OK], o[ClientError], o[ServerError], o[ConnError], o[Timeout])
}
