#!/usr/bin/env bash
# Mutation check of the Terraform tests: each entry below breaks one constraint of the stack on
# purpose (a seed constraint, a security property, or one of the fixes of issue 13 undone) in a
# scratch copy of terraform/, and runs only the tests of the module it touches. A mutation is
# KILLED when at least one test fails; a SURVIVED mutation is a constraint no test guards. Prints
# the mutation score; exits non-zero unless every mutation is killed.
#
#   scripts/tf-mutate.sh            all mutations (two workers)
#   scripts/tf-mutate.sh ID...      only these
#   scripts/tf-mutate.sh --list     print the IDs
#   TF_MUTATE_JOBS=1 scripts/tf-mutate.sh
#
# Entry format, one per line, fields separated by " @@ ":
#   id @@ file under terraform/ @@ directory whose tests run @@ test files (-filter, comma-separated;
#   "-" = all) @@ text @@ replacement
# The text is literal and must occur in the file (every occurrence is replaced); an entry whose text
# no longer matches is reported as STALE and fails the check, so the list cannot rot silently.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
# shellcheck source=scripts/tf-env.sh
source "$root/scripts/tf-env.sh"

mutations() {
	cat <<'EOF'
ecs-readonly-root-by-default @@ modules/ecs/main.tf @@ modules/ecs @@ tests/ecs.tftest.hcl @@ readonlyRootFilesystem = var.readonly_root_filesystem @@ readonlyRootFilesystem = true
ecs-tmp-mount-without-contract @@ modules/ecs/main.tf @@ modules/ecs @@ tests/ecs.tftest.hcl @@ tmp_mount = var.readonly_root_filesystem ? [{ @@ tmp_mount = true ? [{
ecs-task-definitions-deregistered @@ modules/ecs/main.tf @@ modules/ecs @@ tests/ecs.tftest.hcl @@ skip_destroy = true @@ skip_destroy = false
ecs-health-path-not-passed @@ modules/ecs/main.tf @@ modules/ecs @@ tests/ecs.tftest.hcl @@ { HEALTH_CHECK_PATH = var.health_check_path } @@ {}
ecs-insights-log-group-unmanaged-name @@ modules/ecs/main.tf @@ modules/ecs @@ tests/ecs.tftest.hcl @@ /aws/ecs/containerinsights/${local.cluster_name}/performance @@ /aws/ecs/containerinsights/${local.cluster_name}
ecs-insights-log-group-unencrypted @@ modules/ecs/main.tf @@ modules/ecs @@ tests/ecs.tftest.hcl @@ name              = local.insights_log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.logs.arn @@ name              = local.insights_log_group_name
  retention_in_days = var.log_retention_days
ecs-deployment-alarms-no-rollback @@ modules/ecs/main.tf @@ modules/ecs @@ tests/ecs.tftest.hcl @@ rollback    = true @@ rollback    = false
ecs-circuit-breaker-no-rollback @@ modules/ecs/main.tf @@ modules/ecs @@ tests/ecs.tftest.hcl @@ rollback = true @@ rollback = false
ecs-public-ip @@ modules/ecs/main.tf @@ modules/ecs @@ tests/ecs.tftest.hcl @@ assign_public_ip = false @@ assign_public_ip = true
ecs-log-key-misses-insights-group @@ modules/ecs/main.tf @@ modules/ecs @@ tests/policies.tftest.hcl @@ values   = [local.log_group_arn, local.insights_log_group_arn] @@ values   = [local.log_group_arn]
ecs-trust-without-source-arn @@ modules/ecs/main.tf @@ modules/ecs @@ tests/policies.tftest.hcl @@ variable = "aws:SourceArn" @@ variable = "aws:PrincipalArn"
ecs-trust-wrong-principal @@ modules/ecs/main.tf @@ modules/ecs @@ tests/policies.tftest.hcl @@ identifiers = ["ecs-tasks.amazonaws.com"] @@ identifiers = ["ecs.amazonaws.com"]
ecs-secrets-wildcard @@ modules/ecs/main.tf @@ modules/ecs @@ tests/policies.tftest.hcl @@ resources = var.secret_arns @@ resources = ["*"]
ecs-secrets-key-wildcard @@ modules/ecs/main.tf @@ modules/ecs @@ tests/policies.tftest.hcl @@ resources = var.secrets_kms_key_arns @@ resources = ["*"]
ecs-pull-any-repository @@ modules/ecs/main.tf @@ modules/ecs @@ tests/policies.tftest.hcl @@ resources = [var.ecr_repository_arn] @@ resources = ["*"]
ecs-logs-all-actions @@ modules/ecs/main.tf @@ modules/ecs @@ tests/policies.tftest.hcl @@ actions = ["logs:CreateLogStream", "logs:PutLogEvents"] @@ actions = ["logs:*"]
ecs-runtime-secrets-wildcard @@ modules/ecs/main.tf @@ modules/ecs @@ tests/policies.tftest.hcl @@ resources = var.runtime_secret_arns @@ resources = ["*"]
db-pinned-minor-default @@ modules/database/variables.tf @@ modules/database @@ tests/database.tftest.hcl @@ default     = "16" @@ default     = "16.6"
db-pinned-minor-allowed @@ modules/database/main.tf @@ modules/database @@ tests/validation.tftest.hcl @@ condition     = !var.auto_minor_version_upgrade || length(split(".", var.engine_version)) == 1 @@ condition     = var.auto_minor_version_upgrade || true
db-log-key-any-group @@ modules/database/main.tf @@ modules/database @@ tests/database.tftest.hcl @@ ArnEquals = { "kms:EncryptionContext:aws:logs:arn" = local.log_group_arn } @@ ArnLike = { "kms:EncryptionContext:aws:logs:arn" = "*" }
db-unencrypted @@ modules/database/main.tf @@ modules/database @@ tests/database.tftest.hcl @@ storage_encrypted = true @@ storage_encrypted = false
db-no-iam-auth @@ modules/database/main.tf @@ modules/database @@ tests/database.tftest.hcl @@ iam_database_authentication_enabled = true @@ iam_database_authentication_enabled = false
db-monitoring-trust-any-account @@ modules/database/main.tf @@ modules/database @@ tests/database.tftest.hcl @@ StringEquals = { "aws:SourceAccount" = local.account_id } @@ StringLike = { "aws:SourceAccount" = "*" }
db-monitoring-trust-wrong-service @@ modules/database/main.tf @@ modules/database @@ tests/database.tftest.hcl @@ Principal = { Service = "monitoring.rds.amazonaws.com" } @@ Principal = { Service = "rds.amazonaws.com" }
db-key-admin-any-principal @@ modules/database/main.tf @@ modules/database @@ tests/database.tftest.hcl @@ Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" } @@ Principal = { AWS = "*" }
mon-alarms-notify-nobody @@ modules/monitoring/main.tf @@ modules/monitoring @@ tests/validation.tftest.hcl @@ condition     = var.alarm_email != null || var.allow_no_alarm_notifications @@ condition     = var.allow_no_alarm_notifications || true
mon-colour-alarm-without-target-group @@ modules/monitoring/main.tf @@ modules/monitoring @@ tests/monitoring.tftest.hcl @@ dimensions         = { LoadBalancer = var.alb_arn_suffix, TargetGroup = c.target_group } @@ dimensions         = { LoadBalancer = var.alb_arn_suffix }
mon-wrong-alb-namespace @@ modules/monitoring/main.tf @@ modules/monitoring @@ tests/monitoring.tftest.hcl @@ namespace          = "AWS/ApplicationELB" @@ namespace          = "AWS/ELB"
mon-p90-instead-of-p99 @@ modules/monitoring/main.tf @@ modules/monitoring @@ tests/monitoring.tftest.hcl @@ extended_statistic = "p99" @@ extended_statistic = "p90"
mon-ecs-wrong-namespace @@ modules/monitoring/main.tf @@ modules/monitoring @@ tests/monitoring.tftest.hcl @@ namespace          = "AWS/ECS" @@ namespace          = "ECS/ContainerInsights"
mon-unhealthy-threshold @@ modules/monitoring/main.tf @@ modules/monitoring @@ tests/monitoring.tftest.hcl @@ statistic   = "Maximum"
          threshold   = 0 @@ statistic   = "Maximum"
          threshold   = 1
mon-no-alarm-actions @@ modules/monitoring/main.tf @@ modules/monitoring @@ tests/monitoring.tftest.hcl @@ alarm_actions = [aws_sns_topic.alarms.arn] @@ alarm_actions = []
mon-task-shortfall-inverted @@ modules/monitoring/main.tf @@ modules/monitoring @@ tests/monitoring.tftest.hcl @@ expression  = "desired - running" @@ expression  = "running - desired"
mon-single-datapoint @@ modules/monitoring/main.tf @@ modules/monitoring @@ tests/monitoring.tftest.hcl @@ datapoints_to_alarm = each.value.evaluation_periods @@ datapoints_to_alarm = 1
mon-topic-any-source @@ modules/monitoring/main.tf @@ modules/monitoring @@ tests/policies.tftest.hcl @@ values   = ["arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:*"] @@ values   = ["*"]
mon-topic-tls-deny-inverted @@ modules/monitoring/main.tf @@ modules/monitoring @@ tests/policies.tftest.hcl @@ values   = ["false"] @@ values   = ["true"]
mon-key-for-any-service @@ modules/monitoring/main.tf @@ modules/monitoring @@ tests/policies.tftest.hcl @@ identifiers = ["cloudwatch.amazonaws.com"]
    }
  }
} @@ identifiers = ["cloudwatch.amazonaws.com", "sns.amazonaws.com"]
    }
  }
}
net-data-replies-to-wrong-tier @@ modules/network/main.tf @@ modules/network @@ tests/flows.tftest.hcl @@ from = local.ephemeral_from, to = local.ephemeral_to, cidr = local.app_cidrs[name] @@ from = local.ephemeral_from, to = local.ephemeral_to, cidr = local.data_cidrs[name]
net-alb-to-task-rule-wrong-direction @@ modules/network/main.tf @@ modules/network @@ tests/flows.tftest.hcl,tests/network.tftest.hcl @@ "public-out-110-app"      = { tier = "public", egress = true @@ "public-out-110-app"      = { tier = "public", egress = false
net-no-endpoint-ingress @@ modules/network/main.tf @@ modules/network @@ tests/flows.tftest.hcl @@ rule_number = 120 + a.index, from = 443, to = 443 @@ rule_number = 120 + a.index, from = 8443, to = 8443
net-app-port-open-to-internet @@ modules/network/main.tf @@ modules/network @@ tests/flows.tftest.hcl @@ action = "deny" } @@ action = "allow" }
net-narrow-ephemeral @@ modules/network/main.tf @@ modules/network @@ tests/flows.tftest.hcl @@ ephemeral_from  = 1024 @@ ephemeral_from  = 32768
net-db-from-public-tier @@ modules/network/main.tf @@ modules/network @@ tests/flows.tftest.hcl @@ from = local.postgres_port, to = local.postgres_port, cidr = local.app_cidrs[name] @@ from = local.postgres_port, to = local.postgres_port, cidr = var.vpc_cidr
net-no-endpoint-ingress-from-app-b @@ modules/network/main.tf @@ modules/network @@ tests/flows.tftest.hcl @@ for_each = local.nacl_rules @@ for_each = { for k, v in local.nacl_rules : k => v if k != "app-in-121-https-b" }
net-no-db-ingress-from-app-c @@ modules/network/main.tf @@ modules/network @@ tests/flows.tftest.hcl @@ for_each = local.nacl_rules @@ for_each = { for k, v in local.nacl_rules : k => v if k != "data-in-102-postgres-c" }
net-no-db-replies-to-app-c @@ modules/network/main.tf @@ modules/network @@ tests/flows.tftest.hcl @@ for_each = local.nacl_rules @@ for_each = { for k, v in local.nacl_rules : k => v if k != "data-out-102-ephemeral-c" }
net-sg-fixed-name @@ modules/network/main.tf @@ modules/network @@ tests/network.tftest.hcl @@ name_prefix = "secgrp-app-${local.name_suffix}-" @@ name        = "secgrp-app-${local.name_suffix}"
net-egress-open-by-default @@ modules/network/variables.tf @@ modules/network @@ tests/network.tftest.hcl @@ set false if the app must call APIs that have no endpoint here."
  type        = bool
  default     = true @@ set false if the app must call APIs that have no endpoint here."
  type        = bool
  default     = false
net-endpoint-without-private-dns @@ modules/network/main.tf @@ modules/network @@ tests/network.tftest.hcl @@ private_dns_enabled = true @@ private_dns_enabled = false
net-no-sts-endpoint @@ modules/network/variables.tf @@ modules/network @@ tests/network.tftest.hcl @@ default     = ["ecr.api", "ecr.dkr", "secretsmanager", "logs", "sts"] @@ default     = ["ecr.api", "ecr.dkr", "secretsmanager", "logs"]
net-flow-log-trust-any-source @@ modules/network/main.tf @@ modules/network @@ tests/network.tftest.hcl @@ "aws:SourceArn" = "arn:${local.partition}:ec2:${local.region}:${local.account_id}:vpc-flow-log/*" @@ "aws:SourceArn" = "*"
net-flow-log-key-any-group @@ modules/network/main.tf @@ modules/network @@ tests/network.tftest.hcl @@ ArnEquals = { "kms:EncryptionContext:aws:logs:arn" = local.flow_log_lg_arn } @@ ArnLike = { "kms:EncryptionContext:aws:logs:arn" = "*" }
net-flow-log-role-writes-anywhere @@ modules/network/main.tf @@ modules/network @@ tests/network.tftest.hcl @@ "${aws_cloudwatch_log_group.flow_logs.arn}:*",
        ] @@ "*",
        ]
ecr-account-scanning-by-default @@ modules/ecr/variables.tf @@ modules/ecr @@ - @@ it is off by default (as at the root); turn it on only where this stack owns the account's registry scanning."
  type        = bool
  default     = false @@ it is off by default (as at the root); turn it on only where this stack owns the account's registry scanning."
  type        = bool
  default     = true
ecr-mutable-tags @@ modules/ecr/main.tf @@ modules/ecr @@ - @@ image_tag_mutability = "IMMUTABLE" @@ image_tag_mutability = "MUTABLE"
ecr-key-any-principal @@ modules/ecr/main.tf @@ modules/ecr @@ tests/policies.tftest.hcl @@ Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" } @@ Principal = { AWS = "*" }
ecr-key-foreign-account @@ modules/ecr/main.tf @@ modules/ecr @@ tests/policies.tftest.hcl @@ iam::${data.aws_caller_identity.current.account_id}:root @@ iam::999999999999:root
secrets-key-any-principal @@ modules/secrets/main.tf @@ modules/secrets @@ tests/policies.tftest.hcl @@ Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" } @@ Principal = { AWS = "*" }
secrets-key-foreign-account @@ modules/secrets/main.tf @@ modules/secrets @@ tests/policies.tftest.hcl @@ iam::${local.account_id}:root @@ iam::999999999999:root
waf-key-any-log-group @@ modules/waf/main.tf @@ modules/waf @@ tests/policies.tftest.hcl @@ values   = [local.log_group_arn] @@ values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
waf-key-global-logs-principal @@ modules/waf/main.tf @@ modules/waf @@ tests/policies.tftest.hcl @@ identifiers = ["logs.${local.region}.amazonaws.com"] @@ identifiers = ["logs.amazonaws.com"]
waf-key-admin-any-principal @@ modules/waf/main.tf @@ modules/waf @@ tests/policies.tftest.hcl @@ identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"] @@ identifiers = ["*"]
waf-delivery-any-account @@ modules/waf/main.tf @@ modules/waf @@ tests/policies.tftest.hcl @@ values   = [local.account_id] @@ values   = ["*"]
waf-delivery-any-log-group @@ modules/waf/main.tf @@ modules/waf @@ tests/policies.tftest.hcl @@ resources = ["${local.log_group_arn}:*"] @@ resources = ["*"]
waf-delivery-wrong-principal @@ modules/waf/main.tf @@ modules/waf @@ tests/policies.tftest.hcl @@ identifiers = ["delivery.logs.amazonaws.com"] @@ identifiers = ["logs.amazonaws.com"]
alb-health-accepts-redirects @@ modules/alb/main.tf @@ modules/alb @@ - @@ matcher             = "200" @@ matcher             = "200-399"
alb-weak-tls-policy @@ modules/alb/variables.tf @@ modules/alb @@ - @@ default     = "ELBSecurityPolicy-TLS13-1-2-2021-06" @@ default     = "ELBSecurityPolicy-2016-08"
alb-logs-delivery-whole-bucket @@ modules/alb/main.tf @@ modules/alb @@ tests/policies.tftest.hcl @@ resources = ["${aws_s3_bucket.access_logs.arn}/${local.access_logs_prefix}/AWSLogs/${data.aws_caller_identity.current.account_id}/*"] @@ resources = ["${aws_s3_bucket.access_logs.arn}/*"]
alb-logs-delivery-any-principal @@ modules/alb/main.tf @@ modules/alb @@ tests/policies.tftest.hcl @@ identifiers = [data.aws_elb_service_account.current.arn] @@ identifiers = ["*"]
alb-logs-delivery-wrong-service @@ modules/alb/main.tf @@ modules/alb @@ tests/policies.tftest.hcl @@ identifiers = ["logdelivery.elasticloadbalancing.amazonaws.com"] @@ identifiers = ["elasticloadbalancing.amazonaws.com"]
alb-logs-delivery-all-actions @@ modules/alb/main.tf @@ modules/alb @@ tests/policies.tftest.hcl @@ actions   = ["s3:PutObject"] @@ actions   = ["s3:*"]
alb-logs-tls-deny-inverted @@ modules/alb/main.tf @@ modules/alb @@ tests/policies.tftest.hcl @@ values   = ["false"] @@ values   = ["true"]
alb-logs-tls-deny-misses-objects @@ modules/alb/main.tf @@ modules/alb @@ tests/policies.tftest.hcl @@ resources = [aws_s3_bucket.access_logs.arn, "${aws_s3_bucket.access_logs.arn}/*"] @@ resources = [aws_s3_bucket.access_logs.arn]
alb-logs-prefix-not-granted @@ modules/alb/main.tf @@ modules/alb @@ tests/policies.tftest.hcl @@ prefix  = local.access_logs_prefix @@ prefix  = "logs"
boot-lockfile-off @@ bootstrap/outputs.tf @@ bootstrap @@ - @@ "use_lockfile   = true\n" @@ "use_lockfile   = false\n"
boot-state-tls-deny-inverted @@ bootstrap/main.tf @@ bootstrap @@ tests/policies.tftest.hcl @@ Bool = { "aws:SecureTransport" = "false" } @@ Bool = { "aws:SecureTransport" = "true" }
boot-state-tls-1-0-allowed @@ bootstrap/main.tf @@ bootstrap @@ tests/policies.tftest.hcl @@ NumericLessThan = { "s3:TlsVersion" = "1.2" } @@ NumericLessThan = { "s3:TlsVersion" = "1.0" }
boot-state-deny-misses-objects @@ bootstrap/main.tf @@ bootstrap @@ tests/policies.tftest.hcl @@ Resource  = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"] @@ Resource  = [aws_s3_bucket.state.arn]
boot-state-deny-own-account-only @@ bootstrap/main.tf @@ bootstrap @@ tests/policies.tftest.hcl @@ Principal = "*" @@ Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
boot-state-deny-writes-only @@ bootstrap/main.tf @@ bootstrap @@ tests/policies.tftest.hcl @@ Action    = "s3:*" @@ Action    = "s3:PutObject"
boot-key-any-principal @@ bootstrap/main.tf @@ bootstrap @@ tests/policies.tftest.hcl @@ Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" } @@ Principal = { AWS = "*" }
boot-key-foreign-account @@ bootstrap/main.tf @@ bootstrap @@ tests/policies.tftest.hcl @@ iam::${local.account_id}:root @@ iam::999999999999:root
root-master-secret-always-readable @@ main.tf @@ . @@ tests/stack.tftest.hcl @@ var.app_reads_db_master_secret ? [module.database.master_user_secret_arn] : [] @@ [module.database.master_user_secret_arn]
root-deployments-watch-5xx-only @@ main.tf @@ . @@ tests/stack.tftest.hcl @@ for what in ["5xx", "unhealthy"] @@ for what in ["5xx"]
root-alb-health-path-not-wired @@ main.tf @@ . @@ tests/stack.tftest.hcl @@ health_check_path           = var.health_check_path @@ health_check_path           = "/healthz"
root-ecs-health-path-not-wired @@ main.tf @@ . @@ tests/stack.tftest.hcl @@ health_check_path      = var.health_check_path @@ health_check_path      = "/healthz"
root-alarms-opt-out-always @@ main.tf @@ . @@ tests/stack.tftest.hcl @@ allow_no_alarm_notifications  = var.allow_alarms_without_notification @@ allow_no_alarm_notifications  = true
root-egress-restriction-dropped @@ main.tf @@ . @@ tests/apply.tftest.hcl @@ restrict_app_egress_to_vpc_endpoints = var.restrict_app_egress_to_vpc_endpoints @@ restrict_app_egress_to_vpc_endpoints = false
root-readonly-root-forced @@ main.tf @@ . @@ tests/stack.tftest.hcl @@ readonly_root_filesystem    = var.readonly_root_filesystem @@ readonly_root_filesystem    = true
root-registry-scanning-forced @@ main.tf @@ . @@ tests/stack.tftest.hcl @@ enable_registry_enhanced_scanning = var.enable_registry_enhanced_scanning @@ enable_registry_enhanced_scanning = true
root-db-iam-auth-dropped @@ main.tf @@ . @@ tests/stack.tftest.hcl @@ db_iam_auth = var.db_iam_username == null ? null : { @@ db_iam_auth = true ? null : {
state-provisioned-billing @@ modules/controller-state/main.tf @@ modules/controller-state @@ tests/controller_state.tftest.hcl @@ billing_mode = "PAY_PER_REQUEST" @@ billing_mode = "PROVISIONED"
  read_capacity  = 5
  write_capacity = 5
state-wrong-sort-key @@ modules/controller-state/main.tf @@ modules/controller-state @@ tests/controller_state.tftest.hcl @@ range_key    = "sk" @@ range_key    = "gsi1sk"
state-index-keys-only @@ modules/controller-state/main.tf @@ modules/controller-state @@ tests/controller_state.tftest.hcl @@ projection_type = "ALL" @@ projection_type = "KEYS_ONLY"
state-index-without-range @@ modules/controller-state/main.tf @@ modules/controller-state @@ tests/controller_state.tftest.hcl @@ key_schema {
        attribute_name = global_secondary_index.value.range
        key_type       = "RANGE"
      } @@ 
state-gsi2-dropped @@ modules/controller-state/main.tf @@ modules/controller-state @@ tests/controller_state.tftest.hcl @@ for_each = local.indexes @@ for_each = { for k, v in local.indexes : k => v if k != "gsi2" }
state-ttl-wrong-attribute @@ modules/controller-state/main.tf @@ modules/controller-state @@ tests/controller_state.tftest.hcl @@ attribute_name = "expires_ttl" @@ attribute_name = "expires_at"
state-ttl-off @@ modules/controller-state/main.tf @@ modules/controller-state @@ tests/controller_state.tftest.hcl @@ attribute_name = "expires_ttl"
    enabled        = true @@ attribute_name = "expires_ttl"
    enabled        = false
state-no-pitr @@ modules/controller-state/main.tf @@ modules/controller-state @@ tests/controller_state.tftest.hcl @@ point_in_time_recovery {
    enabled = true @@ point_in_time_recovery {
    enabled = false
state-aws-owned-key @@ modules/controller-state/main.tf @@ modules/controller-state @@ tests/controller_state.tftest.hcl @@ kms_key_arn = aws_kms_key.this.arn @@ kms_key_arn = null
state-unprotected-by-default @@ modules/controller-state/variables.tf @@ modules/controller-state @@ tests/controller_state.tftest.hcl @@ type        = bool
  default     = true @@ type        = bool
  default     = false
state-key-any-principal @@ modules/controller-state/main.tf @@ modules/controller-state @@ tests/controller_state.tftest.hcl @@ Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" } @@ Principal = { AWS = "*" }
state-daemon-creates-table @@ modules/controller-state/main.tf @@ modules/controller-state @@ tests/controller_state.tftest.hcl @@ "dynamodb:ConditionCheckItem", @@ "dynamodb:ConditionCheckItem", "dynamodb:CreateTable",
state-daemon-no-delete @@ modules/controller-state/main.tf @@ modules/controller-state @@ tests/controller_state.tftest.hcl @@ "dynamodb:DeleteItem", @@ 
state-daemon-any-table @@ modules/controller-state/outputs.tf @@ modules/controller-state @@ tests/controller_state.tftest.hcl @@ Resource = [aws_dynamodb_table.this.arn, "${aws_dynamodb_table.this.arn}/index/*"] @@ Resource = ["*"]
state-daemon-no-index @@ modules/controller-state/outputs.tf @@ modules/controller-state @@ tests/controller_state.tftest.hcl @@ Resource = [aws_dynamodb_table.this.arn, "${aws_dynamodb_table.this.arn}/index/*"] @@ Resource = [aws_dynamodb_table.this.arn]
state-daemon-key-any-service @@ modules/controller-state/outputs.tf @@ modules/controller-state @@ tests/controller_state.tftest.hcl @@ Condition = { StringEquals = { "kms:ViaService" = "dynamodb.${local.region}.amazonaws.com" } } @@ Condition = { StringLike = { "kms:ViaService" = "*" } }
state-daemon-key-admin @@ modules/controller-state/main.tf @@ modules/controller-state @@ tests/controller_state.tftest.hcl @@ daemon_key_actions = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"] @@ daemon_key_actions = ["kms:*"]
root-controller-table-on-by-default @@ variables.tf @@ . @@ tests/apply.tftest.hcl @@ deletion_protection = optional(bool, true)
  })
  default = null @@ deletion_protection = optional(bool, true)
  })
  default = {}
root-controller-table-protection-not-wired @@ main.tf @@ . @@ tests/apply.tftest.hcl @@ deletion_protection = var.controller_state_table.deletion_protection @@ deletion_protection = true
EOF
}

# Entries span lines when a field needs a newline: an entry continues until the next line that
# starts with an id followed by " @@ ".
entries() {
	mutations | awk '
		/^[a-z0-9-]+ @@ / { if (buf != "") printf "%s%c", buf, 0; buf = $0; next }
		{ buf = buf "\n" $0 }
		END { if (buf != "") printf "%s%c", buf, 0 }'
}

field() { # field ENTRY N: the N-th " @@ "-separated field (0-based)
	local rest=$1 n=$2 i
	for ((i = 0; i < n; i++)); do rest=${rest#* @@ }; done
	[ "$n" -lt 5 ] && rest=${rest%% @@ *}
	printf '%s' "$rest"
}

declare -a ids=() all=()
while IFS= read -r -d '' e; do
	all+=("$e")
	ids+=("${e%% @@ *}")
done < <(entries)

if [ "${1:-}" = "--list" ]; then
	printf '%s\n' "${ids[@]}"
	exit 0
fi

selected=()
if [ $# -gt 0 ]; then
	for want in "$@"; do
		found=0
		for e in "${all[@]}"; do
			[ "${e%% @@ *}" = "$want" ] && selected+=("$e") && found=1
		done
		[ "$found" = 1 ] || { echo "unknown mutation: $want" >&2; exit 2; }
	done
else
	selected=("${all[@]}")
fi

"$root/scripts/tf-setup.sh" >/dev/null || { echo "[tf-mutate] scripts/tf-setup.sh failed" >&2; exit 1; }

jobs=${TF_MUTATE_JOBS:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# run_one WORKDIR ENTRY: apply, test, restore; prints one result line.
run_one() {
	local w=$1 e=$2 id file dir filter old new path orig mutated args log rc f
	id=$(field "$e" 0)
	file=$(field "$e" 1)
	dir=$(field "$e" 2)
	filter=$(field "$e" 3)
	old=$(field "$e" 4)
	new=$(field "$e" 5)
	path="$w/terraform/$file"
	orig=$(cat "$path"; printf x)
	orig=${orig%x}
	if [[ "$orig" != *"$old"* ]]; then
		printf 'STALE     %s (text not found in %s)\n' "$id" "$file"
		return
	fi
	mutated=${orig//"$old"/"$new"}
	printf '%s' "$mutated" >"$path"
	if [ ! -d "$w/terraform/$dir/.terraform" ]; then
		tofu -chdir="$w/terraform/$dir" init -backend=false -input=false -no-color -plugin-dir="$TF_PLUGIN_DIR" >"$w/init.log" 2>&1 ||
			{ printf 'ERROR     %s (tofu init failed in %s: %s)\n' "$id" "$dir" "$(grep -m1 -A3 Error "$w/init.log" | tr '\n' ' ')"; printf '%s' "$orig" >"$path"; return; }
	fi
	args=()
	if [ "$filter" != "-" ]; then
		IFS=, read -ra fs <<<"$filter"
		for f in "${fs[@]}"; do args+=("-filter=$f"); done
	fi
	log="$w/$id.log"
	SWITCHYARD_TF_OFFLINE_APPLY=1 tofu -chdir="$w/terraform/$dir" test -no-color "${args[@]}" >"$log" 2>&1
	rc=$?
	printf '%s' "$orig" >"$path"
	if [ "$rc" -ne 0 ] && grep -qE '^Failure! ' "$log"; then
		printf 'KILLED    %s (%s: %s)\n' "$id" "$dir" "$(grep -E '^Failure! ' "$log" | tail -n1 | sed 's/^Failure! //; s/\.$//')"
	elif [ "$rc" -ne 0 ]; then
		# No test ran: the mutated configuration does not load. That is the tool, not a test, saying
		# no; the entry must be rewritten into a break the tests have to catch.
		printf 'ERROR     %s (%s: tofu test exited %d without a test summary)\n' "$id" "$dir" "$rc"
	else
		printf 'SURVIVED  %s (%s: %s)\n' "$id" "$dir" "$(grep -E '^Success! ' "$log" | tail -n1)"
	fi
}

start=$(date +%s)
for ((j = 0; j < jobs; j++)); do
	mkdir -p "$work/w$j"
	cp -r terraform "$work/w$j/"
	find "$work/w$j" -name .terraform -type d -prune -exec rm -rf {} + -o -name .terraform.lock.hcl -exec rm -f {} +
	(
		for ((i = j; i < ${#selected[@]}; i += jobs)); do
			run_one "$work/w$j" "${selected[$i]}"
		done
	) >"$work/results.$j" &
done
wait

cat "$work"/results.* | sort -k2
total=${#selected[@]}
killed=$(cat "$work"/results.* | grep -c '^KILLED' || true)
echo
echo "mutation score: $killed/$total killed ($((100 * killed / (total > 0 ? total : 1)))%) in $(($(date +%s) - start))s"
[ "$killed" -eq "$total" ]
