package apptask

import (
	"context"
	"sort"
	"strings"
	"sync"

	"github.com/switchyard/switchyard/test/ecsfake"
)

// Fleet runs the tasks the ECS stand-in starts, as apptask servers, and remembers them for tests.
type Fleet struct {
	table      *Table
	colourOf   func(service string) string
	healthPath string

	mu       sync.Mutex
	servers  map[string]*Server // task ARN
	order    []string
	onChange func()
}

// NewFleet returns a fleet whose tasks behave by table and take their colour from colourOf (nil:
// ColourOf, which reads "blue" or "green" in the service name).
func NewFleet(table *Table, colourOf func(service string) string) *Fleet {
	if colourOf == nil {
		colourOf = ColourOf
	}
	return &Fleet{table: table, colourOf: colourOf, healthPath: DefaultHealthPath, servers: map[string]*Server{}}
}

// Runner is the shorthand for NewFleet(table, colourOf).Runner().
func Runner(table *Table, colourOf func(service string) string) ecsfake.TaskRunnerFunc {
	return NewFleet(table, colourOf).Runner()
}

// ColourOf returns whichever of "blue" and "green" comes first in the service name (svc-green-bluesky
// is green), else the name itself.
func ColourOf(service string) string {
	b, g := strings.Index(service, "blue"), strings.Index(service, "green")
	switch {
	case b >= 0 && (g < 0 || b < g):
		return "blue"
	case g >= 0:
		return "green"
	}
	return service
}

// Runner is the hook for ecsfake.Options.Runner.
func (f *Fleet) Runner() ecsfake.TaskRunnerFunc {
	return func(_ context.Context, t ecsfake.TaskInfo) (ecsfake.RunningTask, error) {
		s, err := Start(Spec{TaskARN: t.TaskARN, Service: t.Service, Colour: f.colourOf(t.Service), Tag: t.Tag,
			Table: f.table, HealthPath: f.healthPath})
		if err != nil {
			return ecsfake.RunningTask{}, err
		}
		f.mu.Lock()
		f.servers[t.TaskARN] = s
		f.order = append(f.order, t.TaskARN)
		hook := f.onChange
		f.mu.Unlock()
		if hook != nil {
			hook()
			go func() { <-s.Done(); hook() }()
		}
		return ecsfake.RunningTask{IP: s.IP(), Port: s.Port(), Stop: s.Stop, Exited: s.Exited()}, nil
	}
}

// OnChange sets fn to be called after each task the fleet starts and after each one exits (from
// the goroutine that saw it: fn must be quick and safe for concurrent calls). Set it before tasks start.
func (f *Fleet) OnChange(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onChange = fn
}

// Running returns the servers that have not exited, in start order.
func (f *Fleet) Running() []*Server {
	var out []*Server
	for _, s := range f.Started() {
		select {
		case <-s.Done():
		default:
			out = append(out, s)
		}
	}
	return out
}

// Server returns the server of a task the fleet started (running or not).
func (f *Fleet) Server(taskARN string) *Server {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.servers[taskARN]
}

// Started returns every server the fleet started, in start order, crashed and stopped ones included.
func (f *Fleet) Started() []*Server {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*Server, 0, len(f.order))
	for _, arn := range f.order {
		out = append(out, f.servers[arn])
	}
	return out
}

// Counts sums the requests served by the fleet's servers per colour.
func (f *Fleet) Counts() map[string]Counts {
	out := map[string]Counts{}
	for _, s := range f.Started() {
		c, n := out[s.spec.Colour], s.Counts()
		c.Served += n.Served
		c.Errors += n.Errors
		c.HealthChecks += n.HealthChecks
		c.HealthFailures += n.HealthFailures
		out[s.spec.Colour] = c
	}
	return out
}

// Addrs returns the sorted IP:port of the started servers of a service.
func (f *Fleet) Addrs(service string) []string {
	var out []string
	for _, s := range f.Started() {
		if s.spec.Service == service {
			out = append(out, s.Addr())
		}
	}
	sort.Strings(out)
	return out
}
