package provision

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// uiMessage is one line of the machine-readable UI (`-json`): only the fields progress reporting and
// error classification need.
type uiMessage struct {
	Level   string `json:"@level"`
	Message string `json:"@message"`
	Type    string `json:"type"`
	Hook    *struct {
		Resource    uiResource `json:"resource"`
		Action      string     `json:"action"`
		IDValue     string     `json:"id_value"`
		Elapsed     float64    `json:"elapsed_seconds"`
		Provisioner string     `json:"provisioner"`
		Output      string     `json:"output"`
	} `json:"hook"`
	Changes *struct {
		Add       int    `json:"add"`
		Change    int    `json:"change"`
		Remove    int    `json:"remove"`
		Import    int    `json:"import"`
		Operation string `json:"operation"`
	} `json:"changes"`
	Diagnostic *Diagnostic `json:"diagnostic"`
}

type uiResource struct {
	Addr   string `json:"addr"`
	Module string `json:"module"`
}

// Event is one resource-level progress event, for callers (the daemon) that want structure instead of
// text lines.
type Event struct {
	Type     string        // apply_start, apply_progress, apply_complete, apply_errored, provision_start, ...
	Address  string        // e.g. module.alb.aws_lb.this
	Module   string        // e.g. module.alb ("" for the root module)
	Action   string        // create, update, delete, read
	Elapsed  time.Duration // as reported by tofu/terraform
	Message  string        // the human message tofu/terraform attached
	Severity string        // for diagnostics
}

// progress consumes the JSON UI stream, prints resource-by-resource lines and a periodic elapsed-time
// line, and keeps the diagnostics for error classification.
type progress struct {
	mu       sync.Mutex
	out      io.Writer
	onEvent  func(Event)
	buf      []byte
	started  time.Time
	inFlight map[string]time.Time
	diags    []Diagnostic
	stop     chan struct{}
	done     chan struct{}
}

func newProgress(out io.Writer, onEvent func(Event), tick time.Duration, label string) *progress {
	if out == nil {
		out = io.Discard
	}
	p := &progress{out: out, onEvent: onEvent, started: time.Now(), inFlight: map[string]time.Time{},
		stop: make(chan struct{}), done: make(chan struct{})}
	go p.ticker(tick, label)
	return p
}

// Write implements io.Writer for tfexec's stdout; it is called with whole lines, but partial lines are
// buffered anyway.
func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		line := bytes.TrimSpace(p.buf[:i])
		p.buf = p.buf[i+1:]
		if len(line) > 0 {
			p.handle(line)
		}
	}
	return len(b), nil
}

// Close stops the ticker and flushes a trailing partial line.
func (p *progress) Close() {
	close(p.stop)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	if line := bytes.TrimSpace(p.buf); len(line) > 0 {
		p.handle(line)
	}
	p.buf = nil
}

func (p *progress) diagnostics() []Diagnostic {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Diagnostic(nil), p.diags...)
}

func (p *progress) handle(line []byte) {
	var m uiMessage
	if err := json.Unmarshal(line, &m); err != nil || m.Type == "" {
		fmt.Fprintf(p.out, "%s\n", line) // not JSON (e.g. a provider's raw output): pass it through
		return
	}
	ev := Event{Type: m.Type, Message: m.Message}
	switch m.Type {
	case "apply_start", "apply_progress", "apply_complete", "apply_errored":
		h := m.Hook
		if h == nil {
			return
		}
		ev.Address, ev.Module, ev.Action = h.Resource.Addr, h.Resource.Module, h.Action
		ev.Elapsed = time.Duration(h.Elapsed * float64(time.Second))
		ing, ed := verbs(h.Action)
		switch m.Type {
		case "apply_start":
			p.inFlight[ev.Address] = time.Now()
			fmt.Fprintf(p.out, "%s: %s...\n", ev.Address, ing)
		case "apply_progress":
			fmt.Fprintf(p.out, "%s: %s... %s\n", ev.Address, ing, fmtElapsed(ev.Elapsed))
		case "apply_complete":
			delete(p.inFlight, ev.Address)
			fmt.Fprintf(p.out, "%s: %s in %s\n", ev.Address, ed, fmtElapsed(ev.Elapsed))
		case "apply_errored":
			delete(p.inFlight, ev.Address)
			fmt.Fprintf(p.out, "%s: FAILED while %s after %s\n", ev.Address, ing, fmtElapsed(ev.Elapsed))
		}
	case "provision_start", "provision_progress", "provision_complete", "provision_errored":
		h := m.Hook
		if h == nil {
			return
		}
		ev.Address, ev.Module = h.Resource.Addr, h.Resource.Module
		switch m.Type {
		case "provision_start":
			fmt.Fprintf(p.out, "%s: running %s provisioner\n", ev.Address, h.Provisioner)
		case "provision_progress":
			fmt.Fprintf(p.out, "%s (%s): %s\n", ev.Address, h.Provisioner, strings.TrimSpace(h.Output))
		case "provision_errored":
			fmt.Fprintf(p.out, "%s: %s provisioner FAILED\n", ev.Address, h.Provisioner)
		}
	case "change_summary":
		if m.Changes != nil && m.Changes.Operation != "plan" {
			fmt.Fprintf(p.out, "%s\n", m.Message)
		}
	case "diagnostic":
		if m.Diagnostic == nil {
			return
		}
		d := *m.Diagnostic
		p.diags = append(p.diags, d)
		ev.Severity, ev.Message = d.Severity, d.Summary
		if d.Severity == "warning" {
			fmt.Fprintf(p.out, "warning: %s\n", d.Summary)
		}
		// Errors are reported once, typed, by the caller.
	default:
		return
	}
	if p.onEvent != nil {
		p.onEvent(ev)
	}
}

// ticker prints the elapsed time and what is in flight, so a long apply is never silent.
func (p *progress) ticker(every time.Duration, label string) {
	defer close(p.done)
	if every <= 0 {
		<-p.stop
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			names := make([]string, 0, len(p.inFlight))
			for a := range p.inFlight {
				names = append(names, a)
			}
			sort.Strings(names)
			line := fmt.Sprintf("[%s %s elapsed]", label, fmtElapsed(time.Since(p.started)))
			if len(names) > 0 {
				shown := names
				if len(shown) > 3 {
					shown = shown[:3]
				}
				line += fmt.Sprintf(" %d in progress: %s", len(names), strings.Join(shown, ", "))
				if len(names) > 3 {
					line += fmt.Sprintf(" (+%d more)", len(names)-3)
				}
			}
			fmt.Fprintln(p.out, line)
			p.mu.Unlock()
		}
	}
}

func verbs(action string) (ing, ed string) {
	switch action {
	case "create":
		return "creating", "created"
	case "update":
		return "modifying", "modified"
	case "delete":
		return "destroying", "destroyed"
	case "read":
		return "reading", "read"
	default:
		return action + "ing", action + "d"
	}
}

func fmtElapsed(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Minute {
		return fmt.Sprintf("%ds", int(d.Seconds()))
	}
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}
