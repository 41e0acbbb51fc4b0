package cli

import (
	"strings"
	"testing"
	"time"
)

func TestTestClockNeedsBothTheSwitchAndTheVariable(t *testing.T) {
	if c, err := testClock(false, ""); c != nil || err != nil {
		t.Fatalf("production: %v %v, want the wall clock", c, err)
	}
	if _, err := testClock(false, "start=2026-12-07T06:55:00-05:00,rate=60"); err == nil || !strings.Contains(err.Error(), "--unsafe-test-clock") {
		t.Fatalf("variable without the switch: %v, want a refusal", err)
	}
	if _, err := testClock(true, ""); err == nil {
		t.Fatal("switch without the variable accepted")
	}
	for _, bad := range []string{"rate=0.5", "rate=x", "start=tomorrow", "speed=2", "60"} {
		if _, err := testClock(true, bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	c, err := testClock(true, "start=2026-12-07T06:55:00-05:00,rate=600")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 7, 11, 55, 0, 0, time.UTC)
	if now := c.Now(); now.Before(start) || now.After(start.Add(time.Minute)) {
		t.Fatalf("Now %s, want just after %s", now, start)
	}
	// A virtual minute passes in 100ms of wall time.
	before, wall := c.Now(), time.Now()
	wake, stop := c.After(time.Minute)
	defer stop()
	at := <-wake
	if got := time.Since(wall); got > 2*time.Second {
		t.Fatalf("a virtual minute took %s of wall time at rate 600", got)
	}
	if at.Sub(before) < time.Minute {
		t.Fatalf("timer fired at +%s virtual, want at least 1m", at.Sub(before))
	}
}
