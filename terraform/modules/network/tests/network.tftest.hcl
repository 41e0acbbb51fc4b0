# Tests with a mocked AWS provider: no credentials, no network. Runs that read mocked computed
# values apply to the mock (known after apply in OpenTofu and Terraform alike); expect_failures
# runs plan.

mock_provider "aws" {
  # Deliberately unsorted and with a fourth AZ: the module must sort and take 3.
  mock_data "aws_availability_zones" {
    defaults = {
      names = ["us-east-1c", "us-east-1a", "us-east-1d", "us-east-1b"]
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }

  mock_data "aws_region" {
    defaults = {
      region = "us-east-1"
    }
  }
}

variables {
  environment        = "prod"
  environment_suffix = "td01"
  owner              = "platform-team"
  vpc_cidr           = "10.40.0.0/16"
  tags = {
    CostCenter = "trading"
  }
}

# Known IDs for the resources whose identity the assertions compare.
override_resource {
  target = aws_security_group.alb
  values = { id = "sg-0alb0000000000000" }
}

override_resource {
  target = aws_security_group.app
  values = { id = "sg-0app0000000000000" }
}

override_resource {
  target = aws_security_group.db
  values = { id = "sg-0db00000000000000" }
}

override_resource {
  target = aws_security_group.endpoints
  values = { id = "sg-0vpce000000000000" }
}

override_resource {
  target = aws_vpc_endpoint.s3
  values = { prefix_list_id = "pl-63a5400a" }
}

override_resource {
  target = aws_kms_key.flow_logs
  values = {
    arn    = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    key_id = "11111111-2222-3333-4444-555555555555"
  }
}

override_resource {
  target = aws_cloudwatch_log_group.flow_logs
  values = { arn = "arn:aws:logs:us-east-1:123456789012:log-group:log-vpc-flow-prod-td01" }
}

run "three_azs_and_subnet_tiers" {
  command = apply

  assert {
    condition     = output.availability_zones == tolist(["us-east-1a", "us-east-1b", "us-east-1c"])
    error_message = "Expected exactly the first 3 sorted AZs us-east-1a/b/c."
  }

  assert {
    condition     = length(aws_subnet.public) == 3 && length(aws_subnet.app) == 3 && length(aws_subnet.data) == 3
    error_message = "Expected 3 public, 3 app and 3 data subnets."
  }

  assert {
    condition     = length(distinct([for s in values(aws_subnet.app) : s.availability_zone])) == 3
    error_message = "App subnets must be spread over 3 distinct AZs."
  }

  assert {
    condition = (
      aws_subnet.public["us-east-1a"].cidr_block == "10.40.0.0/20" &&
      aws_subnet.public["us-east-1c"].cidr_block == "10.40.32.0/20" &&
      aws_subnet.app["us-east-1a"].cidr_block == "10.40.64.0/20" &&
      aws_subnet.data["us-east-1a"].cidr_block == "10.40.128.0/20" &&
      aws_subnet.data["us-east-1c"].cidr_block == "10.40.160.0/20"
    )
    error_message = "Subnet CIDRs are not the expected cidrsubnet(vpc_cidr, 4, n) layout."
  }

  assert {
    condition     = length(distinct(concat([for s in values(aws_subnet.public) : s.cidr_block], [for s in values(aws_subnet.app) : s.cidr_block], [for s in values(aws_subnet.data) : s.cidr_block]))) == 9
    error_message = "All 9 subnet CIDRs must be distinct."
  }

  assert {
    condition     = alltrue([for s in concat(values(aws_subnet.public), values(aws_subnet.app), values(aws_subnet.data)) : s.map_public_ip_on_launch == false])
    error_message = "No subnet may auto-assign public IPs."
  }

  assert {
    condition     = aws_vpc.this.enable_dns_support && aws_vpc.this.enable_dns_hostnames
    error_message = "VPC must have DNS support and DNS hostnames enabled."
  }
}

run "nat_per_az_and_private_routing" {
  command = apply

  assert {
    condition     = length(aws_nat_gateway.this) == 3 && length(aws_eip.nat) == 3
    error_message = "Expected one NAT gateway and one EIP per AZ (3)."
  }

  assert {
    condition     = alltrue([for k, eip in aws_eip.nat : eip.domain == "vpc"])
    error_message = "NAT EIPs must be VPC EIPs."
  }

  assert {
    condition     = length(aws_route_table.app) == 3 && length(aws_route.app_nat) == 3
    error_message = "Expected 3 private (app) route tables, each with a default route."
  }

  assert {
    condition     = alltrue([for k, r in aws_route.app_nat : r.destination_cidr_block == "0.0.0.0/0" && r.nat_gateway_id == aws_nat_gateway.this[k].id && r.route_table_id == aws_route_table.app[k].id])
    error_message = "Each AZ's private route table must default-route to the NAT gateway of the same AZ."
  }

  # OpenTofu mocks give every instance of a resource the same generated id and
  # override_resource cannot target single instances, so "3 different NATs" is
  # proven through the per-AZ keys: each route table's route uses the NAT of
  # its own key, and those NATs sit in 3 public subnets in 3 different AZs.
  assert {
    condition = alltrue([for k, r in aws_route.app_nat :
      aws_nat_gateway.this[k].subnet_id == aws_subnet.public[k].id &&
      aws_subnet.public[k].availability_zone == k &&
      aws_subnet.app[k].availability_zone == k &&
      aws_route_table_association.app[k].subnet_id == aws_subnet.app[k].id &&
      aws_route_table_association.app[k].route_table_id == aws_route_table.app[k].id
    ]) && length(distinct([for k, r in aws_route.app_nat : aws_subnet.public[k].availability_zone])) == 3
    error_message = "The 3 private route tables must route to 3 different NAT gateways, each in the route table's own AZ."
  }

  assert {
    condition     = alltrue([for k, n in aws_nat_gateway.this : n.subnet_id == aws_subnet.public[k].id])
    error_message = "Each NAT gateway must sit in the public subnet of its own AZ."
  }

  assert {
    condition     = length(output.private_route_table_ids) == 3 && length(output.nat_gateway_ids) == 3
    error_message = "private_route_table_ids and nat_gateway_ids outputs must have 3 entries."
  }

  assert {
    condition     = alltrue([for k, a in aws_route_table_association.data : a.route_table_id == aws_route_table.data[k].id])
    error_message = "Data subnets must use the data route tables."
  }

  assert {
    condition     = alltrue([for r in values(aws_route_table.data) : length(r.route) == 0])
    error_message = "Data route tables must have no routes besides the implicit local route (no internet path)."
  }

  assert {
    condition     = aws_route.public_internet.gateway_id == aws_internet_gateway.this.id && aws_route.public_internet.destination_cidr_block == "0.0.0.0/0"
    error_message = "Public route table must default-route to the internet gateway."
  }
}

run "security_groups_and_default_sg" {
  command = apply

  assert {
    condition     = length(aws_default_security_group.this.ingress) == 0 && length(aws_default_security_group.this.egress) == 0
    error_message = "The default security group must have no ingress and no egress rules."
  }

  assert {
    condition = alltrue(flatten([
      [for r in values(aws_vpc_security_group_ingress_rule.alb_https) : r.ip_protocol == "tcp" && r.from_port == 443 && r.to_port == 443 && r.description != ""],
      [for r in values(aws_vpc_security_group_ingress_rule.alb_http) : r.ip_protocol == "tcp" && r.from_port == 80 && r.to_port == 80 && r.description != ""],
      [for r in values(aws_vpc_security_group_ingress_rule.alb_test_listener) : r.ip_protocol == "tcp" && r.from_port != -1 && r.description != ""],
      [for r in [
        aws_vpc_security_group_egress_rule.alb_to_app,
        aws_vpc_security_group_ingress_rule.app_from_alb,
        aws_vpc_security_group_egress_rule.app_to_endpoints[0],
        aws_vpc_security_group_egress_rule.app_to_s3[0],
        aws_vpc_security_group_ingress_rule.endpoints_from_app[0],
        aws_vpc_security_group_egress_rule.app_to_db,
        aws_vpc_security_group_ingress_rule.db_from_app,
        ] : r.ip_protocol == "tcp" && r.from_port != -1 && r.to_port != -1 && r.from_port == r.to_port && r.description != ""
      ],
    ]))
    error_message = "Every security group rule must be tcp with explicit single ports (never -1) and a description."
  }

  assert {
    condition = (
      aws_vpc_security_group_ingress_rule.db_from_app.security_group_id == "sg-0db00000000000000" &&
      aws_vpc_security_group_ingress_rule.db_from_app.from_port == 5432 &&
      aws_vpc_security_group_ingress_rule.db_from_app.to_port == 5432 &&
      aws_vpc_security_group_ingress_rule.db_from_app.referenced_security_group_id == "sg-0app0000000000000" &&
      aws_vpc_security_group_ingress_rule.db_from_app.cidr_ipv4 == null
    )
    error_message = "The DB ingress rule must be 5432 from the app security group only."
  }

  assert {
    condition = (
      aws_vpc_security_group_ingress_rule.app_from_alb.referenced_security_group_id == "sg-0alb0000000000000" &&
      aws_vpc_security_group_ingress_rule.app_from_alb.from_port == 8000 &&
      aws_vpc_security_group_egress_rule.alb_to_app.referenced_security_group_id == "sg-0app0000000000000" &&
      aws_vpc_security_group_egress_rule.alb_to_app.to_port == 8000 &&
      aws_vpc_security_group_egress_rule.app_to_db.referenced_security_group_id == "sg-0db00000000000000" &&
      length(aws_vpc_security_group_egress_rule.app_https) == 0 &&
      aws_vpc_security_group_egress_rule.app_to_endpoints[0].referenced_security_group_id == "sg-0vpce000000000000" &&
      aws_vpc_security_group_egress_rule.app_to_endpoints[0].cidr_ipv4 == null &&
      aws_vpc_security_group_egress_rule.app_to_s3[0].prefix_list_id == "pl-63a5400a" &&
      aws_vpc_security_group_egress_rule.app_to_s3[0].cidr_ipv4 == null &&
      aws_vpc_security_group_ingress_rule.endpoints_from_app[0].security_group_id == "sg-0vpce000000000000" &&
      aws_vpc_security_group_ingress_rule.endpoints_from_app[0].referenced_security_group_id == "sg-0app0000000000000"
    )
    error_message = "ALB/app rules do not match the contract (ALB->app on app_port, app->DB 5432, app HTTPS only to the VPC endpoints and S3 by default)."
  }

  # Replaceable without blocking on attached interfaces: generated names (no collision between the
  # old and the new group) and create_before_destroy in the module.
  assert {
    condition = alltrue([for g in [aws_security_group.alb, aws_security_group.app, aws_security_group.db, aws_security_group.endpoints[0]] :
    g.name_prefix != null && endswith(g.name_prefix, "-prod-td01-")])
    error_message = "Security groups must use name_prefix (a replacement must not collide with the group it replaces)."
  }

  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.alb_test_listener) == 0
    error_message = "No test listener ingress is expected unless test_listener_port is set."
  }

  assert {
    condition     = output.db_security_group_id == "sg-0db00000000000000" && output.app_security_group_id == "sg-0app0000000000000" && output.alb_security_group_id == "sg-0alb0000000000000"
    error_message = "Security group outputs must expose the three tier groups."
  }
}

run "network_acls" {
  command = apply

  assert {
    condition     = length(aws_network_acl.tier) == 3
    error_message = "Expected one NACL per tier (public, app, data)."
  }

  assert {
    condition     = alltrue([for k, r in aws_network_acl_rule.this : r.protocol == "tcp" && r.rule_action == (strcontains(k, "-deny-") ? "deny" : "allow") && r.from_port > 0 && r.to_port >= r.from_port && r.network_acl_id == aws_network_acl.tier[split("-", k)[0]].id])
    error_message = "Every NACL rule must be an explicit tcp rule with a port range (deny only where named so), on its tier's ACL."
  }

  assert {
    condition = (
      aws_network_acl_rule.this["public-in-100-https"].from_port == 443 &&
      aws_network_acl_rule.this["public-in-110-http"].from_port == 80 &&
      aws_network_acl_rule.this["public-in-120-ephemeral"].from_port == 1024 &&
      aws_network_acl_rule.this["public-in-120-ephemeral"].to_port == 65535 &&
      aws_network_acl_rule.this["app-in-100-app"].from_port == 8000 &&
      aws_network_acl_rule.this["app-in-100-app"].cidr_block == "10.40.0.0/16"
    )
    error_message = "Public/app NACL rules do not match the design."
  }

  assert {
    condition = toset([for k, r in aws_network_acl_rule.this : r.cidr_block if startswith(k, "data-in-")]) == toset([
      aws_subnet.app["us-east-1a"].cidr_block,
      aws_subnet.app["us-east-1b"].cidr_block,
      aws_subnet.app["us-east-1c"].cidr_block,
    ])
    error_message = "Data NACL ingress must come from the app subnets only."
  }

  assert {
    condition     = alltrue([for k, r in aws_network_acl_rule.this : r.from_port == 5432 && r.to_port == 5432 if startswith(k, "data-in-")])
    error_message = "Data NACL ingress must be 5432 only."
  }

  assert {
    condition     = alltrue([for k, r in aws_network_acl_rule.this : r.egress && r.from_port == 1024 && contains([for s in values(aws_subnet.app) : s.cidr_block], r.cidr_block) if startswith(k, "data-out-")])
    error_message = "Data NACL egress must be ephemeral ports to the app subnets only."
  }

  assert {
    condition     = length(distinct([for k, r in aws_network_acl_rule.this : "${split("-", k)[0]}/${r.egress}/${r.rule_number}"])) == length(aws_network_acl_rule.this)
    error_message = "NACL rule numbers must be unique per ACL and direction."
  }
}

run "nacls_attach_to_their_tiers" {
  command = apply

  assert {
    condition = alltrue([for t in ["public", "app", "data"] :
      toset(aws_network_acl.tier[t].subnet_ids) == toset([for k, s in(t == "public" ? aws_subnet.public : t == "app" ? aws_subnet.app : aws_subnet.data) : s.id])
    ])
    error_message = "Each tier's NACL must be associated with exactly that tier's three subnets."
  }
}

run "interface_endpoints" {
  command = apply

  assert {
    condition     = toset(keys(aws_vpc_endpoint.interface)) == toset(["ecr.api", "ecr.dkr", "secretsmanager", "logs", "sts"])
    error_message = "ECR API and registry, Secrets Manager, CloudWatch Logs and STS need interface endpoints."
  }

  assert {
    condition = alltrue([for k, e in aws_vpc_endpoint.interface :
      e.service_name == "com.amazonaws.us-east-1.${k}" && e.vpc_endpoint_type == "Interface" && e.private_dns_enabled &&
      toset(e.subnet_ids) == toset([for s in values(aws_subnet.app) : s.id]) && toset(e.security_group_ids) == toset(["sg-0vpce000000000000"])
    ])
    error_message = "Interface endpoints must sit in the app subnets with private DNS and the endpoint security group."
  }
}

run "egress_through_nat_when_not_restricted" {
  command = apply

  variables {
    restrict_app_egress_to_vpc_endpoints = false
  }

  assert {
    condition     = aws_vpc_security_group_egress_rule.app_https[0].cidr_ipv4 == "0.0.0.0/0" && aws_vpc_security_group_egress_rule.app_https[0].from_port == 443 && length(aws_vpc_security_group_egress_rule.app_to_s3) == 0
    error_message = "Without the restriction the tasks reach HTTPS anywhere through the NAT gateways."
  }
}

run "flow_log_policies" {
  command = apply

  assert {
    condition = (
      length(jsondecode(aws_iam_role.flow_logs.assume_role_policy).Statement) == 1 &&
      jsondecode(aws_iam_role.flow_logs.assume_role_policy).Statement[0].Principal == { Service = "vpc-flow-logs.amazonaws.com" } &&
      jsondecode(aws_iam_role.flow_logs.assume_role_policy).Statement[0].Action == "sts:AssumeRole" &&
      jsondecode(aws_iam_role.flow_logs.assume_role_policy).Statement[0].Condition == {
        StringEquals = { "aws:SourceAccount" = "123456789012" }
        ArnLike      = { "aws:SourceArn" = "arn:aws:ec2:us-east-1:123456789012:vpc-flow-log/*" }
      }
    )
    error_message = "Only VPC flow logs of this account may assume the flow log role."
  }

  assert {
    condition = (
      length(jsondecode(aws_iam_role_policy.flow_logs.policy).Statement) == 1 &&
      jsondecode(aws_iam_role_policy.flow_logs.policy).Statement[0].Effect == "Allow" &&
      !can(jsondecode(aws_iam_role_policy.flow_logs.policy).Statement[0].NotAction) &&
      !can(jsondecode(aws_iam_role_policy.flow_logs.policy).Statement[0].NotResource) &&
      toset(jsondecode(aws_iam_role_policy.flow_logs.policy).Statement[0].Action) == toset(["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]) &&
      toset(jsondecode(aws_iam_role_policy.flow_logs.policy).Statement[0].Resource) == toset([aws_cloudwatch_log_group.flow_logs.arn, "${aws_cloudwatch_log_group.flow_logs.arn}:*"])
    )
    error_message = "The flow log role may only write to its own log group."
  }

  assert {
    condition = (
      length(jsondecode(aws_kms_key.flow_logs.policy).Statement) == 2 &&
      alltrue([for s in jsondecode(aws_kms_key.flow_logs.policy).Statement : s.Effect == "Allow" && s.Resource == "*" && !can(s.NotAction) && !can(s.NotPrincipal)]) &&
      jsondecode(aws_kms_key.flow_logs.policy).Statement[0].Principal == { AWS = "arn:aws:iam::123456789012:root" } &&
      jsondecode(aws_kms_key.flow_logs.policy).Statement[0].Action == "kms:*" &&
      !can(jsondecode(aws_kms_key.flow_logs.policy).Statement[0].Condition) &&
      jsondecode(aws_kms_key.flow_logs.policy).Statement[1].Principal == { Service = "logs.us-east-1.amazonaws.com" } &&
      toset(flatten([jsondecode(aws_kms_key.flow_logs.policy).Statement[1].Action])) == toset(["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]) &&
      jsondecode(aws_kms_key.flow_logs.policy).Statement[1].Condition == { ArnEquals = { "kms:EncryptionContext:aws:logs:arn" = "arn:aws:logs:us-east-1:123456789012:log-group:log-vpc-flow-prod-td01" } }
    )
    error_message = "The flow log key must hold account administration and CloudWatch Logs use for the flow log group only."
  }
}

run "flow_logs_encrypted" {
  command = apply

  assert {
    condition     = aws_cloudwatch_log_group.flow_logs.kms_key_id == "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    error_message = "Flow log group must be encrypted with the module's KMS key."
  }

  assert {
    condition     = aws_kms_key.flow_logs.enable_key_rotation
    error_message = "Flow log KMS key must have rotation enabled."
  }

  assert {
    condition     = aws_cloudwatch_log_group.flow_logs.retention_in_days == 365
    error_message = "Flow log retention default must be 365 days."
  }

  assert {
    condition     = aws_flow_log.this.traffic_type == "ALL" && aws_flow_log.this.log_destination_type == "cloud-watch-logs" && aws_flow_log.this.log_destination == "arn:aws:logs:us-east-1:123456789012:log-group:log-vpc-flow-prod-td01"
    error_message = "Flow log must capture ALL traffic into the CloudWatch log group."
  }

  # The key and role policies themselves are asserted exactly in run "flow_log_policies".
}

run "naming_and_tags" {
  command = apply

  assert {
    condition     = aws_vpc.this.tags["Name"] == "vpc-prod-td01"
    error_message = "VPC must be named vpc-<env>-<suffix>."
  }

  assert {
    condition = alltrue([for n in concat(
      [aws_vpc.this.tags["Name"], aws_internet_gateway.this.tags["Name"], aws_route_table.public.tags["Name"], aws_default_security_group.this.tags["Name"]],
      [for s in values(aws_subnet.public) : s.tags["Name"]],
      [for s in values(aws_subnet.app) : s.tags["Name"]],
      [for s in values(aws_subnet.data) : s.tags["Name"]],
      [for s in values(aws_nat_gateway.this) : s.tags["Name"]],
      [for s in values(aws_eip.nat) : s.tags["Name"]],
      [for s in values(aws_route_table.app) : s.tags["Name"]],
      [for s in values(aws_route_table.data) : s.tags["Name"]],
      [for s in values(aws_network_acl.tier) : s.tags["Name"]],
      [aws_security_group.alb.tags["Name"], aws_security_group.app.tags["Name"], aws_security_group.db.tags["Name"]],
      [for g in [aws_security_group.alb, aws_security_group.app, aws_security_group.db] : trimsuffix(g.name_prefix, "-")],
      [aws_cloudwatch_log_group.flow_logs.name, aws_iam_role.flow_logs.name, aws_iam_role_policy.flow_logs.name, aws_flow_log.this.tags["Name"], aws_kms_key.flow_logs.tags["Name"]],
    ) : endswith(n, "-prod-td01")])
    error_message = "Every resource name must end with -<environment>-<environment_suffix>."
  }

  assert {
    condition = (
      startswith(aws_subnet.public["us-east-1a"].tags["Name"], "subnet-public-a-") &&
      startswith(aws_nat_gateway.this["us-east-1b"].tags["Name"], "nat-b-") &&
      startswith(aws_route_table.app["us-east-1c"].tags["Name"], "rtb-app-c-") &&
      startswith(aws_security_group.db.tags["Name"], "sg-db-") &&
      startswith(aws_security_group.db.name_prefix, "secgrp-db-") &&
      startswith(aws_cloudwatch_log_group.flow_logs.name, "log-") &&
      startswith(aws_iam_role.flow_logs.name, "role-") &&
      startswith(aws_kms_alias.flow_logs.name, "alias/kms-")
    )
    error_message = "Names must start with their resource type word."
  }

  assert {
    condition = alltrue([for t in concat(
      [aws_vpc.this.tags, aws_kms_key.flow_logs.tags, aws_cloudwatch_log_group.flow_logs.tags, aws_iam_role.flow_logs.tags, aws_flow_log.this.tags, aws_security_group.db.tags],
      [for s in values(aws_subnet.data) : s.tags],
      [for s in values(aws_nat_gateway.this) : s.tags],
      ) : t["Environment"] == "prod" && t["Project"] == "switchyard" && t["Owner"] == "platform-team" && t["CostCenter"] == "trading"
    ])
    error_message = "Taggable resources must carry Environment, Project, Owner and the extra tags."
  }
}

run "test_listener_ingress_when_enabled" {
  command = apply

  variables {
    test_listener_port        = 9443
    test_listener_cidr_blocks = ["203.0.113.0/24"]
  }

  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.alb_test_listener) == 1 && aws_vpc_security_group_ingress_rule.alb_test_listener["203.0.113.0/24"].from_port == 9443 && aws_vpc_security_group_ingress_rule.alb_test_listener["203.0.113.0/24"].ip_protocol == "tcp"
    error_message = "Test listener ingress must be tcp on test_listener_port from the given CIDRs only."
  }
}
