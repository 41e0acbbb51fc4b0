package provision

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// Lock error as the S3 backend with a DynamoDB lock prints it (stderr of a non-JSON command).
const s3LockStderr = `exit status 1

╷
│ Error: Error acquiring the state lock
│ 
│ Error message: operation error DynamoDB: PutItem, https response error
│ StatusCode: 400, RequestID: X, ConditionalCheckFailedException: The
│ conditional request failed
│ Lock Info:
│   ID:        4f2b7f1a-0d6e-5c5d-9a57-1d2f3e4a5b6c
│   Path:      switchyard-state/prod/terraform.tfstate
│   Operation: OperationTypeApply
│   Who:       alice@build-7
│   Version:   1.10.10
│   Created:   2026-03-04 10:11:12.345678 +0000 UTC
│   Info:      
│ 
│ 
│ Terraform acquires a state lock to protect the state from being written
│ by multiple users at the same time.
╵
`

func TestClassifyLockFromStderr(t *testing.T) {
	err := classify(context.Background(), "provision.plan", "tofu", errors.New(s3LockStderr), nil)
	var pe *Error
	if !errors.As(err, &pe) || pe.Kind != KindStateLocked {
		t.Fatalf("got %v", err)
	}
	l := pe.Lock
	if l.ID != "4f2b7f1a-0d6e-5c5d-9a57-1d2f3e4a5b6c" || l.Who != "alice@build-7" || l.Operation != "OperationTypeApply" ||
		l.Path != "switchyard-state/prod/terraform.tfstate" || l.Version != "1.10.10" || l.Created.Year() != 2026 || l.Created.Minute() != 11 {
		t.Fatalf("lock = %+v", l)
	}
	for _, s := range []string{"alice@build-7", "(Apply)", "since 2026-03-04T10:11:12Z", "tofu force-unlock 4f2b7f1a-0d6e-5c5d-9a57-1d2f3e4a5b6c"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message %q lacks %q", err.Error(), s)
		}
	}
	if deploy.KindOf(err) != deploy.KindConflict || !strings.Contains(deploy.MessageOf(err), "alice@build-7") {
		t.Errorf("deploy view: %s %q", deploy.KindOf(err), deploy.MessageOf(err))
	}
}

func TestClassify(t *testing.T) {
	ctx := context.Background()
	diag := func(summary, detail string) []Diagnostic {
		return []Diagnostic{{Severity: "error", Summary: summary, Detail: detail}}
	}
	exit1 := errors.New("exit status 1")
	cases := []struct {
		name  string
		err   error
		diags []Diagnostic
		want  Kind
	}{
		{"missing variables", exit1, append(diag("No value for required variable", `The root module input variable "owner" is not set, and has no default value.`),
			diag("No value for required variable", `The root module input variable "environment" is not set, and has no default value.`)...), KindMissingVariable},
		{"no init (json)", exit1, diag(`Backend initialization required, please run "tofu init"`, "Reason: Initial configuration of the requested backend \"s3\""), KindNotInitialized},
		{"module not installed", errors.New("exit status 1\n\nError: Module not installed\n\nThis module is not yet installed. Run \"tofu init\" to install all modules required by this configuration."), nil, KindNotInitialized},
		{"dynamodb unreachable", errors.New("exit status 1\nError: Error acquiring the state lock\n\nError message: operation error DynamoDB: PutItem, exceeded maximum number of attempts, 3, https response error StatusCode: 0, RequestID: , request send failed, Post \"https://dynamodb.us-east-1.amazonaws.com/\": dial tcp: lookup dynamodb.us-east-1.amazonaws.com: no such host"), nil, KindBackendUnreachable},
		{"s3 unreachable", errors.New("exit status 1\nError: Failed to get existing workspaces: operation error S3: ListObjectsV2, https response error: dial tcp 127.0.0.1:1: connect: connection refused"), nil, KindBackendUnreachable},
		{"other", exit1, diag("Invalid reference", "A reference to a resource type must be followed by at least one attribute access."), KindFailed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := classify(ctx, "op", "tofu", c.err, c.diags)
			if KindOf(err) != c.want {
				t.Fatalf("kind = %q (%v), want %q", KindOf(err), err, c.want)
			}
			if c.want == KindMissingVariable {
				var pe *Error
				errors.As(err, &pe)
				if strings.Join(pe.Variables, ",") != "owner,environment" {
					t.Errorf("variables = %v", pe.Variables)
				}
			}
			if c.want == KindFailed && !strings.Contains(err.Error(), "Invalid reference") {
				t.Errorf("message %q lacks the diagnostic", err.Error())
			}
		})
	}
	if err := classify(ctx, "op", "tofu", nil, []Diagnostic{{Severity: "warning", Summary: "w"}}); err != nil {
		t.Errorf("warnings only: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := classify(cctx, "op", "tofu", exit1, nil); KindOf(err) != KindCanceled {
		t.Errorf("cancelled context: %v", err)
	}
}
