package apptask

import (
	"sync"
	"time"
)

// Behaviour is what the tasks of one image tag do.
type Behaviour struct {
	ErrorRate    float64       // share of application requests answered 500 (0..1)
	Latency      time.Duration // added to every application response
	SlowStart    time.Duration // the health check answers 503 this long after the task starts
	CrashOnStart bool          // the task exits at once: its server never serves
	FailHealth   bool          // the health check always answers 503
}

// Table maps image tags to behaviours; a tag not in it is healthy and fast. It is safe for concurrent
// use, and a change reaches running tasks at their next request. A nil *Table is an empty table.
type Table struct {
	mu sync.RWMutex
	m  map[string]Behaviour
}

// NewTable returns a table holding the given tag behaviours.
func NewTable(m map[string]Behaviour) *Table {
	t := &Table{m: make(map[string]Behaviour, len(m))}
	for k, v := range m {
		t.m[k] = v
	}
	return t
}

// Set gives tag the behaviour b.
func (t *Table) Set(tag string, b Behaviour) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]Behaviour{}
	}
	t.m[tag] = b
}

// Delete makes tag healthy and fast again.
func (t *Table) Delete(tag string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, tag)
}

// Get returns tag's behaviour (the zero Behaviour, healthy and fast, when absent).
func (t *Table) Get(tag string) Behaviour {
	if t == nil {
		return Behaviour{}
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.m[tag]
}
