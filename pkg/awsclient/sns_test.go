package awsclient

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/pkg/deploy"
	"github.com/switchyard/switchyard/pkg/notify"
)

var _ notify.Publisher = (*SNS)(nil)

type fakeSNS struct {
	in  []*sns.PublishInput
	err error
}

func (f *fakeSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.in = append(f.in, in)
	if f.err != nil {
		return nil, f.err
	}
	return &sns.PublishOutput{MessageId: aws.String("m-1")}, nil
}

func TestSNSPublishAttributesAndErrors(t *testing.T) {
	f := &fakeSNS{}
	s := NewSNS(f)
	id, err := s.Publish(context.Background(), "arn:aws:sns:us-east-1:123456789012:t", "subj", "{}",
		map[string]string{"service": "web", "action": "rollback", "state": ""})
	if err != nil || id != "m-1" {
		t.Fatalf("publish: %q %v", id, err)
	}
	in := f.in[0]
	if aws.ToString(in.TopicArn) != "arn:aws:sns:us-east-1:123456789012:t" || aws.ToString(in.Subject) != "subj" || aws.ToString(in.Message) != "{}" {
		t.Errorf("input %+v", in)
	}
	if len(in.MessageAttributes) != 2 || aws.ToString(in.MessageAttributes["action"].StringValue) != "rollback" ||
		aws.ToString(in.MessageAttributes["service"].DataType) != "String" {
		t.Errorf("attributes %+v (an empty value must be left out: SNS refuses it)", in.MessageAttributes)
	}
	for code, kind := range map[string]deploy.Kind{"Throttling": deploy.KindThrottled, "InvalidParameter": deploy.KindInvalid,
		"InternalError": deploy.KindUnavailable, "NotFound": deploy.KindNotFound, "AuthorizationError": deploy.KindForbidden} {
		f.err = &smithy.GenericAPIError{Code: code, Message: "x"}
		_, err := s.Publish(context.Background(), "arn:aws:sns:us-east-1:123456789012:t", "", "m", nil)
		var de *deploy.Error
		if !errors.As(err, &de) || de.Op != "sns.Publish" {
			t.Errorf("%s: %v is not an sns.Publish error", code, err)
		}
		if got := deploy.KindOf(err); got != kind {
			t.Errorf("%s: kind %s, want %s", code, got, kind)
		}
	}
}
