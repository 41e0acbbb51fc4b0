package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// AppendEvent takes the next sequence number from the store-wide counter and stores e under it. A
// failed write leaves a gap in the sequence, never a duplicate. An e.ID is claimed by an id item in
// the same transaction as the event: an id that is already stored (a retry of an append that
// committed) stores nothing and sets e.Seq to the stored event's, and the id on another deployment's
// event is KindConflict.
func (s *Store) AppendEvent(ctx context.Context, e *deploy.Event) error {
	const op = "dynamo.AppendEvent"
	if err := deploy.ValidateEvent(op, e); err != nil {
		return err
	}
	f, fenced := deploy.FenceFrom(ctx, e.DeploymentID)
	if fenced {
		// Checked before the sequence number is taken: a stale owner writes nothing at all.
		if err := fenceAllows(op, f); err != nil {
			return err
		}
	}
	out, err := s.c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       key("COUNTER", "EVENTS"),
		UpdateExpression:          aws.String("ADD seq :one"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1)},
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return awsErr(op, err, "take event sequence number")
	}
	seq, err := numAttr(out.Attributes, "seq")
	if err != nil {
		return deploy.Wrap(op, deploy.KindInternal, err, "read event sequence number")
	}
	item := eventItem(e, seq)
	if fenced {
		item["lease_epoch"] = num(f.Epoch)
		return s.appendFenced(ctx, op, e, item, seq, f)
	}
	if e.ID == "" {
		_, err = s.c.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
		})
	} else {
		claim := key("EVENTID#"+e.ID, skEventID)
		claim["seq"], claim["deployment_id"] = num(seq), str(e.DeploymentID)
		_, err = s.c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
			{Put: &types.Put{TableName: &s.table, Item: claim, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		}})
		if failed := cancelled(err); len(failed) > 1 && failed[1] {
			return s.storedEvent(ctx, op, e)
		}
	}
	if err != nil {
		return awsErr(op, err, "append event to deployment "+e.DeploymentID)
	}
	e.Seq = seq
	return nil
}

// appendFenced stores the event (and its id claim) only while f holds the deployment's lease.
func (s *Store) appendFenced(ctx context.Context, op string, e *deploy.Event, item map[string]types.AttributeValue, seq int64, f deploy.Fence) error {
	items := []types.TransactWriteItem{{Put: &types.Put{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}}}
	if e.ID != "" {
		claim := key("EVENTID#"+e.ID, skEventID)
		claim["seq"], claim["deployment_id"] = num(seq), str(e.DeploymentID)
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: claim, ConditionExpression: aws.String("attribute_not_exists(pk)")}})
	}
	// A released lease still fences the owner's last events (the record's final write released it).
	items = append(items, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName: &s.table, Key: leaseKey(f.DeploymentID),
		ConditionExpression: aws.String("lease_owner = :lo AND lease_epoch = :le"), ExpressionAttributeValues: fenceValues(f),
	}})
	_, err := s.c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if failed := cancelled(err); failed != nil {
		if e.ID != "" && failed[1] {
			return s.storedEvent(ctx, op, e)
		}
		if failed[len(failed)-1] {
			return leaseLost(op, e.DeploymentID)
		}
	}
	if err != nil {
		return awsErr(op, err, "append event to deployment "+e.DeploymentID)
	}
	e.Seq = seq
	return nil
}

// storedEvent sets e.Seq from the id item of e.ID (a strongly consistent read; id items are never
// deleted).
func (s *Store) storedEvent(ctx context.Context, op string, e *deploy.Event) error {
	out, err := s.c.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: key("EVENTID#"+e.ID, skEventID), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return awsErr(op, err, "read event "+e.ID)
	}
	seq, err := numAttr(out.Item, "seq")
	if err != nil {
		return deploy.Wrap(op, deploy.KindInternal, err, "read event "+e.ID)
	}
	if err := deploy.SameEvent(op, e, strAttr(out.Item, "deployment_id")); err != nil {
		return err
	}
	e.Seq = seq
	return nil
}

func eventItem(e *deploy.Event, seq int64) map[string]types.AttributeValue {
	item := key("DEPLOYMENT#"+e.DeploymentID, eventSK(seq))
	item["seq"] = num(seq)
	item["deployment_id"] = str(e.DeploymentID)
	item["service"] = str(e.Service)
	item["time"] = str(deploy.FormatSortableTime(e.Time))
	item["actor"] = str(e.Actor)
	item["action"] = str(e.Action)
	item["state"] = str(string(e.State))
	item["reason"] = str(e.Reason)
	if e.ID != "" {
		item["event_id"] = str(e.ID)
	}
	if len(e.Detail) > 0 {
		m := make(map[string]types.AttributeValue, len(e.Detail))
		for k, v := range e.Detail {
			m[k] = str(v)
		}
		item["detail"] = &types.AttributeValueMemberM{Value: m}
	}
	return item
}

// Events returns a deployment's events after afterSeq, oldest first, with strongly consistent reads.
func (s *Store) Events(ctx context.Context, deploymentID string, afterSeq int64) ([]deploy.Event, error) {
	const op = "dynamo.Events"
	if afterSeq < 0 {
		afterSeq = 0
	}
	in := &dynamodb.QueryInput{
		TableName:              &s.table,
		ConsistentRead:         aws.Bool(true),
		KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :lo AND :hi"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str("DEPLOYMENT#" + deploymentID),
			":lo": str(eventSK(afterSeq + 1)),
			":hi": str(eventPrefix + "~"), // '~' sorts after every digit
		},
	}
	out := make([]deploy.Event, 0)
	for {
		page, err := s.c.Query(ctx, in)
		if err != nil {
			return nil, awsErr(op, err, "read events of deployment "+deploymentID)
		}
		for _, it := range page.Items {
			e, err := decodeEvent(it)
			if err != nil {
				return nil, deploy.Wrap(op, deploy.KindInternal, err, "decode event")
			}
			out = append(out, e)
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

func eventSK(seq int64) string { return fmt.Sprintf("%s%020d", eventPrefix, seq) }

func decodeEvent(item map[string]types.AttributeValue) (deploy.Event, error) {
	seq, err := numAttr(item, "seq")
	if err != nil {
		return deploy.Event{}, err
	}
	t, err := deploy.ParseSortableTime(strAttr(item, "time"))
	if err != nil {
		return deploy.Event{}, err
	}
	e := deploy.Event{
		Seq: seq, DeploymentID: strAttr(item, "deployment_id"), Service: strAttr(item, "service"), Time: t,
		Actor: strAttr(item, "actor"), Action: strAttr(item, "action"), State: deploy.State(strAttr(item, "state")),
		Reason: strAttr(item, "reason"), ID: strAttr(item, "event_id"),
	}
	if m, ok := item["detail"].(*types.AttributeValueMemberM); ok && len(m.Value) > 0 {
		e.Detail = make(map[string]string, len(m.Value))
		for k, v := range m.Value {
			s, ok := v.(*types.AttributeValueMemberS)
			if !ok {
				return deploy.Event{}, fmt.Errorf("detail %s is not a string", k)
			}
			e.Detail[k] = s.Value
		}
	}
	return e, nil
}
