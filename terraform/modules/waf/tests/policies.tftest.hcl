# The log key policy and the log delivery resource policy as the provider renders them: the offline
# provider (tools/tfprovider) "applies" in memory (SWITCHYARD_TF_OFFLINE_APPLY=1, set by
# scripts/tf-check.sh) so that aws_iam_policy_document renders its JSON (waf.tftest.hcl mocks it
# empty). Principals, actions, resources and conditions are compared exactly; one-element lists
# render as strings, so lists are compared as toset(flatten([x])). Nothing reaches AWS.

provider "aws" {
  region = "us-east-1"
}

variables {
  environment        = "prod"
  environment_suffix = "td01"
  owner              = "platform-team"
  alb_arn            = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/alb-prod-td01/0123456789abcdef"
}

run "rendered_policies" {
  command = apply

  assert {
    condition = (
      toset([for s in jsondecode(aws_kms_key.logs.policy).Statement : s.Sid]) == toset(["AccountAdministration", "CloudWatchLogsUseForWafLogGroup"]) &&
      length(jsondecode(aws_kms_key.logs.policy).Statement) == 2 &&
      alltrue([for s in jsondecode(aws_kms_key.logs.policy).Statement : s.Effect == "Allow" && s.Resource == "*" && !can(s.NotAction) && !can(s.NotPrincipal)])
    )
    error_message = "The WAF log key policy must hold exactly account administration and the CloudWatch Logs grant, both plain Allow."
  }

  assert {
    condition = (
      { for s in jsondecode(aws_kms_key.logs.policy).Statement : s.Sid => s }["AccountAdministration"].Principal == { AWS = "arn:aws:iam::123456789012:root" } &&
      toset(flatten([{ for s in jsondecode(aws_kms_key.logs.policy).Statement : s.Sid => s }["AccountAdministration"].Action])) == toset(["kms:*"]) &&
      !can({ for s in jsondecode(aws_kms_key.logs.policy).Statement : s.Sid => s }["AccountAdministration"].Condition)
    )
    error_message = "Key administration must be delegated to IAM of this account only (its root)."
  }

  # CloudWatch Logs of this region may use the key only for the WAF log group: the encryption
  # context names the log group, and it must be the group WAF logs to, or delivery fails.
  assert {
    condition = (
      { for s in jsondecode(aws_kms_key.logs.policy).Statement : s.Sid => s }["CloudWatchLogsUseForWafLogGroup"].Principal == { Service = "logs.us-east-1.amazonaws.com" } &&
      toset(flatten([{ for s in jsondecode(aws_kms_key.logs.policy).Statement : s.Sid => s }["CloudWatchLogsUseForWafLogGroup"].Action])) == toset(["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]) &&
      { for s in jsondecode(aws_kms_key.logs.policy).Statement : s.Sid => s }["CloudWatchLogsUseForWafLogGroup"].Condition == {
        ArnEquals = { "kms:EncryptionContext:aws:logs:arn" = "arn:aws:logs:us-east-1:123456789012:log-group:aws-waf-logs-prod-td01" }
      } &&
      aws_cloudwatch_log_group.waf.arn == "arn:aws:logs:us-east-1:123456789012:log-group:aws-waf-logs-prod-td01" &&
      aws_cloudwatch_log_group.waf.kms_key_id == aws_kms_key.logs.arn &&
      toset(aws_wafv2_web_acl_logging_configuration.this.log_destination_configs) == toset([aws_cloudwatch_log_group.waf.arn])
    )
    error_message = "CloudWatch Logs may use the key only for the WAF log group, which WAF logs to and which the key encrypts."
  }

  # WAF's log delivery may write streams of this log group only, on behalf of this account.
  assert {
    condition = (
      length(jsondecode(aws_cloudwatch_log_resource_policy.waf.policy_document).Statement) == 1 &&
      jsondecode(aws_cloudwatch_log_resource_policy.waf.policy_document).Statement[0].Sid == "WafLogDelivery" &&
      jsondecode(aws_cloudwatch_log_resource_policy.waf.policy_document).Statement[0].Effect == "Allow" &&
      jsondecode(aws_cloudwatch_log_resource_policy.waf.policy_document).Statement[0].Principal == { Service = "delivery.logs.amazonaws.com" } &&
      toset(flatten([jsondecode(aws_cloudwatch_log_resource_policy.waf.policy_document).Statement[0].Action])) == toset(["logs:CreateLogStream", "logs:PutLogEvents"]) &&
      toset(flatten([jsondecode(aws_cloudwatch_log_resource_policy.waf.policy_document).Statement[0].Resource])) == toset(["arn:aws:logs:us-east-1:123456789012:log-group:aws-waf-logs-prod-td01:*"]) &&
      jsondecode(aws_cloudwatch_log_resource_policy.waf.policy_document).Statement[0].Condition == {
        StringEquals = { "aws:SourceAccount" = "123456789012" }
        ArnLike      = { "aws:SourceArn" = "arn:aws:logs:us-east-1:123456789012:*" }
      }
    )
    error_message = "Log delivery may only create streams and put events in the WAF log group, for this account's log deliveries."
  }
}
