package deploy

import (
	"errors"
	"fmt"
)

// Kind classifies an error so that callers (the HTTP API, the CLI, the controller's retry logic) can react
// without parsing messages. The HTTP status for each kind is chosen in one place: package api.
type Kind string

const (
	KindInvalid      Kind = "invalid"      // bad input; nothing was changed
	KindNotFound     Kind = "not_found"    // no such service, deployment or image tag
	KindConflict     Kind = "conflict"     // e.g. another deployment of the service is active
	KindUnauthorized Kind = "unauthorized" // missing or unknown token
	KindForbidden    Kind = "forbidden"    // token may not do this (read-only)
	KindPrecondition Kind = "precondition" // the world is not in a state that allows this (e.g. unexplained split)
	KindUnavailable  Kind = "unavailable"  // a dependency (AWS, store) failed or timed out; may be retried
	KindTimeout      Kind = "timeout"      // a wait ran out of time
	// KindThrottled is AWS (or the daemon's own rate limiter) asking for fewer calls: back-pressure that
	// slows a deployment down, never by itself a reason to roll back or to refuse a request.
	KindThrottled Kind = "throttled"
	// KindGuardFiring refuses an action because a guard already says no (a guarding alarm in ALARM when
	// a deployment is requested); the request may be repeated with force and a reason.
	KindGuardFiring Kind = "guard_firing"
	KindInternal    Kind = "internal" // a bug or an unexpected state
)

// ErrBudgetWait marks a call that ran out of time waiting for the daemon's own AWS rate limiter (not
// for AWS): back-pressure inside the daemon, so a guard read that ends this way is delayed, not
// unreadable.
var ErrBudgetWait = errors.New("waited for the daemon's own API budget")

// Error is the project's error type: what was being done (Op), what kind of failure it is, a message for
// humans and the underlying cause.
type Error struct {
	Op      string // e.g. "controller.Create", "shifter.SetWeights"
	Kind    Kind
	Message string
	Err     error
	// ActiveID names the active deployment for KindConflict on a service that already has one.
	ActiveID string
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Err != nil {
		if msg == "" {
			msg = e.Err.Error()
		} else {
			msg = msg + ": " + e.Err.Error()
		}
	}
	if e.Op == "" {
		return msg
	}
	return e.Op + ": " + msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error with a formatted message.
func Errorf(op string, kind Kind, format string, args ...any) *Error {
	return &Error{Op: op, Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Wrap attaches an operation and kind to err. A nil err gives nil. When err already carries a kind and
// kind is empty, the inner kind is kept.
func Wrap(op string, kind Kind, err error, msg string) error {
	if err == nil {
		return nil
	}
	if kind == "" {
		kind = KindOf(err)
	}
	return &Error{Op: op, Kind: kind, Message: msg, Err: err}
}

// KindOf reports the kind of the outermost *Error in err's chain, or KindInternal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) && e.Kind != "" {
		return e.Kind
	}
	return KindInternal
}

// MessageOf returns the human message of err without operation prefixes, for API responses.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		if e.Message != "" {
			if e.Err != nil && e.Kind != KindInternal {
				return e.Message + ": " + MessageOf(e.Err)
			}
			return e.Message
		}
		if e.Err != nil {
			return MessageOf(e.Err)
		}
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

// ActiveIDOf returns the active deployment id carried by a conflict error, if any.
func ActiveIDOf(err error) string {
	var e *Error
	for errors.As(err, &e) {
		if e.ActiveID != "" {
			return e.ActiveID
		}
		err = e.Err
		if err == nil {
			break
		}
	}
	return ""
}
