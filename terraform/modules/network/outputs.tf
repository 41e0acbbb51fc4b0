output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "IPv4 CIDR block of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "availability_zones" {
  description = "The exactly 3 availability zones used, in the order every per-AZ list output follows."
  value       = local.azs
}

output "public_subnet_ids" {
  description = "Public subnet IDs (ALB, NAT gateways), one per AZ in availability_zones order."
  value       = [for name in local.azs : aws_subnet.public[name].id]
}

output "app_subnet_ids" {
  description = "Private app subnet IDs (ECS tasks), one per AZ in availability_zones order; default route via that AZ's NAT gateway."
  value       = [for name in local.azs : aws_subnet.app[name].id]
}

output "data_subnet_ids" {
  description = "Private data subnet IDs (Aurora), one per AZ in availability_zones order; no route to or from the internet."
  value       = [for name in local.azs : aws_subnet.data[name].id]
}

output "nat_gateway_ids" {
  description = "NAT gateway IDs, one per AZ in availability_zones order."
  value       = [for name in local.azs : aws_nat_gateway.this[name].id]
}

output "private_route_table_ids" {
  description = "Route table IDs of the app subnets, one per AZ in availability_zones order, each routing 0.0.0.0/0 to its own AZ's NAT gateway."
  value       = [for name in local.azs : aws_route_table.app[name].id]
}

output "data_route_table_ids" {
  description = "Route table IDs of the data subnets (local route only), one per AZ in availability_zones order."
  value       = [for name in local.azs : aws_route_table.data[name].id]
}

output "alb_security_group_id" {
  description = "Security group for the ALB: 443/80 in from alb_ingress_cidr_blocks, app_port out to the app security group."
  value       = aws_security_group.alb.id
}

output "app_security_group_id" {
  description = "Security group for the ECS tasks: app_port in from the ALB group, 443 out to the VPC endpoints (0.0.0.0/0 through NAT when restrict_app_egress_to_vpc_endpoints is false), 5432 out to the DB group."
  value       = aws_security_group.app.id
}

output "db_security_group_id" {
  description = "Security group for Aurora: 5432 in from the app group only."
  value       = aws_security_group.db.id
}

output "flow_log_id" {
  description = "ID of the VPC flow log."
  value       = aws_flow_log.this.id
}

output "flow_log_group_name" {
  description = "Name of the KMS-encrypted CloudWatch log group receiving the VPC flow logs."
  value       = aws_cloudwatch_log_group.flow_logs.name
}

output "flow_log_kms_key_arn" {
  description = "ARN of the KMS key encrypting the flow log group."
  value       = aws_kms_key.flow_logs.arn
}

output "vpc_endpoint_security_group_id" {
  description = "Security group of the interface VPC endpoints (HTTPS from the app group), or null without interface endpoints."
  value       = try(aws_security_group.endpoints[0].id, null)
}

output "interface_endpoint_ids" {
  description = "Interface VPC endpoint IDs by service (ecr.api, ecr.dkr, secretsmanager, logs, sts)."
  value       = { for k, e in aws_vpc_endpoint.interface : k => e.id }
}

output "app_https_egress" {
  description = "Where the tasks' HTTPS egress may go, read back from the app security group's rules: CIDRs (0.0.0.0/0 through NAT when not restricted), the interface endpoints' security group and the S3 gateway endpoint's prefix list."
  value = {
    cidrs           = [for r in aws_vpc_security_group_egress_rule.app_https : r.cidr_ipv4]
    security_groups = [for r in aws_vpc_security_group_egress_rule.app_to_endpoints : r.referenced_security_group_id]
    prefix_lists    = [for r in aws_vpc_security_group_egress_rule.app_to_s3 : r.prefix_list_id]
  }
}

# The NACL rules as AWS holds them, per tier: what tests/flows checks flows against.
output "network_acl_rules" {
  description = "Every NACL rule with its tier (public, app, data): rule number, direction, action, protocol, CIDR and ports."
  value = [for k, r in aws_network_acl_rule.this : {
    key         = k
    tier        = local.nacl_rules[k].tier
    rule_number = r.rule_number
    egress      = r.egress
    action      = r.rule_action
    protocol    = r.protocol
    cidr        = r.cidr_block
    from        = r.from_port
    to          = r.to_port
  }]
}

output "subnet_cidrs" {
  description = "Subnet CIDRs per tier, in availability_zones order."
  value = {
    public = [for name in local.azs : aws_subnet.public[name].cidr_block]
    app    = [for name in local.azs : aws_subnet.app[name].cidr_block]
    data   = [for name in local.azs : aws_subnet.data[name].cidr_block]
  }
}
