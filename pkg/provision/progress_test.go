package provision

import (
	"strings"
	"testing"
	"time"
)

func TestProgressLines(t *testing.T) {
	var out syncBuffer
	var events []Event
	p := newProgress(&out, func(e Event) { events = append(events, e) }, -1, "apply")
	stream := `{"@level":"info","@message":"module.alb.aws_lb.this: Creating...","type":"apply_start","hook":{"resource":{"addr":"module.alb.aws_lb.this","module":"module.alb"},"action":"create"}}
{"@level":"info","@message":"module.alb.aws_lb.this: Still creating... [10s elapsed]","type":"apply_progress","hook":{"resource":{"addr":"module.alb.aws_lb.this","module":"module.alb"},"action":"create","elapsed_seconds":10}}
{"@level":"info","@message":"x","type":"apply_complete","hook":{"resource":{"addr":"module.alb.aws_lb.this","module":"module.alb"},"action":"create","elapsed_seconds":72}}
{"@level":"info","@message":"y","type":"apply_start","hook":{"resource":{"addr":"aws_ecs_service.blue","module":""},"action":"delete"}}
{"@level":"error","@message":"Error: boom","type":"diagnostic","diagnostic":{"severity":"error","summary":"boom","detail":"d"}}
{"@level":"info","@message":"Apply complete! Resources: 1 added, 0 changed, 0 destroyed.","type":"change_summary","changes":{"add":1,"operation":"apply"}}
not json at all
`
	// Written in odd chunks: lines split across writes must still parse.
	for len(stream) > 0 {
		n := min(37, len(stream))
		p.Write([]byte(stream[:n]))
		stream = stream[n:]
	}
	p.Close()
	want := "module.alb.aws_lb.this: creating...\n" +
		"module.alb.aws_lb.this: creating... 10s\n" +
		"module.alb.aws_lb.this: created in 1m12s\n" +
		"aws_ecs_service.blue: destroying...\n" +
		"Apply complete! Resources: 1 added, 0 changed, 0 destroyed.\n" +
		"not json at all\n"
	if out.String() != want {
		t.Fatalf("progress:\n%s\nwant:\n%s", out.String(), want)
	}
	if d := p.diagnostics(); len(d) != 1 || d[0].Summary != "boom" {
		t.Errorf("diagnostics %+v", d)
	}
	if len(events) != 6 || events[2].Elapsed != 72*time.Second || events[0].Module != "module.alb" {
		t.Errorf("events %+v", events)
	}
}

func TestProgressTicks(t *testing.T) {
	var out syncBuffer
	p := newProgress(&out, nil, time.Millisecond, "apply")
	p.Write([]byte(`{"type":"apply_start","hook":{"resource":{"addr":"a.b"},"action":"create"}}` + "\n"))
	for !strings.Contains(out.String(), "elapsed] 1 in progress: a.b") {
		time.Sleep(time.Millisecond)
	}
	p.Close()
}
