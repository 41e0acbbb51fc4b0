package dynamo

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/deploy/storetest"
	"github.com/switchyard/switchyard/test/emulator"
)

func TestMain(m *testing.M) {
	code := m.Run()
	emulator.StopShared()
	os.Exit(code)
}

var tableN atomic.Int64

// newStore returns a store on a fresh table in the shared emulator.
func newStore(t *testing.T) (*Store, *dynamodb.Client) {
	t.Helper()
	k := emulator.Shared(t)
	c := dynamodb.NewFromConfig(emulator.Config(k.URL))
	table := fmt.Sprintf("switchyard-%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), tableN.Add(1))
	ctx := emulator.Context(t, 30*time.Second)
	if err := EnsureTable(ctx, c, table); err != nil {
		t.Fatalf("EnsureTable: %v", err)
	}
	return New(c, table), c
}

// TestConformance runs the deploy.Store contract on a fresh table of the shared kumo emulator per check.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) deploy.Store { s, _ := newStore(t); return s })
}

func TestEnsureTableIdempotent(t *testing.T) {
	s, c := newStore(t)
	if err := EnsureTable(emulator.Context(t, 30*time.Second), c, s.table); err != nil {
		t.Fatalf("second EnsureTable: %v", err)
	}
}

// TestMissingTableIsUnavailable pins what a daemon pointed at a table that was never created reports:
// a retryable error that names the fix, not a not-found for the deployment.
func TestMissingTableIsUnavailable(t *testing.T) {
	k := emulator.Shared(t)
	s := New(dynamodb.NewFromConfig(emulator.Config(k.URL)), "switchyard-never-created")
	_, err := s.GetDeployment(context.Background(), "d-1")
	storetest.AssertKind(t, err, deploy.KindUnavailable)
	if !strings.Contains(err.Error(), "run EnsureTable") {
		t.Fatalf("error does not name the fix: %v", err)
	}
}
