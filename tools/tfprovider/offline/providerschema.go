package offline

import (
	"sort"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// ProviderConfigSchema is the `provider "aws" {}` configuration schema, which
// the schema dump does not contain. It is written from the hashicorp/aws v6
// provider documentation (docs/index.md "Argument Reference") and the
// provider's own SDKv2 schema definition (internal/provider/sdkv2/provider.go):
// attribute names, types and block nesting match v6; validation functions are
// not reproduced. `endpoints` lists only common service keys (the real
// provider generates ~250 of them).
func ProviderConfigSchema() *tfprotov6.Schema {
	str := func(name, desc string) *tfprotov6.SchemaAttribute {
		return &tfprotov6.SchemaAttribute{Name: name, Type: tftypes.String, Optional: true, Description: desc}
	}
	boolean := func(name, desc string) *tfprotov6.SchemaAttribute {
		return &tfprotov6.SchemaAttribute{Name: name, Type: tftypes.Bool, Optional: true, Description: desc}
	}
	number := func(name, desc string) *tfprotov6.SchemaAttribute {
		return &tfprotov6.SchemaAttribute{Name: name, Type: tftypes.Number, Optional: true, Description: desc}
	}
	typed := func(name string, t tftypes.Type, desc string) *tfprotov6.SchemaAttribute {
		return &tfprotov6.SchemaAttribute{Name: name, Type: t, Optional: true, Description: desc}
	}
	stringSet := tftypes.Set{ElementType: tftypes.String}
	stringList := tftypes.List{ElementType: tftypes.String}
	stringMap := tftypes.Map{ElementType: tftypes.String}

	attrs := []*tfprotov6.SchemaAttribute{
		str("access_key", "The access key for API operations."),
		typed("allowed_account_ids", stringSet, "List of allowed AWS account IDs."),
		str("custom_ca_bundle", "File containing custom root and intermediate certificates."),
		str("ec2_metadata_service_endpoint", "Address of the EC2 metadata service endpoint to use."),
		str("ec2_metadata_service_endpoint_mode", "Protocol to use with EC2 metadata service endpoint (IPv4 or IPv6)."),
		typed("forbidden_account_ids", stringSet, "List of forbidden AWS account IDs."),
		str("http_proxy", "URL of a proxy to use for HTTP requests."),
		str("https_proxy", "URL of a proxy to use for HTTPS requests."),
		boolean("insecure", "Explicitly allow the provider to perform insecure SSL requests."),
		number("max_retries", "Maximum number of times an AWS API request is retried."),
		str("no_proxy", "Comma-separated list of hosts that should not use HTTP or HTTPS proxies."),
		str("profile", "The profile for API operations."),
		str("region", "The region where AWS operations will take place."),
		str("retry_mode", "Specifies how retries are attempted (standard or adaptive)."),
		boolean("s3_use_path_style", "Use path-style addressing for S3."),
		str("s3_us_east_1_regional_endpoint", "Whether S3 API calls in us-east-1 use the legacy global or the regional endpoint."),
		str("secret_key", "The secret key for API operations."),
		typed("shared_config_files", stringList, "List of paths to shared config files."),
		typed("shared_credentials_files", stringList, "List of paths to shared credentials files."),
		boolean("skip_credentials_validation", "Skip the credentials validation via STS API."),
		// A nullable bool that the provider declares as a string ("true"/"false").
		str("skip_metadata_api_check", "Skip the AWS Metadata API check."),
		boolean("skip_region_validation", "Skip static validation of region name."),
		boolean("skip_requesting_account_id", "Skip requesting the account ID."),
		str("sts_region", "The region where AWS STS operations will take place."),
		str("tag_policy_compliance", "Severity with which to enforce organizational tagging policies (error, warning, disabled)."),
		str("token", "Session token for temporary security credentials."),
		number("token_bucket_rate_limiter_capacity", "The capacity of the AWS SDK's token bucket rate limiter."),
		boolean("use_dualstack_endpoint", "Resolve an endpoint with DualStack capability."),
		boolean("use_fips_endpoint", "Resolve an endpoint with FIPS capability."),
		typed("user_agent", stringList, "Product details to append to the User-Agent string."),
	}

	assumeRole := &tfprotov6.SchemaBlock{Attributes: []*tfprotov6.SchemaAttribute{
		str("duration", "Duration of the role session (15m to 12h)."),
		str("external_id", "Unique identifier that might be required to assume a role in another account."),
		str("policy", "IAM policy JSON further restricting the assumed role."),
		typed("policy_arns", stringSet, "ARNs of IAM policies further restricting the assumed role."),
		str("role_arn", "ARN of the IAM role to assume."),
		str("session_name", "Identifier for the assumed role session."),
		str("source_identity", "Source identity specified by the principal assuming the role."),
		typed("tags", stringMap, "Assume role session tags."),
		typed("transitive_tag_keys", stringSet, "Session tag keys to pass to subsequent sessions."),
	}}
	webIdentity := &tfprotov6.SchemaBlock{Attributes: []*tfprotov6.SchemaAttribute{
		str("duration", "Duration of the role session."),
		str("policy", "IAM policy JSON further restricting the assumed role."),
		typed("policy_arns", stringSet, "ARNs of IAM policies further restricting the assumed role."),
		str("role_arn", "ARN of the IAM role to assume."),
		str("session_name", "Identifier for the assumed role session."),
		str("web_identity_token", "Value of a web identity token."),
		str("web_identity_token_file", "File containing a web identity token."),
	}}
	defaultTags := &tfprotov6.SchemaBlock{Attributes: []*tfprotov6.SchemaAttribute{
		typed("tags", stringMap, "Resource tags to default across all resources."),
	}}
	ignoreTags := &tfprotov6.SchemaBlock{Attributes: []*tfprotov6.SchemaAttribute{
		typed("keys", stringSet, "Resource tag keys to ignore across all resources."),
		typed("key_prefixes", stringSet, "Resource tag key prefixes to ignore across all resources."),
	}}
	endpoints := &tfprotov6.SchemaBlock{}
	for _, svc := range endpointServices {
		endpoints.Attributes = append(endpoints.Attributes, str(svc, "Custom endpoint URL for the "+svc+" service."))
	}

	block := &tfprotov6.SchemaBlock{
		Attributes: attrs,
		BlockTypes: []*tfprotov6.SchemaNestedBlock{
			{TypeName: "assume_role", Block: assumeRole, Nesting: tfprotov6.SchemaNestedBlockNestingModeList},
			{TypeName: "assume_role_with_web_identity", Block: webIdentity, Nesting: tfprotov6.SchemaNestedBlockNestingModeList, MaxItems: 1},
			{TypeName: "default_tags", Block: defaultTags, Nesting: tfprotov6.SchemaNestedBlockNestingModeList, MaxItems: 1},
			{TypeName: "endpoints", Block: endpoints, Nesting: tfprotov6.SchemaNestedBlockNestingModeSet},
			{TypeName: "ignore_tags", Block: ignoreTags, Nesting: tfprotov6.SchemaNestedBlockNestingModeList, MaxItems: 1},
		},
	}
	sort.Slice(block.Attributes, func(i, j int) bool { return block.Attributes[i].Name < block.Attributes[j].Name })
	return &tfprotov6.Schema{Block: block}
}

// ProviderMetaSchema is the provider_meta schema of the v6 provider.
func ProviderMetaSchema() *tfprotov6.Schema {
	return &tfprotov6.Schema{Block: &tfprotov6.SchemaBlock{Attributes: []*tfprotov6.SchemaAttribute{
		{Name: "user_agent", Type: tftypes.List{ElementType: tftypes.String}, Optional: true,
			Description: "Product details to append to the User-Agent string sent in all AWS API calls."},
	}}}
}

// endpointServices are the `endpoints` keys accepted here: the services a
// typical stack (and LocalStack-style emulators) overrides. Sorted.
var endpointServices = []string{
	"acm", "acmpca", "apigateway", "apigatewayv2", "appautoscaling", "applicationautoscaling",
	"appconfig", "appsync", "athena", "autoscaling", "backup", "batch", "cloudcontrol",
	"cloudformation", "cloudfront", "cloudtrail", "cloudwatch", "cloudwatchevents",
	"cloudwatchlogs", "codebuild", "codecommit", "codedeploy", "codepipeline", "cognitoidentity",
	"cognitoidp", "configservice", "dax", "dms", "docdb", "ds", "dynamodb", "ec2", "ecr",
	"ecrpublic", "ecs", "efs", "eks", "elasticache", "elasticbeanstalk", "elb", "elbv2", "emr",
	"es", "events", "firehose", "glacier", "glue", "guardduty", "iam", "identitystore",
	"inspector2", "iot", "kafka", "kinesis", "kms", "lakeformation", "lambda", "logs",
	"memorydb", "mq", "neptune", "opensearch", "organizations", "pipes", "pricing", "qldb",
	"ram", "rds", "redshift", "redshiftdata", "resourcegroups", "resourcegroupstaggingapi",
	"route53", "route53domains", "route53resolver", "s3", "s3control", "scheduler",
	"secretsmanager", "securityhub", "servicediscovery", "servicequotas", "ses", "sesv2",
	"sfn", "shield", "sns", "sqs", "ssm", "sso", "ssoadmin", "stepfunctions", "sts",
	"swf", "timestreamwrite", "transcribe", "transfer", "waf", "wafregional", "wafv2",
	"xray",
}
