package awsclient

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// fakeCW answers DescribeAlarms for the names asked, pageSize alarms per page.
type fakeCW struct {
	mu       sync.Mutex
	states   map[string]string
	pageSize int
	calls    []*cloudwatch.DescribeAlarmsInput
}

func (f *fakeCW) DescribeAlarms(_ context.Context, in *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, in)
	if len(in.AlarmNames) > 100 {
		return nil, &smithy.GenericAPIError{Code: "ValidationError", Message: "too many alarm names"}
	}
	var matched []string
	for _, n := range in.AlarmNames {
		if _, ok := f.states[n]; ok {
			matched = append(matched, n)
		}
	}
	start := 0
	if in.NextToken != nil {
		fmt.Sscanf(*in.NextToken, "%d", &start)
	}
	end := min(start+f.pageSize, len(matched))
	out := &cloudwatch.DescribeAlarmsOutput{}
	for _, n := range matched[start:end] {
		at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		if n == "composite" {
			out.CompositeAlarms = append(out.CompositeAlarms, cwtypes.CompositeAlarm{AlarmName: aws.String(n), StateValue: cwtypes.StateValue(f.states[n]), StateReason: aws.String("children"), StateUpdatedTimestamp: &at})
			continue
		}
		out.MetricAlarms = append(out.MetricAlarms, cwtypes.MetricAlarm{AlarmName: aws.String(n), StateValue: cwtypes.StateValue(f.states[n]), StateReason: aws.String("threshold"), StateUpdatedTimestamp: &at})
	}
	if end < len(matched) {
		out.NextToken = aws.String(fmt.Sprint(end))
	}
	return out, nil
}

func TestAlarmStatesBatchesAndPages(t *testing.T) {
	f := &fakeCW{states: map[string]string{"composite": "ALARM"}, pageSize: 100}
	var names []string
	for i := range 250 {
		n := fmt.Sprintf("alarm-%03d", i)
		names = append(names, n)
		if i%10 == 0 {
			f.states[n] = "OK"
		}
	}
	f.states["alarm-007"] = "ALARM"
	names = append(names, "alarm-007", "composite") // duplicate + composite: 251 unique names
	got, err := NewAlarms(f).AlarmStates(context.Background(), names)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 3 {
		t.Fatalf("want 3 DescribeAlarms calls for 251 unique names, got %d", len(f.calls))
	}
	for i, c := range f.calls {
		if len(c.AlarmNames) > 100 || aws.ToInt32(c.MaxRecords) != 100 || len(c.AlarmTypes) != 2 {
			t.Errorf("call %d: %d names, MaxRecords %d, types %v", i, len(c.AlarmNames), aws.ToInt32(c.MaxRecords), c.AlarmTypes)
		}
	}
	if len(got) != 27 { // 25 existing alarm-NNN (every 10th), alarm-007, composite
		t.Errorf("got %d states, want 27", len(got))
	}
	if s := got["alarm-007"]; !s.Firing() || s.Reason != "threshold" || s.UpdatedAt.IsZero() {
		t.Errorf("alarm-007 = %+v", s)
	}
	if s := got["composite"]; !s.Firing() || s.Reason != "children" {
		t.Errorf("composite = %+v", s)
	}
	if _, ok := got["alarm-001"]; ok {
		t.Errorf("a missing alarm is present")
	}

	// Small pages: every page is read.
	f.calls, f.pageSize = nil, 4
	got, err = NewAlarms(f).AlarmStates(context.Background(), names[:100])
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 11 || len(f.calls) != 3 { // alarm-000..090 (10) + alarm-007; 11 results in pages of 4
		t.Errorf("paging: %d states in %d calls", len(got), len(f.calls))
	}
	if got, _ := NewAlarms(f).AlarmStates(context.Background(), nil); len(got) != 0 {
		t.Errorf("no names: %v", got)
	}
}

func TestParseECRRepository(t *testing.T) {
	for in, want := range map[string]*ECRRepository{
		"123456789012.dkr.ecr.us-east-1.amazonaws.com/web":      {RegistryID: "123456789012", Region: "us-east-1", Name: "web"},
		"123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/web": {RegistryID: "123456789012", Region: "eu-west-1", Name: "team/web"},
		"123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/web": {RegistryID: "123456789012", Region: "us-east-1", Name: "web"},
		"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/web":  {RegistryID: "123456789012", Region: "cn-north-1", Name: "web"},
		"web":                         {Name: "web"},
		"team/web":                    {Name: "team/web"},
		"localhost:4566/web":          {Name: "web"},
		"127.0.0.1:4566/team/web":     {Name: "team/web"},
		"docker.io/library/nginx":     nil,
		"ghcr.io/org/app":             nil,
		"public.ecr.aws/nginx/nginx":  nil,
		"registry.example.com:5000/x": nil,
		"":                            nil,
	} {
		got, ok := ParseECRRepository(in)
		if want == nil {
			if ok {
				t.Errorf("%q: recognised as ECR %+v", in, got)
			}
			continue
		}
		if !ok || got != *want {
			t.Errorf("%q: got %+v %v, want %+v", in, got, ok, *want)
		}
	}
}

type fakeECR struct {
	tags   map[string]bool
	region string
	in     *ecr.BatchGetImageInput
	err    error
	fail   ecrtypes.ImageFailureCode
}

func (f *fakeECR) BatchGetImage(_ context.Context, in *ecr.BatchGetImageInput, optFns ...func(*ecr.Options)) (*ecr.BatchGetImageOutput, error) {
	f.in = in
	o := ecr.Options{Region: "us-east-1"}
	for _, fn := range optFns {
		fn(&o)
	}
	f.region = o.Region
	if f.err != nil {
		return nil, f.err
	}
	tag := aws.ToString(in.ImageIds[0].ImageTag)
	if f.tags[tag] {
		return &ecr.BatchGetImageOutput{Images: []ecrtypes.Image{{ImageId: &ecrtypes.ImageIdentifier{ImageTag: aws.String(tag)}}}}, nil
	}
	code := ecrtypes.ImageFailureCodeImageNotFound
	if f.fail != "" {
		code = f.fail
	}
	return &ecr.BatchGetImageOutput{Failures: []ecrtypes.ImageFailure{{FailureCode: code, ImageId: &in.ImageIds[0]}}}, nil
}

func TestTagExists(t *testing.T) {
	ctx := context.Background()
	f := &fakeECR{tags: map[string]bool{"v1": true}}
	im := NewImages(f, "us-east-1")

	ok, checked, err := im.TagExists(ctx, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web", "v1")
	if !ok || !checked || err != nil {
		t.Fatalf("v1: %v %v %v", ok, checked, err)
	}
	if aws.ToString(f.in.RegistryId) != "123456789012" || aws.ToString(f.in.RepositoryName) != "web" || f.region != "eu-west-1" {
		t.Errorf("request: registry %q repo %q region %q", aws.ToString(f.in.RegistryId), aws.ToString(f.in.RepositoryName), f.region)
	}
	ok, checked, err = im.TagExists(ctx, "web", "v2")
	if ok || !checked || err != nil {
		t.Errorf("v2: %v %v %v", ok, checked, err)
	}
	if f.in.RegistryId != nil || f.region != "us-east-1" {
		t.Errorf("plain name must use the caller's registry and region")
	}
	f.in = nil
	ok, checked, err = im.TagExists(ctx, "docker.io/library/nginx", "1.27")
	if ok || checked || err != nil || f.in != nil {
		t.Errorf("non-ECR: %v %v %v (called: %v)", ok, checked, err, f.in != nil)
	}
	f.fail = ecrtypes.ImageFailureCodeKmsError
	if _, _, err = im.TagExists(ctx, "web", "v3"); deploy.KindOf(err) != deploy.KindUnavailable {
		t.Errorf("KMS failure: %v", err)
	}
	f.err = &smithy.GenericAPIError{Code: "RepositoryNotFoundException", Message: "nope"}
	_, checked, err = im.TagExists(ctx, "web", "v1")
	if deploy.KindOf(err) != deploy.KindNotFound || !checked {
		t.Errorf("missing repository: %v", err)
	}
}
