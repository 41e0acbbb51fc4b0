package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/deploy/storetest"
)

var _ storetest.RawWriter = (*Store)(nil)

// WriteRaw files r as a deployment item with no check at all (storetest.RawWriter), with the
// attributes and, when its state is active, the lock item that a bug or another binary would write.
func (s *Store) WriteRaw(ctx context.Context, r storetest.RawRecord) error {
	sortKey := deploy.FormatSortableTime(r.CreatedAt) + "#" + r.ID
	it := key("DEPLOYMENT#"+r.ID, skDeployment)
	it["id"], it["service"], it["state"] = str(r.ID), str(r.Service), str(string(r.State))
	it["active"] = &types.AttributeValueMemberBOOL{Value: r.State.Active()}
	it["created_at"] = str(deploy.FormatSortableTime(r.CreatedAt))
	it["version"], it["data"] = num(1), str(string(r.Data))
	it["gsi1pk"], it["gsi1sk"] = str(pkAll), str(sortKey)
	it["gsi2pk"], it["gsi2sk"] = str("SERVICE#"+r.Service), str(sortKey)
	items := []types.TransactWriteItem{{Put: &types.Put{TableName: aws.String(s.table), Item: it}}}
	if r.State.Active() {
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table),
			Item: lockItem(&deploy.Deployment{ID: r.ID, Service: r.Service})}})
	}
	_, err := s.c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return err
}
