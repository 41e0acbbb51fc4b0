package awsclient

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/switchyard/switchyard/test/emulator"
)

// ListTags reads every tag from the emulator's ECR. kumo has no DescribeImages (InvalidAction), so this
// runs the ListImages fallback: tags without push times (TestListTagsDescribeImages covers the real
// path with its push times on a fake).
func TestKumoListTags(t *testing.T) {
	c, _ := kumoClients(t)
	ctx := emulator.Context(t, time.Minute)
	repo := name("sched")
	out, err := c.ECR.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(repo)})
	if err != nil {
		t.Fatal(err)
	}
	for i, tag := range []string{"v1.2.3", "v1.3.0", "latest"} {
		// Distinct manifests: one image per tag.
		manifest := `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1,"digest":"sha256:000000000000000000000000000000000000000000000000000000000000000` + string(rune('0'+i)) + `"},"layers":[]}`
		if _, err := c.ECR.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageTag: aws.String(tag), ImageManifest: aws.String(manifest)}); err != nil {
			t.Fatal(err)
		}
	}
	tags, checked, err := c.Images.ListTags(ctx, aws.ToString(out.Repository.RepositoryUri))
	if err != nil || !checked {
		t.Fatalf("ListTags: %v (checked %v)", err, checked)
	}
	got := map[string]time.Time{}
	for _, tg := range tags {
		got[tg.Tag] = tg.PushedAt
	}
	for _, want := range []string{"v1.2.3", "v1.3.0", "latest"} {
		if _, ok := got[want]; !ok {
			t.Errorf("tag %s missing; all: %+v", want, tags)
		}
	}
	if _, checked, err := c.Images.ListTags(ctx, "ghcr.io/org/app"); checked || err != nil {
		t.Errorf("non-ECR: checked %v err %v", checked, err)
	}
}
