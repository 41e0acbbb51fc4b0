package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/clock"
)

// EnvTestClock sets the daemon's clock for tests only: "start=RFC3339[,rate=N]" makes the daemon's time
// begin at start and run N times faster than the wall clock (timers too). It is read only when serve is
// given --unsafe-test-clock, and serve refuses to start when one is set without the other, so a
// production daemon can never run on a shifted clock by accident: the configuration file has no such
// key, and the variable alone is an error. AWS calls, the API's own timeouts and the analysis engine
// stay on the wall clock.
const EnvTestClock = "SWITCHYARD_TEST_CLOCK"

// scaledClock is a clock.Clock that starts at start and runs rate times faster than the wall clock.
type scaledClock struct {
	start  time.Time
	origin time.Time // wall clock (monotonic) at start
	rate   float64
}

func (c scaledClock) Now() time.Time {
	return c.start.Add(time.Duration(float64(time.Since(c.origin)) * c.rate))
}

func (c scaledClock) After(d time.Duration) (<-chan time.Time, func()) {
	real := time.Duration(float64(d) / c.rate)
	out := make(chan time.Time, 1)
	t := time.AfterFunc(real, func() { out <- c.Now() })
	return out, func() { t.Stop() }
}

// parseTestClock reads EnvTestClock's value.
func parseTestClock(v string, now time.Time) (clock.Clock, error) {
	c := scaledClock{start: now, origin: now, rate: 1}
	for _, part := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		switch {
		case !ok:
			return nil, fmt.Errorf("%s: %q is not key=value (start=RFC3339, rate=N)", EnvTestClock, part)
		case k == "start":
			t, err := time.Parse(time.RFC3339, val)
			if err != nil {
				return nil, fmt.Errorf("%s: start %q is not RFC 3339", EnvTestClock, val)
			}
			c.start = t
		case k == "rate":
			r, err := strconv.ParseFloat(val, 64)
			if err != nil || !(r >= 1) || r > 10000 {
				return nil, fmt.Errorf("%s: rate %q must be a number in [1, 10000]", EnvTestClock, val)
			}
			c.rate = r
		default:
			return nil, fmt.Errorf("%s: unknown key %q (start, rate)", EnvTestClock, k)
		}
	}
	return c, nil
}

// testClock returns the test clock, nil for the wall clock, or an error when the variable and the
// switch disagree.
func testClock(allowed bool, env string) (clock.Clock, error) {
	switch {
	case env == "" && !allowed:
		return nil, nil
	case env == "":
		return nil, fmt.Errorf("--unsafe-test-clock is set but %s is empty", EnvTestClock)
	case !allowed:
		return nil, fmt.Errorf("%s is set: refusing to run on a test clock without --unsafe-test-clock (never in production)", EnvTestClock)
	}
	return parseTestClock(env, time.Now())
}

type clockKey struct{}

func withClock(ctx context.Context, c clock.Clock) context.Context {
	if c == nil {
		return ctx
	}
	return context.WithValue(ctx, clockKey{}, c)
}

// clockFrom is the daemon's clock: the test clock serve put in ctx, else the wall clock.
func clockFrom(ctx context.Context) clock.Clock {
	if c, ok := ctx.Value(clockKey{}).(clock.Clock); ok {
		return c
	}
	return clock.Real{}
}
