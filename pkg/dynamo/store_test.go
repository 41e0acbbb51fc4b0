package dynamo

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

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

// recorder is a Client that records every call it passes on.
type recorder struct {
	Client
	mu    sync.Mutex
	calls []string
}

func (r *recorder) add(call string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call)
}

func (r *recorder) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	pk := in.Key["pk"].(*types.AttributeValueMemberS).Value
	sk := in.Key["sk"].(*types.AttributeValueMemberS).Value
	r.add(fmt.Sprintf("GetItem %s/%s consistent=%t", pk, sk, aws.ToBool(in.ConsistentRead)))
	return r.Client.GetItem(ctx, in, opts...)
}

func (r *recorder) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	r.add("Query " + aws.ToString(in.IndexName))
	return r.Client.Query(ctx, in, opts...)
}

// TestActiveDeploymentIsConsistentPointRead pins issue 7's "finding a service's active deployment is a
// strongly consistent point read, not a filtered scan of its history": the lock item, then the
// deployment it names, and nothing else.
func TestActiveDeploymentIsConsistentPointRead(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	for i := range 5 {
		d := storetest.Pending(fmt.Sprintf("old-%d", i), "web", i)
		d.State = deploy.StateSucceeded
		if err := s.CreateDeployment(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateDeployment(ctx, storetest.Pending("d-1", "web", 9)); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{Client: s.c}
	rs := New(rec, s.table)
	got, err := rs.ActiveDeployment(ctx, "web")
	if err != nil || got.ID != "d-1" {
		t.Fatalf("ActiveDeployment: %+v, %v", got, err)
	}
	want := []string{"GetItem SERVICE#web/ACTIVE consistent=true", "GetItem DEPLOYMENT#d-1/DEPLOYMENT consistent=true"}
	if !reflect.DeepEqual(rec.calls, want) {
		t.Fatalf("calls %q, want %q", rec.calls, want)
	}
	rec.calls = nil
	_, err = rs.ActiveDeployment(ctx, "api")
	storetest.AssertKind(t, err, deploy.KindNotFound)
	if want := []string{"GetItem SERVICE#api/ACTIVE consistent=true"}; !reflect.DeepEqual(rec.calls, want) {
		t.Fatalf("calls %q, want %q", rec.calls, want)
	}
}

// TestLockWithoutRecordIsQuarantined: a lock item naming a deployment that has no record keeps the
// service locked and is reported, not an error that stops the caller.
func TestLockWithoutRecordIsQuarantined(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table,
		Item: lockItem(&deploy.Deployment{ID: "ghost", Service: "web"})}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ActiveDeployment(ctx, "web")
	if err != nil || got.ID != "ghost" || got.Service != "web" || !strings.Contains(got.Quarantine, "no record") {
		t.Fatalf("ActiveDeployment: %+v, %v", got, err)
	}
	err = s.CreateDeployment(ctx, storetest.Pending("d-1", "web", 0))
	storetest.AssertKind(t, err, deploy.KindConflict)
	if deploy.ActiveIDOf(err) != "ghost" {
		t.Fatalf("conflict names %q", deploy.ActiveIDOf(err))
	}
}

// TestRetriedCreateNeedsTheLock: a create that finds its own record is a retry only if the service's
// lock names it too; the record alone does not prove the deployment holds the service.
func TestRetriedCreateNeedsTheLock(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	d := storetest.Pending("d-1", "web", 0)
	if err := s.CreateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table,
		Item: lockItem(&deploy.Deployment{ID: "other", Service: "web"})}); err != nil {
		t.Fatal(err)
	}
	d.Version = 0
	storetest.AssertKind(t, s.CreateDeployment(ctx, d), deploy.KindConflict)
	if d.Version != 0 {
		t.Fatalf("refused retry set Version %d", d.Version)
	}
}
