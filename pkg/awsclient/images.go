package awsclient

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go"

	"github.com/switchyard/switchyard/pkg/deploy"
)

// ECRAPI is the part of the ECR API the images adapter uses.
type ECRAPI interface {
	BatchGetImage(ctx context.Context, in *ecr.BatchGetImageInput, optFns ...func(*ecr.Options)) (*ecr.BatchGetImageOutput, error)
}

// Images implements deploy.Images on ECR.
type Images struct {
	api    ECRAPI
	region string
}

// NewImages returns an adapter using api (an *ecr.Client in production) whose client is configured for
// region; repositories in other regions are queried there.
func NewImages(api ECRAPI, region string) *Images { return &Images{api: api, region: region} }

// ECRRepository is a repository URI split into what BatchGetImage needs.
type ECRRepository struct {
	RegistryID string // empty: the caller's account
	Region     string // empty: the client's region
	Name       string
}

var ecrHostRE = regexp.MustCompile(`^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$`)

// ParseECRRepository recognises `<account>.dkr.ecr.<region>.amazonaws.com/<name>`, a loopback emulator
// registry (`localhost:PORT/<name>`, `127.0.0.1:PORT/<name>`) and a plain repository name (`web`,
// `team/web`: no registry host, so ECR in the caller's account). Anything else, such as
// docker.io/library/nginx or ghcr.io/org/app, is not ECR and ok is false.
func ParseECRRepository(repository string) (repo ECRRepository, ok bool) {
	repository = strings.TrimSpace(repository)
	if repository == "" {
		return ECRRepository{}, false
	}
	host, rest, hasSlash := strings.Cut(repository, "/")
	// Docker's rule: the first component is a registry host when it has a '.' or ':' or is localhost.
	if !hasSlash || (!strings.ContainsAny(host, ".:") && host != "localhost") {
		return ECRRepository{Name: repository}, true
	}
	if rest == "" {
		return ECRRepository{}, false
	}
	if m := ecrHostRE.FindStringSubmatch(host); m != nil {
		return ECRRepository{RegistryID: m[1], Region: m[2], Name: rest}, true
	}
	hostname := host
	if h, _, found := strings.Cut(host, ":"); found {
		hostname = h
	}
	if hostname == "localhost" || hostname == "127.0.0.1" {
		return ECRRepository{Name: rest}, true
	}
	return ECRRepository{}, false
}

// TagExists reports whether the ECR repository holds tag. checked is false (and err nil) for
// repositories that are not ECR, so that the caller can skip the check.
func (im *Images) TagExists(ctx context.Context, repository, tag string) (exists bool, checked bool, err error) {
	const op = "ecr.BatchGetImage"
	repo, ok := ParseECRRepository(repository)
	if !ok {
		return false, false, nil
	}
	in := &ecr.BatchGetImageInput{
		RepositoryName: aws.String(repo.Name),
		ImageIds:       []ecrtypes.ImageIdentifier{{ImageTag: aws.String(tag)}},
	}
	if repo.RegistryID != "" {
		in.RegistryId = aws.String(repo.RegistryID)
	}
	var optFns []func(*ecr.Options)
	if repo.Region != "" && repo.Region != im.region {
		optFns = append(optFns, func(o *ecr.Options) { o.Region = repo.Region })
	}
	out, err := im.api.BatchGetImage(ctx, in, optFns...)
	if err != nil {
		return false, true, mapErr(op, err, "look up "+repository+":"+tag)
	}
	for _, img := range out.Images {
		if img.ImageId != nil && aws.ToString(img.ImageId.ImageTag) == tag {
			return true, true, nil
		}
	}
	for _, f := range out.Failures {
		switch f.FailureCode {
		case ecrtypes.ImageFailureCodeImageNotFound, ecrtypes.ImageFailureCodeImageTagDoesNotMatchDigest:
			return false, true, nil
		default:
			return false, true, deploy.Errorf(op, deploy.KindUnavailable, "look up %s:%s: %s %s", repository, tag, f.FailureCode, aws.ToString(f.FailureReason))
		}
	}
	// Images present without the tag echoed back still mean the tag resolved.
	return len(out.Images) > 0, true, nil
}

// ECRDescriber is what ListTags needs besides ECRAPI (*ecr.Client has both).
type ECRDescriber interface {
	DescribeImages(ctx context.Context, in *ecr.DescribeImagesInput, optFns ...func(*ecr.Options)) (*ecr.DescribeImagesOutput, error)
	ListImages(ctx context.Context, in *ecr.ListImagesInput, optFns ...func(*ecr.Options)) (*ecr.ListImagesOutput, error)
}

// ListTags lists every tag of the ECR repository with its image's push time (DescribeImages, every
// page), for recurring schedules that deploy the newest matching tag. checked is false for
// repositories that are not ECR.
func (im *Images) ListTags(ctx context.Context, repository string) ([]deploy.ImageTag, bool, error) {
	const op = "ecr.DescribeImages"
	repo, ok := ParseECRRepository(repository)
	if !ok {
		return nil, false, nil
	}
	api, ok := im.api.(ECRDescriber)
	if !ok {
		return nil, false, deploy.Errorf(op, deploy.KindInternal, "the ECR client cannot describe images")
	}
	in := &ecr.DescribeImagesInput{RepositoryName: aws.String(repo.Name), Filter: &ecrtypes.DescribeImagesFilter{TagStatus: ecrtypes.TagStatusTagged}}
	if repo.RegistryID != "" {
		in.RegistryId = aws.String(repo.RegistryID)
	}
	var optFns []func(*ecr.Options)
	if repo.Region != "" && repo.Region != im.region {
		optFns = append(optFns, func(o *ecr.Options) { o.Region = repo.Region })
	}
	var out []deploy.ImageTag
	for {
		page, err := api.DescribeImages(ctx, in, optFns...)
		if invalidAction(err) {
			// A registry without DescribeImages (the kumo emulator): tags without push times, so the
			// newest is the greatest tag. Real ECR always has DescribeImages.
			return im.listImages(ctx, api, repo, optFns)
		}
		if err != nil {
			return nil, true, mapErr(op, err, "list tags of "+repository)
		}
		for _, d := range page.ImageDetails {
			pushed := aws.ToTime(d.ImagePushedAt)
			for _, t := range d.ImageTags {
				out = append(out, deploy.ImageTag{Tag: t, PushedAt: pushed})
			}
		}
		if aws.ToString(page.NextToken) == "" {
			return out, true, nil
		}
		in.NextToken = page.NextToken
	}
}

func (im *Images) listImages(ctx context.Context, api ECRDescriber, repo ECRRepository, optFns []func(*ecr.Options)) ([]deploy.ImageTag, bool, error) {
	in := &ecr.ListImagesInput{RepositoryName: aws.String(repo.Name), Filter: &ecrtypes.ListImagesFilter{TagStatus: ecrtypes.TagStatusTagged}}
	if repo.RegistryID != "" {
		in.RegistryId = aws.String(repo.RegistryID)
	}
	var out []deploy.ImageTag
	for {
		page, err := api.ListImages(ctx, in, optFns...)
		if err != nil {
			return nil, true, mapErr("ecr.ListImages", err, "list tags of "+repo.Name)
		}
		for _, id := range page.ImageIds {
			if t := aws.ToString(id.ImageTag); t != "" {
				out = append(out, deploy.ImageTag{Tag: t})
			}
		}
		if aws.ToString(page.NextToken) == "" {
			return out, true, nil
		}
		in.NextToken = page.NextToken
	}
}

func invalidAction(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "InvalidAction"
}
