package config

import (
	"strings"
	"testing"
	"time"
)

func TestLeaseDefaultsOnDynamoDB(t *testing.T) {
	c, err := Parse([]byte("store: {driver: dynamodb, table: t}\n" + minimalService))
	if err != nil {
		t.Fatal(err)
	}
	if c.Store.LeaseTime.D() != 6*time.Second || c.Store.LeaseScan.D() != time.Second || c.Store.DaemonName != "" {
		t.Fatalf("lease defaults: %+v", c.Store)
	}
	c, err = Parse([]byte("store: {driver: dynamodb, table: t, lease_time: 2s, daemon_name: web-1}\n" + minimalService))
	if err != nil {
		t.Fatal(err)
	}
	if c.Store.LeaseTime.D() != 2*time.Second || c.Store.LeaseScan.D() != 500*time.Millisecond || c.Store.DaemonName != "web-1" {
		t.Fatalf("scan follows a short lease (lease/4): %+v", c.Store)
	}
	// poll_interval does not drive the lease scan (a fast alarm poll must not multiply lease reads).
	c, err = Parse([]byte("poll_interval: 100ms\nstore: {driver: dynamodb, table: t}\n" + minimalService))
	if err != nil {
		t.Fatal(err)
	}
	if c.Store.LeaseScan.D() != time.Second {
		t.Fatalf("lease_scan %s with a 100ms poll, want 1s", c.Store.LeaseScan)
	}
	c, err = Parse([]byte(minimalService))
	if err != nil || c.Store.LeaseTime != 0 || c.Store.LeaseScan != 0 {
		t.Fatalf("sqlite has no leases: %+v %v", c.Store, err)
	}
}

func TestLeaseMistakesNameTheirKey(t *testing.T) {
	for store, want := range map[string]string{
		"{driver: dynamodb, table: t, lease_time: 100ms}":                "store.lease_time: 100ms must be between",
		"{driver: dynamodb, table: t, lease_time: 2m}":                   "store.lease_time: 2m0s must be between",
		"{driver: dynamodb, table: t, lease_time: 4s, lease_scan: 2s}":   "store.lease_scan: 2s must be between 100ms and lease_time/4 (1s)",
		"{driver: dynamodb, table: t, lease_scan: 10ms}":                 "store.lease_scan: 10ms",
		"{driver: dynamodb, table: t, daemon_name: a/b}":                 `store.daemon_name: "a/b"`,
		"{driver: sqlite, path: x.db, lease_time: 6s}":                   "only for the dynamodb store",
		"{driver: dynamodb, table: t, lease_time: 6s, lease_scan: 1.5s}": "",
	} {
		_, err := Parse([]byte("store: " + store + "\n" + minimalService))
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", store, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: got %v, want %q", store, err, want)
		}
	}
}
