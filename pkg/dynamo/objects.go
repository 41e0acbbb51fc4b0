package dynamo

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// Calendar objects live in one partition per kind: pk=OBJECT#<kind>, sk=<id>, with version and body
// (JSON). A kind holds tens of items, so one strongly consistent Query lists it.

var _ deploy.ObjectStore = (*Store)(nil)

const objectPrefix = "OBJECT#"

// PutObject creates (Version 0) or replaces (Version = the stored one) a calendar object, conditionally.
func (s *Store) PutObject(ctx context.Context, o *deploy.Object) error {
	const op = "dynamo.PutObject"
	if err := deploy.CheckObject(op, o); err != nil {
		return err
	}
	item := key(objectPrefix+string(o.Kind), o.ID)
	item["version"], item["body"] = num(o.Version+1), str(string(o.Body))
	in := &dynamodb.PutItemInput{TableName: &s.table, Item: item}
	if o.Version == 0 {
		in.ConditionExpression = aws.String("attribute_not_exists(pk)")
	} else {
		in.ConditionExpression = aws.String("version = :v")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(o.Version)}
	}
	_, err := s.c.PutItem(ctx, in)
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf) && o.Version == 0:
		return deploy.Errorf(op, deploy.KindConflict, "%s %s already exists", o.Kind, o.ID)
	case errors.As(err, &ccf):
		return deploy.Errorf(op, deploy.KindConflict, "%s %s was changed or deleted concurrently (version %d is stale)", o.Kind, o.ID, o.Version)
	case err != nil:
		return awsErr(op, err, "write "+string(o.Kind)+" "+o.ID)
	}
	o.Version++
	return nil
}

// DeleteObject removes a calendar object (KindNotFound when absent). The delete goes through
// TransactWriteItems, which the store's client already needs, with a condition that it exists.
func (s *Store) DeleteObject(ctx context.Context, kind deploy.ObjectKind, id string) error {
	const op = "dynamo.DeleteObject"
	_, err := s.c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{
		Delete: &types.Delete{TableName: &s.table, Key: key(objectPrefix+string(kind), id),
			ConditionExpression: aws.String("attribute_exists(pk)")},
	}}})
	if failed := cancelled(err); len(failed) > 0 && failed[0] {
		return deploy.Errorf(op, deploy.KindNotFound, "%s %s not found", kind, id)
	}
	if err != nil {
		return awsErr(op, err, "delete "+string(kind)+" "+id)
	}
	return nil
}

// ListObjects returns every object of kind, by id (every page).
func (s *Store) ListObjects(ctx context.Context, kind deploy.ObjectKind) ([]deploy.Object, error) {
	const op = "dynamo.ListObjects"
	out := make([]deploy.Object, 0)
	var start map[string]types.AttributeValue
	for {
		page, err := s.c.Query(ctx, &dynamodb.QueryInput{
			TableName: &s.table, ConsistentRead: aws.Bool(true), ExclusiveStartKey: start,
			KeyConditionExpression:    aws.String("pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(objectPrefix + string(kind))},
		})
		if err != nil {
			return nil, awsErr(op, err, "list "+string(kind))
		}
		for _, item := range page.Items {
			v, err := numAttr(item, "version")
			if err != nil {
				return nil, deploy.Wrap(op, deploy.KindInternal, err, "read "+string(kind)+" "+strAttr(item, "sk"))
			}
			out = append(out, deploy.Object{Kind: kind, ID: strAttr(item, "sk"), Version: v, Body: []byte(strAttr(item, "body"))})
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		start = page.LastEvaluatedKey
	}
}
