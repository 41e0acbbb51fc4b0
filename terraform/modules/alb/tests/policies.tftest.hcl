# The access-log bucket policy as the provider renders it: the offline provider (tools/tfprovider)
# "applies" in memory (SWITCHYARD_TF_OFFLINE_APPLY=1, set by scripts/tf-check.sh) so that
# aws_iam_policy_document, built from the bucket ARN and therefore read only during apply, renders
# its JSON (alb.tftest.hcl mocks it empty). The assertions decode that JSON and compare principals,
# actions, resources and conditions exactly; one-element lists render as strings, so lists are
# compared as toset(flatten([x])). Nothing reaches AWS.

provider "aws" {
  region = "us-east-1"
}

# The offline provider's data source placeholder is not an account ARN; the real regional ELB
# account of us-east-1 is.
override_data {
  target = data.aws_elb_service_account.current
  values = {
    arn = "arn:aws:iam::127311923021:root"
  }
}

variables {
  environment                 = "prod"
  environment_suffix          = "td01"
  owner                       = "platform-team"
  vpc_id                      = "vpc-0123456789abcdef0"
  public_subnet_ids           = ["subnet-0000000000000000a", "subnet-0000000000000000b", "subnet-0000000000000000c"]
  alb_security_group_id       = "sg-0123456789abcdef0"
  certificate_arn             = "arn:aws:acm:us-east-1:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab"
  test_listener_allowed_cidrs = ["203.0.113.0/24"]
}

run "rendered_access_log_bucket_policy" {
  command = apply

  assert {
    condition     = aws_s3_bucket_policy.access_logs.policy == data.aws_iam_policy_document.access_logs.json && aws_s3_bucket_policy.access_logs.bucket == aws_s3_bucket.access_logs.id
    error_message = "The access-log bucket must carry the rendered policy document."
  }

  assert {
    condition = (
      toset([for s in jsondecode(aws_s3_bucket_policy.access_logs.policy).Statement : s.Sid]) == toset(["AllowELBAccountLogDelivery", "AllowLogDeliveryServicePrincipal", "DenyInsecureTransport"]) &&
      length(jsondecode(aws_s3_bucket_policy.access_logs.policy).Statement) == 3 &&
      alltrue([for s in jsondecode(aws_s3_bucket_policy.access_logs.policy).Statement : !can(s.NotAction) && !can(s.NotResource) && !can(s.NotPrincipal)])
    )
    error_message = "The bucket policy must hold exactly the two log-delivery grants and the TLS deny, with no Not* elements."
  }

  # Both delivery paths write only what the ALB writes: objects under <prefix>/AWSLogs/<account>/
  # of this bucket, at the bucket and prefix the load balancer's access_logs block names. A grant
  # elsewhere is broader than needed; a prefix the ALB does not use makes delivery (and ALB
  # creation, which test-writes the bucket) fail.
  assert {
    condition = alltrue([
      for sid in ["AllowELBAccountLogDelivery", "AllowLogDeliveryServicePrincipal"] :
      { for s in jsondecode(aws_s3_bucket_policy.access_logs.policy).Statement : s.Sid => s }[sid].Effect == "Allow" &&
      toset(flatten([{ for s in jsondecode(aws_s3_bucket_policy.access_logs.policy).Statement : s.Sid => s }[sid].Action])) == toset(["s3:PutObject"]) &&
      toset(flatten([{ for s in jsondecode(aws_s3_bucket_policy.access_logs.policy).Statement : s.Sid => s }[sid].Resource])) == toset([
        "arn:aws:s3:::${aws_lb.this.access_logs[0].bucket}/${aws_lb.this.access_logs[0].prefix}/AWSLogs/123456789012/*",
      ]) &&
      !can({ for s in jsondecode(aws_s3_bucket_policy.access_logs.policy).Statement : s.Sid => s }[sid].Condition)
    ])
    error_message = "Log delivery may only s3:PutObject under <prefix>/AWSLogs/<this account>/ of the bucket and prefix the ALB logs to."
  }

  assert {
    condition     = aws_lb.this.access_logs[0].enabled && aws_lb.this.access_logs[0].bucket == "s3-alb-logs-123456789012-prod-td01" && aws_lb.this.access_logs[0].prefix == "alb"
    error_message = "The ALB must log to the module's bucket under the alb prefix."
  }

  assert {
    condition = (
      { for s in jsondecode(aws_s3_bucket_policy.access_logs.policy).Statement : s.Sid => s }["AllowELBAccountLogDelivery"].Principal == { AWS = "arn:aws:iam::127311923021:root" } &&
      { for s in jsondecode(aws_s3_bucket_policy.access_logs.policy).Statement : s.Sid => s }["AllowLogDeliveryServicePrincipal"].Principal == { Service = "logdelivery.elasticloadbalancing.amazonaws.com" }
    )
    error_message = "Only the regional ELB account and the ELB log-delivery service principal may write logs."
  }

  assert {
    condition = (
      { for s in jsondecode(aws_s3_bucket_policy.access_logs.policy).Statement : s.Sid => s }["DenyInsecureTransport"].Effect == "Deny" &&
      { for s in jsondecode(aws_s3_bucket_policy.access_logs.policy).Statement : s.Sid => s }["DenyInsecureTransport"].Principal == "*" &&
      toset(flatten([{ for s in jsondecode(aws_s3_bucket_policy.access_logs.policy).Statement : s.Sid => s }["DenyInsecureTransport"].Action])) == toset(["s3:*"]) &&
      toset(flatten([{ for s in jsondecode(aws_s3_bucket_policy.access_logs.policy).Statement : s.Sid => s }["DenyInsecureTransport"].Resource])) == toset([aws_s3_bucket.access_logs.arn, "${aws_s3_bucket.access_logs.arn}/*"]) &&
      { for s in jsondecode(aws_s3_bucket_policy.access_logs.policy).Statement : s.Sid => s }["DenyInsecureTransport"].Condition == { Bool = { "aws:SecureTransport" = "false" } }
    )
    error_message = "Every non-TLS request to the bucket and its objects must be denied to everyone."
  }
}
