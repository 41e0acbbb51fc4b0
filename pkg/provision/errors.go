package provision

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// Kind classifies a provisioning failure so that the CLI and the daemon can react without parsing the
// output of tofu/terraform.
type Kind string

const (
	KindStateLocked        Kind = "state_locked"        // another run holds the state lock (see Error.Lock)
	KindMissingVariable    Kind = "missing_variable"    // a required root variable has no value (see Error.Variables)
	KindNotInitialized     Kind = "not_initialized"     // the working directory needs `init`
	KindBinaryMissing      Kind = "binary_missing"      // no tofu/terraform executable
	KindBinaryTooOld       Kind = "binary_too_old"      // older than MinVersion
	KindBackendUnreachable Kind = "backend_unreachable" // the state backend (S3, DynamoDB, ...) could not be reached
	KindCanceled           Kind = "canceled"            // the context was cancelled (Ctrl-C); the run was interrupted
	KindNotConfirmed       Kind = "not_confirmed"       // the operator declined, or could not be asked
	KindInvalidOutput      Kind = "invalid_output"      // the stack's controller output breaks the contract
	KindInvalidConfig      Kind = "invalid_config"      // the merged daemon configuration does not validate
	KindFailed             Kind = "failed"              // any other tofu/terraform error
)

// Error is a typed provisioning failure.
type Error struct {
	Op      string // e.g. "provision.apply"
	Kind    Kind
	Message string
	Err     error
	// Lock describes the holder of the state lock for KindStateLocked.
	Lock *LockInfo
	// Variables names the unset required variables for KindMissingVariable.
	Variables []string
	// Diagnostics are the error diagnostics tofu/terraform reported, when it reported them as JSON.
	Diagnostics []Diagnostic
	// fromRun marks errors classified from a tofu/terraform run: Message already says what Err (the
	// whole stderr) says, so Error() leaves Err out.
	fromRun bool
}

func (e *Error) Error() string {
	if e.Op == "" {
		return e.message()
	}
	return e.Op + ": " + e.message()
}

func (e *Error) message() string {
	msg := e.Message
	switch {
	case msg == "" && e.Err != nil:
		msg = e.Err.Error()
	case e.Err != nil && !e.fromRun:
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// As lets deploy.KindOf and deploy.MessageOf classify provisioning errors, so the daemon's API maps them
// to HTTP statuses like every other error.
func (e *Error) As(target any) bool {
	t, ok := target.(**deploy.Error)
	if !ok {
		return false
	}
	*t = &deploy.Error{Op: e.Op, Kind: e.deployKind(), Message: e.message()}
	return true
}

func (e *Error) deployKind() deploy.Kind {
	switch e.Kind {
	case KindStateLocked:
		return deploy.KindConflict
	case KindMissingVariable, KindInvalidOutput, KindInvalidConfig:
		return deploy.KindInvalid
	case KindNotInitialized, KindBinaryMissing, KindBinaryTooOld, KindNotConfirmed:
		return deploy.KindPrecondition
	case KindBackendUnreachable, KindCanceled:
		return deploy.KindUnavailable
	default:
		return deploy.KindInternal
	}
}

// KindOf returns the Kind of the first *Error in err's chain, or "" when there is none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

// LockInfo is what the backend records about the holder of a state lock (the "Lock Info" block that
// tofu/terraform prints).
type LockInfo struct {
	ID        string
	Path      string
	Operation string // e.g. OperationTypeApply
	Who       string // user@host
	Version   string // tofu/terraform version of the holder
	Created   time.Time
	Info      string
}

// Diagnostic is one diagnostic from the machine-readable UI stream.
type Diagnostic struct {
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail"`
	Address  string `json:"address,omitempty"`
}

var (
	lockFieldRE   = regexp.MustCompile(`(?m)^\s*(ID|Path|Operation|Who|Version|Created|Info):[ \t]*(.*?)\s*$`)
	missingVarRE  = regexp.MustCompile(`input variable "([^"]+)" is not set`)
	boxPrefixRE   = regexp.MustCompile(`(?m)^[│╷╵]\s?`)
	notInitMarker = []string{
		`Backend initialization required`, `please run "terraform init"`, `please run "tofu init"`,
		`Module not installed`, `Required plugins are not installed`, `Inconsistent dependency lock file`,
		`Missing required provider`, `Run "terraform init"`, `Run "tofu init"`, `run "terraform init"`, `run "tofu init"`,
	}
	unreachableMarker = []string{
		`connection refused`, `no such host`, `i/o timeout`, `dial tcp`, `send request failed`,
		`NoCredentialProviders`, `failed to refresh cached credentials`, `Failed to get existing workspaces`,
		`Error loading state`, `error loading state`, `Failed to load state`, `Failed to save state`,
		`Error refreshing state`, `network is unreachable`, `TLS handshake timeout`, `context deadline exceeded`,
	}
)

// parseLockInfo extracts the Lock Info block from an "Error acquiring the state lock" message.
func parseLockInfo(text string) *LockInfo {
	i := strings.Index(text, "Lock Info:")
	if i < 0 {
		return nil
	}
	li := &LockInfo{}
	for _, m := range lockFieldRE.FindAllStringSubmatch(text[i:], -1) {
		switch m[1] {
		case "ID":
			li.ID = m[2]
		case "Path":
			li.Path = m[2]
		case "Operation":
			li.Operation = m[2]
		case "Who":
			li.Who = m[2]
		case "Version":
			li.Version = m[2]
		case "Created":
			// Go's time.Time.String() format, e.g. "2026-01-02 15:04:05.123456789 +0000 UTC".
			if t, err := time.Parse("2006-01-02 15:04:05.999999999 -0700 MST", m[2]); err == nil {
				li.Created = t
			}
		case "Info":
			li.Info = m[2]
		}
		if m[1] == "Info" {
			break // what follows is advice text, not lock fields
		}
	}
	if li.ID == "" && li.Who == "" {
		return nil
	}
	return li
}

// describeLock is the operator-facing sentence about who holds the lock and what to do.
func describeLock(li *LockInfo, binary string, now time.Time) string {
	var b strings.Builder
	b.WriteString("state is locked")
	if li.Who != "" {
		b.WriteString(" by " + li.Who)
	}
	if li.Operation != "" {
		b.WriteString(" (" + strings.TrimPrefix(li.Operation, "OperationType") + ")")
	}
	if !li.Created.IsZero() {
		fmt.Fprintf(&b, " since %s (%s ago)", li.Created.UTC().Format(time.RFC3339), now.Sub(li.Created).Round(time.Second))
	}
	if li.ID != "" {
		fmt.Fprintf(&b, "; lock ID %s. Wait for that run to finish; if its holder is gone, run `%s force-unlock %s` in the stack directory", li.ID, binary, li.ID)
	}
	return b.String()
}

// classify turns a failed tofu/terraform run into a typed *Error. diags are the diagnostics seen on the
// JSON UI stream (JSON commands report errors there, not on stderr); runErr carries stderr.
func classify(ctx context.Context, op, binary string, runErr error, diags []Diagnostic) error {
	var errDiags []Diagnostic
	for _, d := range diags {
		if d.Severity == "error" {
			errDiags = append(errDiags, d)
		}
	}
	if runErr == nil && len(errDiags) == 0 {
		return nil
	}
	if ctx.Err() != nil {
		return &Error{Op: op, Kind: KindCanceled, Err: runErr, Diagnostics: errDiags, fromRun: true,
			Message: fmt.Sprintf("interrupted (%v): %s was asked to stop gracefully, which saves the state and releases the lock", ctx.Err(), binary)}
	}
	var text strings.Builder
	for _, d := range errDiags {
		text.WriteString(d.Summary + "\n" + d.Detail + "\n")
	}
	if runErr != nil {
		text.WriteString(boxPrefixRE.ReplaceAllString(runErr.Error(), ""))
	}
	all := text.String()
	e := &Error{Op: op, Err: runErr, Diagnostics: errDiags, fromRun: true}
	switch {
	case strings.Contains(all, "Error acquiring the state lock") && parseLockInfo(all) != nil:
		e.Kind = KindStateLocked
		e.Lock = parseLockInfo(all)
		e.Message = describeLock(e.Lock, binary, time.Now())
	case strings.Contains(all, "No value for required variable"):
		e.Kind = KindMissingVariable
		for _, m := range missingVarRE.FindAllStringSubmatch(all, -1) {
			if !contains(e.Variables, m[1]) {
				e.Variables = append(e.Variables, m[1])
			}
		}
		e.Message = fmt.Sprintf("missing required variable(s) %s: set them in a --var-file or with --var name=value", strings.Join(e.Variables, ", "))
	case containsAny(all, notInitMarker):
		e.Kind = KindNotInitialized
		e.Message = "the stack directory is not initialised for this configuration: run without --skip-init (switchyard runs init first), or run `" + binary + " init`"
	case containsAny(all, unreachableMarker):
		e.Kind = KindBackendUnreachable
		e.Message = "the state backend could not be reached: check --backend-config (bucket, region, DynamoDB table), credentials and network: " + firstLine(all)
	default:
		e.Kind = KindFailed
		e.Message = failureMessage(errDiags, runErr)
	}
	return e
}

func failureMessage(diags []Diagnostic, runErr error) string {
	if len(diags) > 0 {
		parts := make([]string, 0, len(diags))
		for _, d := range diags {
			s := d.Summary
			if d.Address != "" {
				s = d.Address + ": " + s
			}
			if d.Detail != "" {
				s += ": " + strings.TrimSpace(d.Detail)
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, "; ")
	}
	return strings.TrimSpace(boxPrefixRE.ReplaceAllString(runErr.Error(), ""))
}

func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "exit status") {
			return l
		}
	}
	return strings.TrimSpace(s)
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
