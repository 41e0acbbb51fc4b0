###############################################################################
# Network: one VPC across exactly three AZs with three subnet tiers
#   public (ALB, NAT gateways) -> app (ECS tasks) -> data (Aurora)
# plus per-tier NACLs, the three tier security groups, and VPC flow logs to a
# KMS-encrypted CloudWatch log group.
###############################################################################

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

# Only standard AZs (no Local/Wavelength zones, which need opt-in and lack NAT
# gateway/Aurora support).
data "aws_availability_zones" "available" {
  state = "available"

  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }

  lifecycle {
    postcondition {
      condition     = length(self.names) >= 3
      error_message = "The region must offer at least 3 available availability zones; this network is laid out across exactly 3."
    }
  }
}

locals {
  name_suffix = "${var.environment}-${var.environment_suffix}"

  tags = merge(var.tags, {
    Environment = var.environment
    Project     = var.project
    Owner       = var.owner
  })

  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region

  # Sorted so the AZ -> index mapping (and therefore every CIDR) is stable.
  azs = slice(sort(data.aws_availability_zones.available.names), 0, var.az_count)

  # az name => { index, letter } ; the letter ("a" for us-east-1a) goes in names.
  az = {
    for i, name in local.azs : name => {
      index  = i
      letter = regex("[a-z]$", name)
    }
  }

  # /16 -> /20 subnets. Netnums leave a gap after each tier for growth:
  # public 0-2, app 4-6, data 8-10.
  subnet_newbits = 4
  public_cidrs   = { for name, a in local.az : name => cidrsubnet(var.vpc_cidr, local.subnet_newbits, a.index) }
  app_cidrs      = { for name, a in local.az : name => cidrsubnet(var.vpc_cidr, local.subnet_newbits, 4 + a.index) }
  data_cidrs     = { for name, a in local.az : name => cidrsubnet(var.vpc_cidr, local.subnet_newbits, 8 + a.index) }

  postgres_port   = 5432
  ephemeral_from  = 1024
  ephemeral_to    = 65535
  anywhere_ipv4   = "0.0.0.0/0"
  flow_log_group  = "log-vpc-flow-${local.name_suffix}"
  flow_log_lg_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.flow_log_group}"
}

###############################################################################
# VPC, subnets, gateways, routing
###############################################################################

resource "aws_vpc" "this" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = merge(local.tags, { Name = "vpc-${local.name_suffix}" })
}

# Take over the default security group and strip every rule from it so nothing
# can accidentally be launched into an open group.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id

  tags = merge(local.tags, { Name = "sg-default-${local.name_suffix}" })
}

resource "aws_subnet" "public" {
  for_each = local.az

  vpc_id            = aws_vpc.this.id
  availability_zone = each.key
  cidr_block        = local.public_cidrs[each.key]
  # The ALB and NAT gateways get their addresses explicitly; nothing else may
  # receive a public IP by accident.
  map_public_ip_on_launch = false

  tags = merge(local.tags, {
    Name = "subnet-public-${each.value.letter}-${local.name_suffix}"
    Tier = "public"
  })
}

resource "aws_subnet" "app" {
  for_each = local.az

  vpc_id                  = aws_vpc.this.id
  availability_zone       = each.key
  cidr_block              = local.app_cidrs[each.key]
  map_public_ip_on_launch = false

  tags = merge(local.tags, {
    Name = "subnet-app-${each.value.letter}-${local.name_suffix}"
    Tier = "app"
  })
}

resource "aws_subnet" "data" {
  for_each = local.az

  vpc_id                  = aws_vpc.this.id
  availability_zone       = each.key
  cidr_block              = local.data_cidrs[each.key]
  map_public_ip_on_launch = false

  tags = merge(local.tags, {
    Name = "subnet-data-${each.value.letter}-${local.name_suffix}"
    Tier = "data"
  })
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id

  tags = merge(local.tags, { Name = "igw-${local.name_suffix}" })
}

# One NAT gateway per AZ so losing an AZ never cuts the other AZs' egress.
resource "aws_eip" "nat" {
  for_each = local.az

  domain = "vpc"

  tags = merge(local.tags, { Name = "eip-nat-${each.value.letter}-${local.name_suffix}" })

  depends_on = [aws_internet_gateway.this]
}

resource "aws_nat_gateway" "this" {
  for_each = local.az

  allocation_id     = aws_eip.nat[each.key].id
  subnet_id         = aws_subnet.public[each.key].id
  connectivity_type = "public"

  tags = merge(local.tags, { Name = "nat-${each.value.letter}-${local.name_suffix}" })

  depends_on = [aws_internet_gateway.this]
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id

  tags = merge(local.tags, { Name = "rtb-public-${local.name_suffix}" })
}

resource "aws_route" "public_internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = local.anywhere_ipv4
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "public" {
  for_each = local.az

  subnet_id      = aws_subnet.public[each.key].id
  route_table_id = aws_route_table.public.id
}

# One app route table per AZ, each defaulting to the NAT gateway in its own AZ.
resource "aws_route_table" "app" {
  for_each = local.az

  vpc_id = aws_vpc.this.id

  tags = merge(local.tags, { Name = "rtb-app-${each.value.letter}-${local.name_suffix}" })
}

resource "aws_route" "app_nat" {
  for_each = local.az

  route_table_id         = aws_route_table.app[each.key].id
  destination_cidr_block = local.anywhere_ipv4
  nat_gateway_id         = aws_nat_gateway.this[each.key].id
}

resource "aws_route_table_association" "app" {
  for_each = local.az

  subnet_id      = aws_subnet.app[each.key].id
  route_table_id = aws_route_table.app[each.key].id
}

# Data tier: only the implicit local route. No internet path in either direction.
resource "aws_route_table" "data" {
  for_each = local.az

  vpc_id = aws_vpc.this.id

  tags = merge(local.tags, { Name = "rtb-data-${each.value.letter}-${local.name_suffix}" })
}

resource "aws_route_table_association" "data" {
  for_each = local.az

  subnet_id      = aws_subnet.data[each.key].id
  route_table_id = aws_route_table.data[each.key].id
}

resource "aws_vpc_endpoint" "s3" {
  count = var.enable_s3_gateway_endpoint ? 1 : 0

  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${local.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [for name in local.azs : aws_route_table.app[name].id]

  tags = merge(local.tags, { Name = "vpce-s3-${local.name_suffix}" })
}

# Interface endpoints in the app subnets (one ENI per AZ), private DNS so the SDKs and the ECS agent
# resolve the regional service names to them.
resource "aws_security_group" "endpoints" {
  count = length(var.interface_endpoint_services) > 0 ? 1 : 0

  name_prefix = "secgrp-vpce-${local.name_suffix}-"
  description = "Interface VPC endpoints: HTTPS from the ECS tasks only"
  vpc_id      = aws_vpc.this.id

  tags = merge(local.tags, { Name = "sg-vpce-${local.name_suffix}" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_from_app" {
  count = length(var.interface_endpoint_services) > 0 ? 1 : 0

  security_group_id            = aws_security_group.endpoints[0].id
  description                  = "HTTPS from the app (ECS task) security group"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.app.id

  tags = merge(local.tags, { Name = "sgr-vpce-in-app-${local.name_suffix}" })
}

resource "aws_vpc_endpoint" "interface" {
  for_each = toset(var.interface_endpoint_services)

  vpc_id              = aws_vpc.this.id
  service_name        = "com.amazonaws.${local.region}.${each.key}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = [for name in local.azs : aws_subnet.app[name].id]
  security_group_ids  = [aws_security_group.endpoints[0].id]
  private_dns_enabled = true

  tags = merge(local.tags, { Name = "vpce-${replace(each.key, ".", "-")}-${local.name_suffix}" })
}

###############################################################################
# Network ACLs: stateless, so every allowed flow needs its return path.
# Security groups remain the primary control; NACLs are the coarse tier fence.
###############################################################################

locals {
  nacl_rules = merge(
    {
      # Public tier: clients -> ALB, app tier -> NAT -> internet.
      "public-in-100-https"     = { tier = "public", egress = false, rule_number = 100, from = 443, to = 443, cidr = local.anywhere_ipv4 }
      "public-in-110-http"      = { tier = "public", egress = false, rule_number = 110, from = 80, to = 80, cidr = local.anywhere_ipv4 }
      "public-in-120-ephemeral" = { tier = "public", egress = false, rule_number = 120, from = local.ephemeral_from, to = local.ephemeral_to, cidr = local.anywhere_ipv4 }
      "public-out-100-https"    = { tier = "public", egress = true, rule_number = 100, from = 443, to = 443, cidr = local.anywhere_ipv4 }
      "public-out-110-app"      = { tier = "public", egress = true, rule_number = 110, from = var.app_port, to = var.app_port, cidr = var.vpc_cidr }
      "public-out-120-ephemer"  = { tier = "public", egress = true, rule_number = 120, from = local.ephemeral_from, to = local.ephemeral_to, cidr = local.anywhere_ipv4 }

      # App tier: ALB -> tasks on app_port; tasks -> AWS APIs (443 via NAT).
      "app-in-100-app" = { tier = "app", egress = false, rule_number = 100, from = var.app_port, to = var.app_port, cidr = var.vpc_cidr }
      # The ephemeral rule below must admit replies from anywhere (NAT, S3 gateway endpoint), and
      # app_port lies in that range: deny it from outside the VPC first, so only the ALB (rule
      # 100, VPC CIDR) reaches the tasks' port. Tasks never use app_port as a client port (Linux
      # picks 32768-60999), so no reply is lost.
      "app-in-105-deny-app-port" = { tier = "app", egress = false, rule_number = 105, from = var.app_port, to = var.app_port, cidr = local.anywhere_ipv4, action = "deny" }
      "app-in-110-ephemeral"     = { tier = "app", egress = false, rule_number = 110, from = local.ephemeral_from, to = local.ephemeral_to, cidr = local.anywhere_ipv4 }
      "app-out-100-https"        = { tier = "app", egress = true, rule_number = 100, from = 443, to = 443, cidr = local.anywhere_ipv4 }
      "app-out-120-ephemeral"    = { tier = "app", egress = true, rule_number = 120, from = local.ephemeral_from, to = local.ephemeral_to, cidr = var.vpc_cidr }
    },
    # Tasks -> interface endpoint ENIs in the other app subnets on 443 (rules 120-122). The app
    # tier's HTTPS egress (rule 100) stays 0.0.0.0/0 even with egress restricted to the endpoints:
    # S3 gateway endpoint traffic goes to S3's public addresses, which NACLs cannot name (no prefix
    # lists in NACLs); the security group does the restriction.
    { for name, a in local.az : "app-in-${120 + a.index}-https-${a.letter}" => {
      tier = "app", egress = false, rule_number = 120 + a.index, from = 443, to = 443, cidr = local.app_cidrs[name]
    } },
    # App tier -> data subnets on 5432 (rules 110-112).
    { for name, a in local.az : "app-out-${110 + a.index}-postgres-${a.letter}" => {
      tier = "app", egress = true, rule_number = 110 + a.index, from = local.postgres_port, to = local.postgres_port, cidr = local.data_cidrs[name]
    } },
    # Data tier: 5432 in from the app subnets only, replies back to them only.
    { for name, a in local.az : "data-in-${100 + a.index}-postgres-${a.letter}" => {
      tier = "data", egress = false, rule_number = 100 + a.index, from = local.postgres_port, to = local.postgres_port, cidr = local.app_cidrs[name]
    } },
    { for name, a in local.az : "data-out-${100 + a.index}-ephemeral-${a.letter}" => {
      tier = "data", egress = true, rule_number = 100 + a.index, from = local.ephemeral_from, to = local.ephemeral_to, cidr = local.app_cidrs[name]
    } },
  )

  tier_subnet_ids = {
    public = [for name in local.azs : aws_subnet.public[name].id]
    app    = [for name in local.azs : aws_subnet.app[name].id]
    data   = [for name in local.azs : aws_subnet.data[name].id]
  }
}

resource "aws_network_acl" "tier" {
  for_each = local.tier_subnet_ids

  vpc_id     = aws_vpc.this.id
  subnet_ids = each.value

  tags = merge(local.tags, { Name = "nacl-${each.key}-${local.name_suffix}" })
}

resource "aws_network_acl_rule" "this" {
  for_each = local.nacl_rules

  network_acl_id = aws_network_acl.tier[each.value.tier].id
  rule_number    = each.value.rule_number
  egress         = each.value.egress
  protocol       = "tcp"
  rule_action    = try(each.value.action, "allow")
  cidr_block     = each.value.cidr
  from_port      = each.value.from
  to_port        = each.value.to
}

###############################################################################
# Security groups (live here, not in alb/ecs/database, so there are no cycles).
# AWS rejects group names starting with "sg-", so the names use "secgrp-" while
# the Name tag keeps the "sg-" convention. name_prefix (AWS appends a unique
# suffix) plus create_before_destroy: a replaced group is created and attached
# first, and the old one is deleted once nothing uses it. With a fixed name the
# new group would collide with the old one, and deleting first blocks on the
# network interfaces (ALB, tasks, Aurora) still attached to it.
###############################################################################

resource "aws_security_group" "alb" {
  name_prefix = "secgrp-alb-${local.name_suffix}-"
  description = "ALB: HTTPS/HTTP from clients, app_port to ECS tasks"
  vpc_id      = aws_vpc.this.id

  tags = merge(local.tags, { Name = "sg-alb-${local.name_suffix}" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group" "app" {
  name_prefix = "secgrp-app-${local.name_suffix}-"
  description = "ECS tasks: app_port from ALB, HTTPS to AWS APIs, PostgreSQL to Aurora"
  vpc_id      = aws_vpc.this.id

  tags = merge(local.tags, { Name = "sg-app-${local.name_suffix}" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group" "db" {
  name_prefix = "secgrp-db-${local.name_suffix}-"
  description = "Aurora PostgreSQL: 5432 from ECS tasks only"
  vpc_id      = aws_vpc.this.id

  tags = merge(local.tags, { Name = "sg-db-${local.name_suffix}" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  for_each = toset(var.alb_ingress_cidr_blocks)

  security_group_id = aws_security_group.alb.id
  description       = "HTTPS from ${each.value} to the ALB"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value

  tags = merge(local.tags, { Name = "sgr-alb-in-https-${local.name_suffix}" })
}

resource "aws_vpc_security_group_ingress_rule" "alb_http" {
  for_each = toset(var.alb_ingress_cidr_blocks)

  security_group_id = aws_security_group.alb.id
  description       = "HTTP from ${each.value} to the ALB (redirected to HTTPS only)"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = each.value

  tags = merge(local.tags, { Name = "sgr-alb-in-http-${local.name_suffix}" })
}

resource "aws_vpc_security_group_ingress_rule" "alb_test_listener" {
  for_each = var.test_listener_port == null ? toset([]) : toset(var.test_listener_cidr_blocks)

  security_group_id = aws_security_group.alb.id
  description       = "ALB test listener from ${each.value} (pre-shift verification)"
  ip_protocol       = "tcp"
  from_port         = var.test_listener_port
  to_port           = var.test_listener_port
  cidr_ipv4         = each.value

  tags = merge(local.tags, { Name = "sgr-alb-in-test-${local.name_suffix}" })
}

resource "aws_vpc_security_group_egress_rule" "alb_to_app" {
  security_group_id            = aws_security_group.alb.id
  description                  = "ALB to ECS tasks on the app port (traffic and health checks)"
  ip_protocol                  = "tcp"
  from_port                    = var.app_port
  to_port                      = var.app_port
  referenced_security_group_id = aws_security_group.app.id

  tags = merge(local.tags, { Name = "sgr-alb-out-app-${local.name_suffix}" })
}

resource "aws_vpc_security_group_ingress_rule" "app_from_alb" {
  security_group_id            = aws_security_group.app.id
  description                  = "App port from the ALB security group only"
  ip_protocol                  = "tcp"
  from_port                    = var.app_port
  to_port                      = var.app_port
  referenced_security_group_id = aws_security_group.alb.id

  tags = merge(local.tags, { Name = "sgr-app-in-alb-${local.name_suffix}" })
}

# HTTPS egress of the tasks: either only the VPC endpoints (interface endpoints' group, S3 gateway
# prefix list), or anywhere through the NAT gateways.
resource "aws_vpc_security_group_egress_rule" "app_https" {
  count = var.restrict_app_egress_to_vpc_endpoints ? 0 : 1

  security_group_id = aws_security_group.app.id
  description       = "HTTPS to the internet and AWS APIs via the NAT gateways"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = local.anywhere_ipv4

  tags = merge(local.tags, { Name = "sgr-app-out-https-${local.name_suffix}" })
}

resource "aws_vpc_security_group_egress_rule" "app_to_endpoints" {
  count = length(var.interface_endpoint_services) > 0 ? 1 : 0

  security_group_id            = aws_security_group.app.id
  description                  = "HTTPS to the interface VPC endpoints"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.endpoints[0].id

  tags = merge(local.tags, { Name = "sgr-app-out-vpce-${local.name_suffix}" })
}

resource "aws_vpc_security_group_egress_rule" "app_to_s3" {
  count = var.restrict_app_egress_to_vpc_endpoints ? 1 : 0

  security_group_id = aws_security_group.app.id
  description       = "HTTPS to S3 through the gateway endpoint (ECR image layers)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = aws_vpc_endpoint.s3[0].prefix_list_id

  tags = merge(local.tags, { Name = "sgr-app-out-s3-${local.name_suffix}" })

  lifecycle {
    precondition {
      condition     = var.enable_s3_gateway_endpoint && length(setsubtract(["ecr.api", "ecr.dkr", "secretsmanager", "logs", "sts"], var.interface_endpoint_services)) == 0
      error_message = "restrict_app_egress_to_vpc_endpoints needs the S3 gateway endpoint and interface endpoints for ecr.api, ecr.dkr, secretsmanager, logs and sts; without them tasks cannot pull images, read secrets or log."
    }
  }
}

resource "aws_vpc_security_group_egress_rule" "app_to_db" {
  security_group_id            = aws_security_group.app.id
  description                  = "PostgreSQL to the Aurora security group"
  ip_protocol                  = "tcp"
  from_port                    = local.postgres_port
  to_port                      = local.postgres_port
  referenced_security_group_id = aws_security_group.db.id

  tags = merge(local.tags, { Name = "sgr-app-out-db-${local.name_suffix}" })
}

# The DB group deliberately has no egress rule: Aurora needs none for client
# sessions (security groups are stateful), and replication is AWS-internal.
resource "aws_vpc_security_group_ingress_rule" "db_from_app" {
  security_group_id            = aws_security_group.db.id
  description                  = "PostgreSQL from the app (ECS task) security group only"
  ip_protocol                  = "tcp"
  from_port                    = local.postgres_port
  to_port                      = local.postgres_port
  referenced_security_group_id = aws_security_group.app.id

  tags = merge(local.tags, { Name = "sgr-db-in-app-${local.name_suffix}" })
}

###############################################################################
# VPC flow logs -> KMS-encrypted CloudWatch log group
###############################################################################

resource "aws_kms_key" "flow_logs" {
  description             = "Encrypts the VPC flow log group ${local.flow_log_group}"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_in_days

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministration"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        # CloudWatch Logs may use the key only for this one log group.
        Sid       = "CloudWatchLogsFlowLogGroup"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action = [
          "kms:Encrypt*",
          "kms:Decrypt*",
          "kms:ReEncrypt*",
          "kms:GenerateDataKey*",
          "kms:Describe*",
        ]
        Resource = "*"
        Condition = {
          ArnEquals = { "kms:EncryptionContext:aws:logs:arn" = local.flow_log_lg_arn }
        }
      },
    ]
  })

  tags = merge(local.tags, { Name = "kms-flowlogs-${local.name_suffix}" })
}

resource "aws_kms_alias" "flow_logs" {
  name          = "alias/kms-flowlogs-${local.name_suffix}"
  target_key_id = aws_kms_key.flow_logs.key_id
}

resource "aws_cloudwatch_log_group" "flow_logs" {
  name              = local.flow_log_group
  retention_in_days = var.flow_log_retention_days
  kms_key_id        = aws_kms_key.flow_logs.arn

  tags = merge(local.tags, { Name = local.flow_log_group })
}

resource "aws_iam_role" "flow_logs" {
  name        = "role-vpc-flow-logs-${local.name_suffix}"
  description = "Lets the VPC flow log service write to ${local.flow_log_group}"

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = { Service = "vpc-flow-logs.amazonaws.com" }
        Action    = "sts:AssumeRole"
        # Confused-deputy protection: only flow logs of this account.
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
          ArnLike      = { "aws:SourceArn" = "arn:${local.partition}:ec2:${local.region}:${local.account_id}:vpc-flow-log/*" }
        }
      },
    ]
  })

  tags = merge(local.tags, { Name = "role-vpc-flow-logs-${local.name_suffix}" })
}

# tfsec flags the ":*" suffix, but it only matches the log streams inside this
# one log group (log-stream ARNs are <group-arn>:log-stream:<name>).
#tfsec:ignore:aws-iam-no-policy-wildcards
resource "aws_iam_role_policy" "flow_logs" {
  name = "policy-vpc-flow-logs-${local.name_suffix}"
  role = aws_iam_role.flow_logs.id

  # Scoped to the one log group and its streams; the group is pre-created here
  # so the service never needs logs:CreateLogGroup.
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "WriteFlowLogGroup"
        Effect = "Allow"
        Action = [
          "logs:CreateLogStream",
          "logs:PutLogEvents",
          "logs:DescribeLogStreams",
        ]
        Resource = [
          aws_cloudwatch_log_group.flow_logs.arn,
          "${aws_cloudwatch_log_group.flow_logs.arn}:*",
        ]
      },
    ]
  })
}

resource "aws_flow_log" "this" {
  vpc_id                   = aws_vpc.this.id
  traffic_type             = var.flow_log_traffic_type
  log_destination_type     = "cloud-watch-logs"
  log_destination          = aws_cloudwatch_log_group.flow_logs.arn
  iam_role_arn             = aws_iam_role.flow_logs.arn
  max_aggregation_interval = var.flow_log_max_aggregation_interval

  tags = merge(local.tags, { Name = "flowlog-vpc-${local.name_suffix}" })

  depends_on = [aws_iam_role_policy.flow_logs]
}
