package cli

import (
	"testing"

	"github.com/switchyard/switchyard/pkg/deploy"
)

func TestDeployForce(t *testing.T) {
	e := newCLIEnv(t)
	e.run("deploy", "web", "v1", "--force").must(t, 1, "--force needs --reason")
	e.run("deploy", "web", "v1", "--force", "--reason", "  ").must(t, 1, "--force needs --reason")
	if calls := e.ctl.Calls(); len(calls) != 0 {
		t.Fatalf("refused flags reached the server: %+v", calls)
	}
	e.run("deploy", "web", "v1", "--force", "--reason", "the alarm is the bug v1 fixes").must(t, 0, "Deployment d-1 started")
	e.run("deploy", "api", "v1", "--reason", "plain").must(t, 0)
	calls := e.ctl.Calls()
	if len(calls) != 2 || !calls[0].Create.Force || calls[0].Create.Reason != "the alarm is the bug v1 fixes" || calls[1].Create.Force {
		t.Fatalf("calls %+v %+v", calls[0].Create, calls[1].Create)
	}

	// A refusal by a firing guard explains how to override it.
	e.ctl.Fail = deploy.Errorf("controller.Create", deploy.KindGuardFiring, "guarding alarm web-5xx is in ALARM")
	e.run("deploy", "web", "v2").must(t, 1, "web-5xx is in ALARM", "HTTP 412", "--force --reason")
}

func TestDeployStepBoundsBeforeSending(t *testing.T) {
	e := newCLIEnv(t)
	e.run("deploy", "web", "v1", "--steps", "10:25h,100").must(t, 1, "steps[0].bake: 25h0m0s is longer than the maximum bake of 24h")
	e.run("deploy", "web", "v1", "--steps", "0.01,100").must(t, 1, "steps[0].percent: 0.01% rounds to ALB weight 0")
	if calls := e.ctl.Calls(); len(calls) != 0 {
		t.Fatalf("refused flags reached the server: %+v", calls)
	}
}
