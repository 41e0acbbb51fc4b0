// Package dynamo is a deploy.Store on one DynamoDB table, for several switchyard daemons sharing state.
//
// Table layout (single table, string keys pk/sk):
//
//	pk=DEPLOYMENT#<id>  sk=DEPLOYMENT        the deployment: data (JSON), version, state, active, service,
//	                                         created_at; gsi1pk=DEPLOYMENTS and gsi2pk=SERVICE#<service>,
//	                                         both with sk <created_at>#<id>, for listing newest first
//	pk=DEPLOYMENT#<id>  sk=EVENT#<seq:020d>  one audit event
//	pk=SERVICE#<name>   sk=ACTIVE            the service's deployment lock: deployment_id of the holder
//	pk=COUNTER          sk=EVENTS            the event sequence (atomic ADD)
//	pk=EVENTID#<id>     sk=EVENTID           an event id taken by the event seq of deployment_id
//
// The lock item is written in the same TransactWriteItems as the deployment, so "at most one active
// deployment per service" holds across daemons; updates are conditional on the stored version.
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// Client is the part of the DynamoDB API the store uses; *dynamodb.Client implements it.
type Client interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// TableClient adds what EnsureTable needs.
type TableClient interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// Index names.
const (
	IndexAll     = "gsi1" // every deployment, newest first
	IndexService = "gsi2" // one service's deployments, newest first
)

const (
	skDeployment = "DEPLOYMENT"
	skLock       = "ACTIVE"
	pkAll        = "DEPLOYMENTS"
	eventPrefix  = "EVENT#"
	skEventID    = "EVENTID"
)

// Store implements deploy.Store on a DynamoDB table.
type Store struct {
	c     Client
	table string
}

var _ deploy.Store = (*Store)(nil)

// New returns a store on an existing table (see EnsureTable).
func New(c Client, table string) *Store { return &Store{c: c, table: table} }

// Close does nothing: the client belongs to the caller.
func (s *Store) Close() error { return nil }

// EnsureTable creates the table with its two indexes (on-demand billing) unless it exists, and waits
// until it is ACTIVE.
func EnsureTable(ctx context.Context, c TableClient, table string) error {
	const op = "dynamo.EnsureTable"
	str := func(names ...string) []types.AttributeDefinition {
		var out []types.AttributeDefinition
		for _, n := range names {
			out = append(out, types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: types.ScalarAttributeTypeS})
		}
		return out
	}
	keys := func(h, r string) []types.KeySchemaElement {
		return []types.KeySchemaElement{
			{AttributeName: aws.String(h), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(r), KeyType: types.KeyTypeRange},
		}
	}
	all := &types.Projection{ProjectionType: types.ProjectionTypeAll}
	// A table that exists (from Terraform) is used as it is: the daemon's role then needs no
	// dynamodb:CreateTable (docs/ha.md), and AccessDenied on CreateTable never stops a start.
	_, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	var missing *types.ResourceNotFoundException
	switch {
	case err == nil:
		return waitActive(ctx, c, table)
	case !errors.As(err, &missing):
		return deploy.Wrap(op, deploy.KindUnavailable, err, "describe table "+table)
	}
	_, err = c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: str("pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"),
		KeySchema:            keys("pk", "sk"),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			{IndexName: aws.String(IndexAll), KeySchema: keys("gsi1pk", "gsi1sk"), Projection: all},
			{IndexName: aws.String(IndexService), KeySchema: keys("gsi2pk", "gsi2sk"), Projection: all},
		},
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return deploy.Wrap(op, deploy.KindUnavailable, err, "create table "+table)
	}
	return waitActive(ctx, c, table)
}

// waitActive waits until table is ACTIVE (a table just created, or one still being created).
func waitActive(ctx context.Context, c TableClient, table string) error {
	const op = "dynamo.EnsureTable"
	for {
		out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			return deploy.Wrap(op, deploy.KindUnavailable, err, "describe table "+table)
		}
		if out.Table != nil && out.Table.TableStatus == types.TableStatusActive {
			return nil
		}
		select {
		case <-ctx.Done():
			return deploy.Wrap(op, deploy.KindTimeout, ctx.Err(), "table "+table+" not active")
		case <-time.After(time.Second):
		}
	}
}

// CreateDeployment stores d with Version 1 and, when d is active, takes its service's lock in the same
// transaction. A held lock is KindConflict with ActiveID; an existing id is KindConflict.
func (s *Store) CreateDeployment(ctx context.Context, d *deploy.Deployment) error {
	const op = "dynamo.CreateDeployment"
	if err := deploy.ValidateStored(op, d); err != nil {
		return err
	}
	item, err := deploymentItem(op, d, 1)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{{Put: &types.Put{
		TableName: &s.table, Item: item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}}
	if d.State.Active() {
		items = append(items, types.TransactWriteItem{Put: &types.Put{
			TableName:           &s.table,
			Item:                lockItem(d),
			ConditionExpression: aws.String("attribute_not_exists(pk)"),
		}})
	}
	if l, ok := deploy.NewLeaseFrom(ctx, d.ID); ok && d.State.Active() {
		// The creating daemon owns the deployment from its first write (see lease.go).
		items = append(items, s.leasePut(l))
		item["lease_owner"], item["lease_epoch"] = str(l.Owner), num(l.Epoch)
	}
	_, err = s.c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if failed := cancelled(err); failed != nil {
		if failed[0] {
			// A retry of a create that committed (the caller saw an error) finds its own record.
			if same, rerr := s.sameRecord(ctx, op, d, 1); rerr != nil || same {
				if rerr == nil {
					d.Version = 1
				}
				return rerr
			}
		}
		switch {
		case failed[0]:
			return deploy.DeploymentExistsError(op, d.ID)
		case len(failed) > 1 && failed[1]:
			return s.lockConflict(ctx, op, d)
		}
	}
	if err != nil {
		return awsErr(op, err, "create deployment "+d.ID)
	}
	d.Version = 1
	return nil
}

// sameRecord reports whether the stored record d.ID is at version and holds exactly what d would
// store (deploy.SameStored), and, when d is active, its service's lock names d: d is then a retry of a
// write that committed. Both reads are strongly consistent.
func (s *Store) sameRecord(ctx context.Context, op string, d *deploy.Deployment, version int64) (bool, error) {
	out, err := s.c.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: key("DEPLOYMENT#"+d.ID, skDeployment), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return false, awsErr(op, err, "read deployment "+d.ID)
	}
	if out.Item == nil {
		return false, nil
	}
	stored, err := numAttr(out.Item, "version")
	if err != nil || stored != version || strAttr(out.Item, "service") != d.Service ||
		!deploy.SameStored([]byte(strAttr(out.Item, "data")), d) {
		return false, nil
	}
	if !d.State.Active() {
		return true, nil
	}
	holder, err := s.lockHolder(ctx, d.Service)
	if err != nil {
		return false, awsErr(op, err, "read lock of service "+d.Service)
	}
	return holder == d.ID, nil
}

// UpdateDeployment stores d if d.Version is the stored version. An active d keeps (or takes) its
// service's lock in the same transaction; a terminal d releases it if it holds it.
func (s *Store) UpdateDeployment(ctx context.Context, d *deploy.Deployment) error {
	const op = "dynamo.UpdateDeployment"
	if err := deploy.ValidateStored(op, d); err != nil {
		return err
	}
	next := d.Version + 1
	item, err := deploymentItem(op, d, next)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{{Put: &types.Put{
		TableName: &s.table, Item: item,
		ConditionExpression:       aws.String("version = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(d.Version)},
	}}}
	mine := map[string]types.AttributeValue{":id": str(d.ID)}
	if d.State.Active() {
		items = append(items, types.TransactWriteItem{Put: &types.Put{
			TableName: &s.table, Item: lockItem(d),
			ConditionExpression:       aws.String("attribute_not_exists(pk) OR deployment_id = :id"),
			ExpressionAttributeValues: mine,
		}})
	} else {
		// Release the lock only if this deployment holds it. A transaction cannot express "delete if
		// mine, else leave it", so read first: only the holder ever deletes the lock, so a lock seen as
		// ours stays ours until this write.
		holder, err := s.lockHolder(ctx, d.Service)
		if err != nil {
			return awsErr(op, err, "read lock of service "+d.Service)
		}
		if holder == d.ID {
			items = append(items, types.TransactWriteItem{Delete: &types.Delete{
				TableName: &s.table, Key: key("SERVICE#"+d.Service, skLock),
				ConditionExpression:       aws.String("deployment_id = :id"),
				ExpressionAttributeValues: mine,
			}})
		}
	}
	f, fenced := deploy.FenceFrom(ctx, d.ID)
	if fenced {
		// Fenced on the owner's lease (lease.go): the record is written only by the daemon that holds
		// it, and it records the epoch it was written under; the write that ends it releases the lease.
		if err := fenceAllows(op, f); err != nil {
			return err
		}
		item["lease_owner"], item["lease_epoch"] = str(f.Owner), num(f.Epoch)
		if d.State.Active() {
			items = append(items, s.fenceCheck(f))
		} else {
			items = append(items, s.fenceRelease(f, time.Now()))
		}
	}
	_, err = s.c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if failed := cancelled(err); failed != nil {
		fenceFailed := fenced && failed[len(failed)-1]
		switch {
		case failed[0]:
			// A retry of an update that committed (the caller saw an error) finds its own record one
			// version on (its fence may fail now: it released the lease); anything else is a real conflict.
			if same, rerr := s.sameRecord(ctx, op, d, next); rerr != nil || same {
				if rerr == nil {
					d.Version = next
				}
				return rerr
			}
			if fenceFailed {
				return leaseLost(op, d.ID)
			}
			stored, gerr := s.GetDeployment(ctx, d.ID)
			if gerr != nil {
				return deploy.Wrap(op, "", gerr, "update deployment "+d.ID)
			}
			return deploy.StaleVersionError(op, d.ID, d.Version, stored.Version)
		case fenceFailed:
			return leaseLost(op, d.ID)
		case len(failed) > 1 && failed[1] && d.State.Active():
			return s.lockConflict(ctx, op, d)
		}
	}
	if err != nil {
		return awsErr(op, err, "update deployment "+d.ID)
	}
	d.Version = next
	return nil
}

// GetDeployment reads a deployment with a strongly consistent read. A record that cannot be read back
// is returned quarantined (deploy.ReadStored), not as an error.
func (s *Store) GetDeployment(ctx context.Context, id string) (*deploy.Deployment, error) {
	const op = "dynamo.GetDeployment"
	out, err := s.c.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: key("DEPLOYMENT#"+id, skDeployment), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, awsErr(op, err, "read deployment "+id)
	}
	if out.Item == nil {
		return nil, deploy.DeploymentNotFoundError(op, id)
	}
	return decodeDeployment(out.Item), nil
}

// ActiveDeployment reads the service's lock item and then the deployment it names, both with strongly
// consistent point reads (no index, no scan of the service's history). A lock naming a record that
// does not exist is returned as a quarantined stub: the service stays locked and visible.
func (s *Store) ActiveDeployment(ctx context.Context, service string) (*deploy.Deployment, error) {
	const op = "dynamo.ActiveDeployment"
	holder, err := s.lockHolder(ctx, service)
	if err != nil {
		return nil, awsErr(op, err, "read lock of service "+service)
	}
	if holder == "" {
		return nil, deploy.Errorf(op, deploy.KindNotFound, "service %s has no active deployment", service)
	}
	d, err := s.GetDeployment(ctx, holder)
	if deploy.KindOf(err) == deploy.KindNotFound {
		return deploy.Quarantined(holder, service, "", 0, "the lock of service "+service+" names deployment "+holder+", which has no record"), nil
	}
	if err != nil {
		return nil, deploy.Wrap(op, "", err, "read active deployment of service "+service)
	}
	return d, nil
}

// ListDeployments returns deployments newest first (created_at, then id, descending). It reads a global
// secondary index, which DynamoDB keeps eventually consistent: a deployment created a moment ago may
// be missing (ActiveDeployment is the consistent read). Records that cannot be read back are listed
// quarantined.
func (s *Store) ListDeployments(ctx context.Context, f deploy.ListFilter) ([]*deploy.Deployment, error) {
	const op = "dynamo.ListDeployments"
	limit, err := deploy.ListLimit(op, f)
	if err != nil {
		return nil, err
	}
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(IndexAll),
		KeyConditionExpression:    aws.String("gsi1pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pkAll)},
		ScanIndexForward:          aws.Bool(false),
	}
	if f.Service != "" {
		in.IndexName = aws.String(IndexService)
		in.KeyConditionExpression = aws.String("gsi2pk = :pk")
		in.ExpressionAttributeValues[":pk"] = str("SERVICE#" + f.Service)
	}
	if f.ActiveOnly {
		in.FilterExpression = aws.String("active = :t")
		in.ExpressionAttributeValues[":t"] = &types.AttributeValueMemberBOOL{Value: true}
	} else {
		in.Limit = aws.Int32(int32(limit))
	}
	out := make([]*deploy.Deployment, 0)
	for len(out) < limit {
		page, err := s.c.Query(ctx, in)
		if err != nil {
			return nil, awsErr(op, err, "list deployments")
		}
		for _, it := range page.Items {
			if out = append(out, decodeDeployment(it)); len(out) == limit {
				break
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	return out, nil
}

func (s *Store) lockHolder(ctx context.Context, service string) (string, error) {
	out, err := s.c.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: key("SERVICE#"+service, skLock), ConsistentRead: aws.Bool(true),
	})
	if err != nil || out.Item == nil {
		return "", err
	}
	v, _ := out.Item["deployment_id"].(*types.AttributeValueMemberS)
	if v == nil {
		return "", nil
	}
	return v.Value, nil
}

func (s *Store) lockConflict(ctx context.Context, op string, d *deploy.Deployment) error {
	active, err := s.lockHolder(ctx, d.Service)
	if err != nil {
		return awsErr(op, err, "read lock of service "+d.Service)
	}
	return deploy.ServiceLockedError(op, d.Service, active)
}

// cancelled returns, for a cancelled transaction, which of its items failed their condition; nil for
// any other outcome. DynamoDB reports "None" for items that passed (kumo leaves the code empty).
func cancelled(err error) []bool {
	var tc *types.TransactionCanceledException
	if !errors.As(err, &tc) || len(tc.CancellationReasons) == 0 {
		return nil
	}
	out := make([]bool, len(tc.CancellationReasons))
	hit := false
	for i, r := range tc.CancellationReasons {
		out[i] = aws.ToString(r.Code) == "ConditionalCheckFailed"
		hit = hit || out[i]
	}
	if !hit {
		return nil
	}
	return out
}

// awsErr wraps a DynamoDB failure; throttling, transaction conflicts and network errors are all
// "unavailable" (retryable).
func awsErr(op string, err error, msg string) error {
	var rnf *types.ResourceNotFoundException
	if errors.As(err, &rnf) && !errors.Is(err, context.DeadlineExceeded) {
		msg += " (table missing? run EnsureTable)"
	}
	return deploy.StoreFailure(op, err, msg)
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str(pk), "sk": str(sk)}
}

func numAttr(item map[string]types.AttributeValue, name string) (int64, error) {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("attribute %s missing or not a number", name)
	}
	return strconv.ParseInt(v.Value, 10, 64)
}

func strAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func lockItem(d *deploy.Deployment) map[string]types.AttributeValue {
	it := key("SERVICE#"+d.Service, skLock)
	it["deployment_id"] = str(d.ID)
	return it
}

// deploymentItem is d as deploy.EncodeStored writes it with the given version, plus the attributes the
// lock, the conditions and the indexes need.
func deploymentItem(op string, d *deploy.Deployment, version int64) (map[string]types.AttributeValue, error) {
	b, err := deploy.EncodeStored(op, d, version)
	if err != nil {
		return nil, err
	}
	sortKey := deploy.FormatSortableTime(d.CreatedAt) + "#" + d.ID
	it := key("DEPLOYMENT#"+d.ID, skDeployment)
	it["id"] = str(d.ID)
	it["service"] = str(d.Service)
	it["state"] = str(string(d.State))
	it["active"] = &types.AttributeValueMemberBOOL{Value: d.State.Active()}
	it["created_at"] = str(deploy.FormatSortableTime(d.CreatedAt))
	it["version"] = num(version)
	it["data"] = str(string(b))
	it["gsi1pk"], it["gsi1sk"] = str(pkAll), str(sortKey)
	it["gsi2pk"], it["gsi2sk"] = str("SERVICE#"+d.Service), str(sortKey)
	return it, nil
}

// decodeDeployment reads a deployment item with deploy.ReadStored: the id, service, state and version
// attributes stand for the record when its data cannot be read back.
func decodeDeployment(item map[string]types.AttributeValue) *deploy.Deployment {
	id, service, state := strAttr(item, "id"), strAttr(item, "service"), deploy.State(strAttr(item, "state"))
	v, err := numAttr(item, "version")
	if err != nil {
		return deploy.Quarantined(id, service, state, 0, "stored record cannot be decoded: "+err.Error())
	}
	return deploy.ReadStored([]byte(strAttr(item, "data")), id, service, state, v)
}
