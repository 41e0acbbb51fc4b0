# Policies as the provider renders them: the offline provider (tools/tfprovider) "applies" in
# memory (SWITCHYARD_TF_OFFLINE_APPLY=1, set by scripts/tf-check.sh) so that aws_iam_policy_document,
# which depends on resource ARNs and is therefore only read during apply, renders its JSON. The
# assertions decode that JSON and compare principals, actions, resources and conditions exactly;
# the provider collapses one-element lists to strings, so lists are compared as
# toset(flatten([x])). Nothing reaches AWS.

provider "aws" {
  region = "us-east-1"
}

variables {
  environment            = "prod"
  environment_suffix     = "td01"
  owner                  = "platform-team"
  app_subnet_ids         = ["subnet-0000000000000000a", "subnet-0000000000000000b", "subnet-0000000000000000c"]
  app_security_group_id  = "sg-0123456789abcdef0"
  blue_target_group_arn  = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg-blue-prod-td01/1111111111111111"
  green_target_group_arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg-green-prod-td01/2222222222222222"
  ecr_repository_arn     = "arn:aws:ecr:us-east-1:123456789012:repository/ecr-web-prod-td01"
  container_image        = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ecr-web-prod-td01:bootstrap"
  secrets = {
    DJANGO_SECRET_KEY = "arn:aws:secretsmanager:us-east-1:123456789012:secret:secret-django-secret-key-prod-td01-AbCdEf"
    DATABASE_PASSWORD = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-1234-AbCdEf:password::"
  }
  secret_arns = [
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:secret-django-secret-key-prod-td01-AbCdEf",
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-1234-AbCdEf",
  ]
  secrets_kms_key_arns  = ["arn:aws:kms:us-east-1:123456789012:key/99999999-2222-3333-4444-555555555555"]
  environment_variables = { DATABASE_HOST = "db.example.internal" }
  db_iam_auth = {
    cluster_resource_id = "cluster-ABCDEFGHIJKLMNOP"
    usernames           = ["app"]
  }
}

run "rendered_policies" {
  command = apply

  # Trust policies: ECS tasks of this account only (confused-deputy conditions).
  assert {
    condition = alltrue([
      for p in [aws_iam_role.execution.assume_role_policy, aws_iam_role.task.assume_role_policy] :
      length(jsondecode(p).Statement) == 1 &&
      jsondecode(p).Statement[0].Effect == "Allow" &&
      toset(flatten([jsondecode(p).Statement[0].Action])) == toset(["sts:AssumeRole"]) &&
      jsondecode(p).Statement[0].Principal == { Service = "ecs-tasks.amazonaws.com" } &&
      jsondecode(p).Statement[0].Condition == {
        StringEquals = { "aws:SourceAccount" = "123456789012" }
        ArnLike      = { "aws:SourceArn" = "arn:aws:ecs:us-east-1:123456789012:*" }
      }
    ])
    error_message = "Both roles must trust only ecs-tasks.amazonaws.com, with aws:SourceAccount and an ECS aws:SourceArn of this account."
  }

  # Execution role: exactly these statements, each on exactly its resources.
  assert {
    condition     = toset([for s in jsondecode(aws_iam_role_policy.execution.policy).Statement : s.Sid]) == toset(["EcrAuthToken", "EcrPullAppRepository", "WriteAppLogs", "ReadTaskSecrets", "DecryptTaskSecrets"]) && alltrue([for s in jsondecode(aws_iam_role_policy.execution.policy).Statement : s.Effect == "Allow" && !can(s.Principal) && !can(s.NotAction) && !can(s.NotResource)])
    error_message = "The execution policy must hold exactly the ECR, logs and secrets statements, all plain Allow."
  }

  assert {
    condition = (
      toset(flatten([{ for s in jsondecode(aws_iam_role_policy.execution.policy).Statement : s.Sid => s }["EcrAuthToken"].Action])) == toset(["ecr:GetAuthorizationToken"]) &&
      { for s in jsondecode(aws_iam_role_policy.execution.policy).Statement : s.Sid => s }["EcrAuthToken"].Resource == "*"
    )
    error_message = "Only ecr:GetAuthorizationToken (no resource-level support) may use Resource \"*\"."
  }

  assert {
    condition = (
      toset(flatten([{ for s in jsondecode(aws_iam_role_policy.execution.policy).Statement : s.Sid => s }["EcrPullAppRepository"].Action])) == toset(["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]) &&
      toset(flatten([{ for s in jsondecode(aws_iam_role_policy.execution.policy).Statement : s.Sid => s }["EcrPullAppRepository"].Resource])) == toset([var.ecr_repository_arn])
    )
    error_message = "Image pull must be allowed on the stack's repository only."
  }

  assert {
    condition = (
      toset(flatten([{ for s in jsondecode(aws_iam_role_policy.execution.policy).Statement : s.Sid => s }["WriteAppLogs"].Action])) == toset(["logs:CreateLogStream", "logs:PutLogEvents"]) &&
      toset(flatten([{ for s in jsondecode(aws_iam_role_policy.execution.policy).Statement : s.Sid => s }["WriteAppLogs"].Resource])) == toset(["${aws_cloudwatch_log_group.app.arn}:*"])
    )
    error_message = "Log writes must be limited to the app log group's streams."
  }

  assert {
    condition = (
      toset(flatten([{ for s in jsondecode(aws_iam_role_policy.execution.policy).Statement : s.Sid => s }["ReadTaskSecrets"].Action])) == toset(["secretsmanager:GetSecretValue"]) &&
      toset(flatten([{ for s in jsondecode(aws_iam_role_policy.execution.policy).Statement : s.Sid => s }["ReadTaskSecrets"].Resource])) == toset(var.secret_arns)
    )
    error_message = "secretsmanager:GetSecretValue must be granted on exactly secret_arns."
  }

  assert {
    condition = (
      toset(flatten([{ for s in jsondecode(aws_iam_role_policy.execution.policy).Statement : s.Sid => s }["DecryptTaskSecrets"].Action])) == toset(["kms:Decrypt"]) &&
      toset(flatten([{ for s in jsondecode(aws_iam_role_policy.execution.policy).Statement : s.Sid => s }["DecryptTaskSecrets"].Resource])) == toset(var.secrets_kms_key_arns) &&
      { for s in jsondecode(aws_iam_role_policy.execution.policy).Statement : s.Sid => s }["DecryptTaskSecrets"].Condition == { StringEquals = { "kms:ViaService" = "secretsmanager.us-east-1.amazonaws.com" } }
    )
    error_message = "kms:Decrypt must be limited to the secrets keys, through Secrets Manager only."
  }

  # Task role: rds-db:connect as the configured user of this cluster, nothing else.
  assert {
    condition = (
      length(jsondecode(aws_iam_role_policy.task[0].policy).Statement) == 1 &&
      jsondecode(aws_iam_role_policy.task[0].policy).Statement[0].Effect == "Allow" &&
      toset(flatten([jsondecode(aws_iam_role_policy.task[0].policy).Statement[0].Action])) == toset(["rds-db:connect"]) &&
      toset(flatten([jsondecode(aws_iam_role_policy.task[0].policy).Statement[0].Resource])) == toset(["arn:aws:rds-db:us-east-1:123456789012:dbuser:cluster-ABCDEFGHIJKLMNOP/app"])
    )
    error_message = "The task role may only rds-db:connect as the configured database user."
  }

  # Log key: account administration, and CloudWatch Logs of this region for the module's two
  # log groups only (app and Container Insights).
  assert {
    condition = (
      toset([for s in jsondecode(aws_kms_key.logs.policy).Statement : s.Sid]) == toset(["AccountAdministration", "CloudWatchLogsUseForModuleLogGroups"]) &&
      { for s in jsondecode(aws_kms_key.logs.policy).Statement : s.Sid => s }["AccountAdministration"].Principal == { AWS = "arn:aws:iam::123456789012:root" } &&
      { for s in jsondecode(aws_kms_key.logs.policy).Statement : s.Sid => s }["AccountAdministration"].Action == "kms:*" &&
      alltrue([for s in jsondecode(aws_kms_key.logs.policy).Statement : s.Effect == "Allow" && s.Resource == "*" && !can(s.NotAction) && !can(s.NotPrincipal)]) &&
      !can({ for s in jsondecode(aws_kms_key.logs.policy).Statement : s.Sid => s }["AccountAdministration"].Condition)
    )
    error_message = "The log key policy must hold account administration (root of this account) and the CloudWatch Logs grant only."
  }

  assert {
    condition = (
      { for s in jsondecode(aws_kms_key.logs.policy).Statement : s.Sid => s }["CloudWatchLogsUseForModuleLogGroups"].Principal == { Service = "logs.us-east-1.amazonaws.com" } &&
      toset(flatten([{ for s in jsondecode(aws_kms_key.logs.policy).Statement : s.Sid => s }["CloudWatchLogsUseForModuleLogGroups"].Action])) == toset(["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]) &&
      keys({ for s in jsondecode(aws_kms_key.logs.policy).Statement : s.Sid => s }["CloudWatchLogsUseForModuleLogGroups"].Condition) == ["ArnEquals"] &&
      keys({ for s in jsondecode(aws_kms_key.logs.policy).Statement : s.Sid => s }["CloudWatchLogsUseForModuleLogGroups"].Condition.ArnEquals) == ["kms:EncryptionContext:aws:logs:arn"] &&
      toset({ for s in jsondecode(aws_kms_key.logs.policy).Statement : s.Sid => s }["CloudWatchLogsUseForModuleLogGroups"].Condition.ArnEquals["kms:EncryptionContext:aws:logs:arn"]) == toset([
        "arn:aws:logs:us-east-1:123456789012:log-group:log-ecs-prod-td01",
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/ecs/containerinsights/ecs-prod-td01/performance",
      ])
    )
    error_message = "CloudWatch Logs may use the key only for the app and Container Insights log groups of this module."
  }
}

run "runtime_secrets_are_read_by_the_task_role" {
  command = apply

  variables {
    runtime_secret_arns         = ["arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-1234-AbCdEf"]
    runtime_secret_kms_key_arns = ["arn:aws:kms:us-east-1:123456789012:key/88888888-2222-3333-4444-555555555555"]
  }

  assert {
    condition = (
      toset(flatten([{ for s in jsondecode(aws_iam_role_policy.task[0].policy).Statement : s.Sid => s }["ReadRuntimeSecrets"].Action])) == toset(["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]) &&
      toset(flatten([{ for s in jsondecode(aws_iam_role_policy.task[0].policy).Statement : s.Sid => s }["ReadRuntimeSecrets"].Resource])) == toset(var.runtime_secret_arns) &&
      toset(flatten([{ for s in jsondecode(aws_iam_role_policy.task[0].policy).Statement : s.Sid => s }["DecryptRuntimeSecrets"].Resource])) == toset(var.runtime_secret_kms_key_arns) &&
      { for s in jsondecode(aws_iam_role_policy.task[0].policy).Statement : s.Sid => s }["DecryptRuntimeSecrets"].Condition == { StringEquals = { "kms:ViaService" = "secretsmanager.us-east-1.amazonaws.com" } }
    )
    error_message = "Runtime secrets must be readable by the task role on exactly runtime_secret_arns, decrypted through Secrets Manager only."
  }
}
