# Topic and key policies as the provider renders them (offline provider, in-memory apply with
# SWITCHYARD_TF_OFFLINE_APPLY=1 from scripts/tf-check.sh; see modules/ecs/tests/policies.tftest.hcl).

provider "aws" {
  region = "us-east-1"
}

variables {
  environment                   = "prod"
  environment_suffix            = "td01"
  owner                         = "platform-team"
  alb_arn_suffix                = "app/alb-prod-td01/0123456789abcdef"
  blue_target_group_arn_suffix  = "targetgroup/tg-blue-prod-td01/1111111111111111"
  green_target_group_arn_suffix = "targetgroup/tg-green-prod-td01/2222222222222222"
  ecs_cluster_name              = "ecs-prod-td01"
  blue_service_name             = "svc-blue-prod-td01"
  green_service_name            = "svc-green-prod-td01"
  db_cluster_identifier         = "rds-prod-td01"
  db_writer_instance_id         = "rds-writer-prod-td01"
  db_reader_instance_id         = "rds-reader-prod-td01"
  alarm_email                   = "oncall@example.com"
}

run "rendered_policies" {
  command = apply

  assert {
    condition     = toset([for s in jsondecode(aws_sns_topic_policy.alarms.policy).Statement : s.Sid]) == toset(["AccountOwnerAccess", "CloudWatchAlarmsPublish", "DenyInsecureTransport"])
    error_message = "The topic policy must hold exactly the owner, CloudWatch publish and TLS-deny statements."
  }

  assert {
    condition = (
      { for s in jsondecode(aws_sns_topic_policy.alarms.policy).Statement : s.Sid => s }["CloudWatchAlarmsPublish"].Effect == "Allow" &&
      { for s in jsondecode(aws_sns_topic_policy.alarms.policy).Statement : s.Sid => s }["CloudWatchAlarmsPublish"].Principal == { Service = "cloudwatch.amazonaws.com" } &&
      { for s in jsondecode(aws_sns_topic_policy.alarms.policy).Statement : s.Sid => s }["CloudWatchAlarmsPublish"].Action == "sns:Publish" &&
      { for s in jsondecode(aws_sns_topic_policy.alarms.policy).Statement : s.Sid => s }["CloudWatchAlarmsPublish"].Resource == aws_sns_topic.alarms.arn &&
      { for s in jsondecode(aws_sns_topic_policy.alarms.policy).Statement : s.Sid => s }["CloudWatchAlarmsPublish"].Condition == { ArnLike = { "aws:SourceArn" = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:*" } }
    )
    error_message = "Only CloudWatch alarms of this account and region may publish to the topic."
  }

  assert {
    condition = (
      { for s in jsondecode(aws_sns_topic_policy.alarms.policy).Statement : s.Sid => s }["DenyInsecureTransport"].Effect == "Deny" &&
      { for s in jsondecode(aws_sns_topic_policy.alarms.policy).Statement : s.Sid => s }["DenyInsecureTransport"].Principal == "*" &&
      { for s in jsondecode(aws_sns_topic_policy.alarms.policy).Statement : s.Sid => s }["DenyInsecureTransport"].Action == "sns:Publish" &&
      { for s in jsondecode(aws_sns_topic_policy.alarms.policy).Statement : s.Sid => s }["DenyInsecureTransport"].Resource == aws_sns_topic.alarms.arn &&
      { for s in jsondecode(aws_sns_topic_policy.alarms.policy).Statement : s.Sid => s }["DenyInsecureTransport"].Condition == { Bool = { "aws:SecureTransport" = "false" } }
    )
    error_message = "Publishing without TLS must be denied to everyone."
  }

  assert {
    condition = (
      { for s in jsondecode(aws_sns_topic_policy.alarms.policy).Statement : s.Sid => s }["AccountOwnerAccess"].Principal == { AWS = "arn:aws:iam::123456789012:root" } &&
      { for s in jsondecode(aws_sns_topic_policy.alarms.policy).Statement : s.Sid => s }["AccountOwnerAccess"].Resource == aws_sns_topic.alarms.arn &&
      !can({ for s in jsondecode(aws_sns_topic_policy.alarms.policy).Statement : s.Sid => s }["AccountOwnerAccess"].Condition)
    )
    error_message = "Topic administration must be granted to this account only, on this topic only."
  }

  assert {
    condition = (
      toset([for s in jsondecode(aws_kms_key.sns.policy).Statement : s.Sid]) == toset(["AccountAdministration", "CloudWatchAlarmsUseKey"]) &&
      { for s in jsondecode(aws_kms_key.sns.policy).Statement : s.Sid => s }["AccountAdministration"].Principal == { AWS = "arn:aws:iam::123456789012:root" } &&
      { for s in jsondecode(aws_kms_key.sns.policy).Statement : s.Sid => s }["CloudWatchAlarmsUseKey"].Principal == { Service = "cloudwatch.amazonaws.com" } &&
      toset(flatten([{ for s in jsondecode(aws_kms_key.sns.policy).Statement : s.Sid => s }["CloudWatchAlarmsUseKey"].Action])) == toset(["kms:Decrypt", "kms:GenerateDataKey*"]) &&
      { for s in jsondecode(aws_kms_key.sns.policy).Statement : s.Sid => s }["AccountAdministration"].Action == "kms:*" &&
      alltrue([for s in jsondecode(aws_kms_key.sns.policy).Statement : s.Effect == "Allow" && s.Resource == "*" && !can(s.Condition) && !can(s.NotAction) && !can(s.NotPrincipal)])
    )
    error_message = "The topic key must let CloudWatch encrypt alarm notifications (Decrypt, GenerateDataKey*) and nothing more."
  }
}
