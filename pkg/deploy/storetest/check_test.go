package storetest

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

func TestSameStored(t *testing.T) {
	d := Full("d-1", "web")
	stored, err := deploy.EncodeStored("test", d, 7)
	if err != nil {
		t.Fatal(err)
	}
	same := func(edit func(c *deploy.Deployment)) bool {
		c := *d
		edit(&c)
		return deploy.SameStored(stored, &c)
	}
	// What is not stored, or stored differently, does not matter.
	for name, edit := range map[string]func(c *deploy.Deployment){
		"identical":    func(c *deploy.Deployment) {},
		"version":      func(c *deploy.Deployment) { c.Version = 6 },
		"guard":        func(c *deploy.Deployment) { c.Guard = nil },
		"time zone":    func(c *deploy.Deployment) { c.UpdatedAt = c.UpdatedAt.UTC() },
		"live weights": func(c *deploy.Deployment) { c.Live = nil },
	} {
		if !same(edit) {
			t.Errorf("%s: want same", name)
		}
	}
	for name, edit := range map[string]func(c *deploy.Deployment){
		"updated_at": func(c *deploy.Deployment) { c.UpdatedAt = c.UpdatedAt.Add(time.Nanosecond) },
		"state":      func(c *deploy.Deployment) { c.State = deploy.StateShifting },
		"intended":   func(c *deploy.Deployment) { c.Intended = nil },
		"step bake":  func(c *deploy.Deployment) { c.Steps = []deploy.Step{{Percent: 100, Bake: 1}} },
	} {
		if same(edit) {
			t.Errorf("%s: want different", name)
		}
	}
	if deploy.SameStored([]byte("{"), d) {
		t.Error("broken stored JSON compared equal")
	}
}

func TestReadStored(t *testing.T) {
	d := Full("d-1", "web")
	b, err := deploy.EncodeStored("test", d, 3)
	if err != nil {
		t.Fatal(err)
	}
	got := deploy.ReadStored(b, "d-1", "web", d.State, 9)
	want := Stored(d)
	want.Version = 9 // the store's own version wins
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ReadStored\n got: %+v\nwant: %+v", got, want)
	}
	for name, c := range map[string]struct {
		data        string
		id, service string
		why         string
	}{
		"broken":               {`{"id":`, "d-1", "web", "cannot be decoded"},
		"null":                 {`null`, "d-1", "web", "cannot be decoded"},
		"other id":             {string(b), "d-2", "web", `names deployment "d-1"`},
		"other service":        {string(b), "d-1", "api", `of service "web"`},
		"negative bake":        {strings.Replace(string(b), `"bake":"1m0.000000001s"`, `"bake":-5`, 1), "d-1", "web", "invalid duration -5 seconds"},
		"negative bake string": {strings.Replace(string(b), `"bake":"1m0.000000001s"`, `"bake":"-5s"`, 1), "d-1", "web", "negative"},
		"unknown step kind":    {strings.Replace(string(b), `"percent":10`, `"kind":"gate","percent":10`, 1), "d-1", "web", `unknown step kind "gate"`},
	} {
		q := deploy.ReadStored([]byte(c.data), c.id, c.service, "shifting", 4)
		if q.Quarantine == "" || !strings.Contains(q.Quarantine, c.why) {
			t.Errorf("%s: quarantine %q, want it to say %q", name, q.Quarantine, c.why)
		}
		if q.ID != c.id || q.Service != c.service || q.State != "shifting" || q.Version != 4 || q.Step != -1 {
			t.Errorf("%s: stub %+v", name, q)
		}
	}
}
