package client_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchyard/switchyard/pkg/api"
	"github.com/switchyard/switchyard/pkg/api/apitest"
	"github.com/switchyard/switchyard/pkg/client"
	"github.com/switchyard/switchyard/pkg/deploy"
)

const tok = "client-test-token-0123456789"

func setup(t *testing.T) (*apitest.Controller, *client.Client, string) {
	t.Helper()
	ctl := apitest.New("web")
	srv, err := api.New(api.Options{Controller: ctl, Tokens: []api.Token{{Name: "ci", Secret: tok}},
		Reload: func(context.Context, string) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	c, err := client.New(ts.URL+"/", tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ctl, c, ts.URL
}

func TestRoundTrip(t *testing.T) {
	ctl, c, _ := setup(t)
	ctx := context.Background()
	st := &deploy.Strategy{Type: deploy.StrategySteps, Steps: []deploy.Step{{Percent: 25, Bake: deploy.Duration(1e9)}, {Percent: 100}}}
	d, err := c.CreateDeployment(ctx, "web", "v7", client.DeployOptions{Strategy: st, Reason: "ship"})
	if err != nil {
		t.Fatal(err)
	}
	if d.ImageTag != "v7" || d.CreatedBy != "ci" || len(d.Steps) != 2 || d.Steps[0].Bake.D().Seconds() != 1 {
		t.Fatalf("created %+v", d)
	}
	_, err = c.CreateDeployment(ctx, "web", "v8", client.DeployOptions{})
	var ae *client.APIError
	if !asAPIError(err, &ae) || ae.Status != 409 || ae.Code != "conflict" || ae.ActiveID != d.ID || !client.IsKind(err, deploy.KindConflict) {
		t.Fatalf("conflict error %#v", err)
	}

	got, err := c.Deployment(ctx, d.ID)
	if err != nil || got.ID != d.ID {
		t.Fatalf("get %v %v", got, err)
	}
	ds, err := c.Deployments(ctx, "web", client.ListOptions{ActiveOnly: true, Limit: 3})
	if err != nil || len(ds) != 1 || ds[0].ID != d.ID {
		t.Fatalf("list %v %v", ds, err)
	}
	ss, err := c.Services(ctx)
	if err != nil || len(ss) != 1 || ss[0].Active != d.ID {
		t.Fatalf("services %v %v", ss, err)
	}
	for _, f := range []func(context.Context, string, string) (*deploy.Deployment, error){c.Pause, c.Resume, c.Promote, c.Abort} {
		if _, err := f(ctx, d.ID, "r"); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := c.Events(ctx, d.ID, 0)
	if err != nil || len(evs) != 5 {
		t.Fatalf("events %v %v", evs, err)
	}
	later, err := c.Events(ctx, d.ID, evs[3].Seq)
	if err != nil || len(later) != 1 || later[0].Action != "abort" {
		t.Fatalf("events after %d: %v %v", evs[3].Seq, later, err)
	}
	if calls := ctl.Calls(); calls[len(calls)-1].Reason != "r" || calls[len(calls)-1].Actor != "ci" {
		t.Fatalf("calls %+v", calls)
	}
	if err := c.Reload(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if err := c.Health(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Ready(ctx); err != nil {
		t.Fatal(err)
	}
}

func asAPIError(err error, target **client.APIError) bool {
	ae, ok := err.(*client.APIError)
	*target = ae
	return ok
}

func TestErrors(t *testing.T) {
	_, c, url := setup(t)
	ctx := context.Background()
	if _, err := c.Deployment(ctx, "nope"); !client.IsKind(err, deploy.KindNotFound) {
		t.Fatalf("not found: %v", err)
	}
	// Path elements are escaped, never interpreted: an id with a slash reaches the deployment route as
	// one segment, which the server refuses as an invalid id.
	if _, err := c.Deployment(ctx, "a/../../v1/services"); !client.IsKind(err, deploy.KindInvalid) {
		t.Fatalf("slash in id: %v", err)
	}
	if _, err := c.Abort(ctx, "..", ""); err == nil {
		t.Fatal(`".." accepted as an id`)
	}
	bad, _ := client.New(url, "wrong-token", nil)
	_, err := bad.Services(ctx)
	var ae *client.APIError
	if !asAPIError(err, &ae) || ae.Status != 401 || ae.Code != "unauthorized" {
		t.Fatalf("401: %#v", err)
	}
	for _, u := range []string{"", "127.0.0.1:8080", "ftp://x", "http://"} {
		if _, err := client.New(u, "", nil); err == nil {
			t.Errorf("server URL %q accepted", u)
		}
	}
}

func TestNonAPIErrorBody(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad gateway from proxy", http.StatusBadGateway)
	}))
	defer ts.Close()
	c, _ := client.New(ts.URL, "", nil)
	_, err := c.Services(context.Background())
	var ae *client.APIError
	if !asAPIError(err, &ae) || ae.Status != 502 || ae.Message != "bad gateway from proxy" {
		t.Fatalf("%#v", err)
	}
}
