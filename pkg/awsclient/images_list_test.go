package awsclient

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// describeECR pages DescribeImages two images at a time.
type describeECR struct {
	fakeECR
	details []ecrtypes.ImageDetail
	calls   int
	in      []*ecr.DescribeImagesInput
}

func (f *describeECR) DescribeImages(_ context.Context, in *ecr.DescribeImagesInput, _ ...func(*ecr.Options)) (*ecr.DescribeImagesOutput, error) {
	f.calls++
	f.in = append(f.in, in)
	start := 0
	if in.NextToken != nil {
		start = int(aws.ToString(in.NextToken)[0] - '0')
	}
	end := min(start+2, len(f.details))
	out := &ecr.DescribeImagesOutput{ImageDetails: f.details[start:end]}
	if end < len(f.details) {
		out.NextToken = aws.String(string(rune('0' + end)))
	}
	return out, nil
}

func (f *describeECR) ListImages(context.Context, *ecr.ListImagesInput, ...func(*ecr.Options)) (*ecr.ListImagesOutput, error) {
	panic("ListImages is only the fallback")
}

func TestListTagsDescribeImages(t *testing.T) {
	at := func(h int) *time.Time { v := time.Date(2026, 12, 1, h, 0, 0, 0, time.UTC); return &v }
	f := &describeECR{details: []ecrtypes.ImageDetail{
		{ImageTags: []string{"v1.2.3"}, ImagePushedAt: at(1)},
		{ImageTags: []string{"v1.3.0", "stable"}, ImagePushedAt: at(2)},
		{ImageTags: []string{"latest"}, ImagePushedAt: at(3)},
	}}
	tags, checked, err := NewImages(f, "us-east-1").ListTags(context.Background(), "123456789012.dkr.ecr.us-east-1.amazonaws.com/web")
	if err != nil || !checked || len(tags) != 4 || f.calls != 2 {
		t.Fatalf("tags %+v checked %v err %v after %d calls (want 4 tags over 2 pages)", tags, checked, err, f.calls)
	}
	if tags[1].Tag != "v1.3.0" || !tags[1].PushedAt.Equal(*at(2)) || tags[2].Tag != "stable" || !tags[2].PushedAt.Equal(*at(2)) {
		t.Fatalf("push times not kept per tag: %+v", tags)
	}
	if in := f.in[0]; aws.ToString(in.RegistryId) != "123456789012" || aws.ToString(in.RepositoryName) != "web" || in.Filter.TagStatus != ecrtypes.TagStatusTagged {
		t.Fatalf("request %+v", in)
	}
}
