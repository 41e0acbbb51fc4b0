package dynamo

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// tableAPI models a role without dynamodb:CreateTable: CreateTable is refused, DescribeTable answers
// from exists.
type tableAPI struct {
	exists  bool
	creates int
}

func (f *tableAPI) CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	f.creates++
	if !f.canCreate() {
		return nil, errors.New("AccessDeniedException: not authorized to perform dynamodb:CreateTable")
	}
	f.exists = true
	return &dynamodb.CreateTableOutput{}, nil
}

func (f *tableAPI) canCreate() bool { return !f.exists }

func (f *tableAPI) DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	if !f.exists {
		return nil, &types.ResourceNotFoundException{Message: aws.String("Requested resource not found")}
	}
	return &dynamodb.DescribeTableOutput{Table: &types.TableDescription{TableStatus: types.TableStatusActive}}, nil
}

// A table from Terraform is used as it is: the daemon's least-privilege role has no CreateTable.
func TestEnsureTableUsesAnExistingTableWithoutCreateTable(t *testing.T) {
	f := &tableAPI{exists: true}
	if err := EnsureTable(context.Background(), f, "switchyard"); err != nil {
		t.Fatalf("EnsureTable on an existing table: %v", err)
	}
	if f.creates != 0 {
		t.Fatalf("CreateTable called %d times for a table that exists", f.creates)
	}
	missing := &tableAPI{}
	if err := EnsureTable(context.Background(), missing, "switchyard"); err != nil || missing.creates != 1 {
		t.Fatalf("a missing table: err %v, %d creates; want it created once", err, missing.creates)
	}
}
