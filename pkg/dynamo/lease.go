package dynamo

// Leases and operator commands (deploy.LeaseStore, deploy.CommandStore) on the store's table:
//
//	pk=LEASES  sk=LEASE#<deployment id>           one active deployment's lease: lease_owner,
//	                                              lease_epoch, lease_token, lease_ms, renewed_at,
//	                                              released, expires_ttl (set once released)
//	pk=LEASES  sk=CMD#<deployment id>#<command>   an operator command (data: JSON), pending or done
//
// Both live in one partition so that a daemon's scan of every lease and pending command is one
// strongly consistent Query per MB, never a read of the deployments' history. (At one renewal per
// lease every 2 s the partition takes 0.5 writes/s per active deployment, far under DynamoDB's 1,000
// writes/s per partition.) Every write for a deployment is fenced: a ConditionCheck on its lease item
// (lease_owner = :me AND lease_epoch = :e AND attribute_not_exists(released)) in the same
// TransactWriteItems (see fencedItems).

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/switchyard/switchyard/pkg/deploy"
)

const (
	pkLeases    = "LEASES"
	leasePrefix = "LEASE#"
	cmdPrefix   = "CMD#"
	// releasedTTL keeps a released lease item this long for the table's TTL to delete, when the
	// releasing daemon died before deleting it itself.
	releasedTTL = time.Hour
)

var (
	_ deploy.LeaseStore   = (*Store)(nil)
	_ deploy.CommandStore = (*Store)(nil)
)

func leaseKey(id string) map[string]types.AttributeValue { return key(pkLeases, leasePrefix+id) }

func cmdKey(deploymentID, id string) map[string]types.AttributeValue {
	return key(pkLeases, cmdPrefix+deploymentID+"#"+id)
}

// fenceCondition is the condition every fenced write puts on the deployment's lease item.
const fenceCondition = "lease_owner = :lo AND lease_epoch = :le AND attribute_not_exists(released)"

func fenceValues(f deploy.Fence) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{":lo": str(f.Owner), ":le": num(f.Epoch)}
}

// fenceCheck is the ConditionCheck that fences a transaction on f.
func (s *Store) fenceCheck(f deploy.Fence) types.TransactWriteItem {
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName: &s.table, Key: leaseKey(f.DeploymentID),
		ConditionExpression: aws.String(fenceCondition), ExpressionAttributeValues: fenceValues(f),
	}}
}

// fenceRelease marks f's lease released, fenced on f, in the transaction that ends the deployment:
// nobody takes over a finished deployment, and the owner's last events still pass their fence.
func (s *Store) fenceRelease(f deploy.Fence, now time.Time) types.TransactWriteItem {
	v := fenceValues(f)
	v[":t"] = &types.AttributeValueMemberBOOL{Value: true}
	v[":x"] = num(now.Add(releasedTTL).Unix())
	return types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table, Key: leaseKey(f.DeploymentID),
		UpdateExpression:    aws.String("SET released = :t, expires_ttl = :x"),
		ConditionExpression: aws.String(fenceCondition), ExpressionAttributeValues: v,
	}}
}

// leasePut creates l (epoch 1) in the transaction that creates its deployment.
func (s *Store) leasePut(l deploy.Lease) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName: &s.table, Item: leaseItem(l), ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}
}

// fenceAllows checks f on this daemon's own clock before a write is sent: a daemon woken from a pause
// past its lease sends nothing.
func fenceAllows(op string, f deploy.Fence) error {
	if err := f.Valid(); err != nil {
		return deploy.Wrap(op, deploy.KindConflict, err, "deployment "+f.DeploymentID)
	}
	return nil
}

func leaseLost(op, id string) error {
	return deploy.Wrap(op, deploy.KindConflict, deploy.ErrLeaseLost, "deployment "+id)
}

func leaseItem(l deploy.Lease) map[string]types.AttributeValue {
	it := leaseKey(l.DeploymentID)
	it["deployment_id"], it["service"] = str(l.DeploymentID), str(l.Service)
	it["lease_owner"], it["lease_epoch"], it["lease_token"] = str(l.Owner), num(l.Epoch), str(l.Token)
	it["lease_ms"] = num(l.Duration.Milliseconds())
	it["renewed_at"] = str(deploy.FormatSortableTime(l.RenewedAt))
	return it
}

func decodeLease(it map[string]types.AttributeValue) deploy.Lease {
	epoch, _ := numAttr(it, "lease_epoch")
	ms, _ := numAttr(it, "lease_ms")
	at, _ := deploy.ParseSortableTime(strAttr(it, "renewed_at"))
	rel, _ := it["released"].(*types.AttributeValueMemberBOOL)
	return deploy.Lease{
		DeploymentID: strAttr(it, "deployment_id"), Service: strAttr(it, "service"),
		Owner: strAttr(it, "lease_owner"), Epoch: epoch, Token: strAttr(it, "lease_token"),
		Duration: time.Duration(ms) * time.Millisecond, RenewedAt: at, Released: rel != nil && rel.Value,
	}
}

// ListLeases reads the lease partition with strongly consistent Query pages.
func (s *Store) ListLeases(ctx context.Context) ([]deploy.Lease, []deploy.Command, error) {
	const op = "dynamo.ListLeases"
	in := &dynamodb.QueryInput{
		TableName: &s.table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pkLeases)},
	}
	leases, cmds := []deploy.Lease{}, []deploy.Command{}
	for {
		page, err := s.c.Query(ctx, in)
		if err != nil {
			return nil, nil, awsErr(op, err, "list leases")
		}
		for _, it := range page.Items {
			sk := strAttr(it, "sk")
			switch {
			case strings.HasPrefix(sk, leasePrefix):
				leases = append(leases, decodeLease(it))
			case strings.HasPrefix(sk, cmdPrefix):
				var c deploy.Command
				if json.Unmarshal([]byte(strAttr(it, "data")), &c) == nil {
					cmds = append(cmds, c)
				}
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			return leases, cmds, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// Claim creates a lease for an active deployment that has none.
func (s *Store) Claim(ctx context.Context, l deploy.Lease) (deploy.Lease, error) {
	const op = "dynamo.Claim"
	l.Epoch, l.Token = 1, uuid.NewString()
	_, err := s.c.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table, Item: leaseItem(l), ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if conditionFailed(err) {
		return deploy.Lease{}, leaseLost(op, l.DeploymentID)
	}
	if err != nil {
		return deploy.Lease{}, awsErr(op, err, "claim lease of "+l.DeploymentID)
	}
	return l, nil
}

// Acquire takes over seen if its epoch and token are unchanged and it is not released.
func (s *Store) Acquire(ctx context.Context, seen deploy.Lease, owner string, d time.Duration) (deploy.Lease, error) {
	const op = "dynamo.Acquire"
	l := seen
	l.Owner, l.Epoch, l.Token, l.Duration, l.RenewedAt = owner, seen.Epoch+1, uuid.NewString(), d, time.Now().UTC()
	return l, s.updateLease(ctx, op, l, "lease_epoch = :pe AND lease_token = :pt AND attribute_not_exists(released)",
		map[string]types.AttributeValue{":pe": num(seen.Epoch), ":pt": str(seen.Token)})
}

// Renew sets a new token on l, conditional on its owner and epoch.
func (s *Store) Renew(ctx context.Context, l deploy.Lease) (deploy.Lease, error) {
	const op = "dynamo.Renew"
	l.Token = uuid.NewString()
	return l, s.updateLease(ctx, op, l, fenceCondition, fenceValues(deploy.Fence{Owner: l.Owner, Epoch: l.Epoch}))
}

func (s *Store) updateLease(ctx context.Context, op string, l deploy.Lease, cond string, vals map[string]types.AttributeValue) error {
	vals[":o"], vals[":e"], vals[":t"] = str(l.Owner), num(l.Epoch), str(l.Token)
	vals[":ms"], vals[":at"] = num(l.Duration.Milliseconds()), str(deploy.FormatSortableTime(l.RenewedAt))
	_, err := s.c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: leaseKey(l.DeploymentID),
		UpdateExpression:          aws.String("SET lease_owner = :o, lease_epoch = :e, lease_token = :t, lease_ms = :ms, renewed_at = :at"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeValues: vals,
	})
	if conditionFailed(err) {
		return leaseLost(op, l.DeploymentID)
	}
	return awsErr(op, err, "lease of "+l.DeploymentID)
}

// Release deletes l's item if l still holds it.
func (s *Store) Release(ctx context.Context, l deploy.Lease) error {
	const op = "dynamo.Release"
	_, err := s.c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Delete: &types.Delete{
		TableName: &s.table, Key: leaseKey(l.DeploymentID),
		ConditionExpression:       aws.String("lease_owner = :lo AND lease_epoch = :le"),
		ExpressionAttributeValues: fenceValues(deploy.Fence{Owner: l.Owner, Epoch: l.Epoch}),
	}}}})
	if cancelled(err) != nil {
		return nil // not ours any more (or gone): nothing to release
	}
	return awsErr(op, err, "release lease of "+l.DeploymentID)
}

// PutCommand stores a pending command; a retry of a put that committed stores nothing twice.
func (s *Store) PutCommand(ctx context.Context, c deploy.Command) error {
	const op = "dynamo.PutCommand"
	b, err := json.Marshal(c)
	if err != nil {
		return deploy.Wrap(op, deploy.KindInternal, err, "encode command")
	}
	it := cmdKey(c.DeploymentID, c.ID)
	it["data"] = str(string(b))
	_, err = s.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: it, ConditionExpression: aws.String("attribute_not_exists(pk)")})
	if conditionFailed(err) {
		return nil
	}
	return awsErr(op, err, "store command for "+c.DeploymentID)
}

// GetCommand reads a command with a strongly consistent read.
func (s *Store) GetCommand(ctx context.Context, deploymentID, id string) (deploy.Command, error) {
	const op = "dynamo.GetCommand"
	out, err := s.c.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: cmdKey(deploymentID, id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return deploy.Command{}, awsErr(op, err, "read command "+id)
	}
	if out.Item == nil {
		return deploy.Command{}, deploy.Errorf(op, deploy.KindNotFound, "no command %s for deployment %s", id, deploymentID)
	}
	var c deploy.Command
	if err := json.Unmarshal([]byte(strAttr(out.Item, "data")), &c); err != nil {
		return deploy.Command{}, deploy.Wrap(op, deploy.KindInternal, err, "decode command "+id)
	}
	return c, nil
}

// CompleteCommand records c's outcome, fenced on the owner's lease when ctx carries its fence.
func (s *Store) CompleteCommand(ctx context.Context, c deploy.Command) error {
	const op = "dynamo.CompleteCommand"
	b, err := json.Marshal(c)
	if err != nil {
		return deploy.Wrap(op, deploy.KindInternal, err, "encode command")
	}
	it := cmdKey(c.DeploymentID, c.ID)
	it["data"] = str(string(b))
	it["expires_ttl"] = num(time.Now().Add(releasedTTL).Unix())
	items := []types.TransactWriteItem{{Put: &types.Put{TableName: &s.table, Item: it}}}
	f, fenced := deploy.FenceFrom(ctx, c.DeploymentID)
	if fenced {
		if err := fenceAllows(op, f); err != nil {
			return err
		}
		items = append(items, s.fenceCheck(f))
	}
	_, err = s.c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if failed := cancelled(err); fenced && len(failed) > 1 && failed[1] {
		return leaseLost(op, c.DeploymentID)
	}
	return awsErr(op, err, "complete command "+c.ID)
}

// DeleteCommand removes a command (its requester read the outcome).
func (s *Store) DeleteCommand(ctx context.Context, deploymentID, id string) error {
	const op = "dynamo.DeleteCommand"
	_, err := s.c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: &s.table, Key: cmdKey(deploymentID, id)}}}})
	return awsErr(op, err, "delete command "+id)
}

func conditionFailed(err error) bool {
	var cf *types.ConditionalCheckFailedException
	return errors.As(err, &cf)
}

// epochString renders a fence's epoch for the journal.
func epochString(f deploy.Fence) string { return strconv.FormatInt(f.Epoch, 10) }
