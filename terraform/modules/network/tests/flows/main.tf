# Test helper (not part of the stack): evaluates network flows against the network module's NACL
# rules the way AWS does. NACLs are stateless, so a flow needs its forward leg (source tier
# egress, destination tier ingress) and its return leg (destination egress and source ingress on
# the client's ephemeral port), and each leg is decided by the lowest-numbered matching rule.
# tests/network.tftest.hcl runs it after planning the module and asserts that every needed flow
# passes and every forbidden one is stopped.

terraform {
  required_version = ">= 1.5.0"
}

variable "rules" {
  description = "The network module's network_acl_rules output."
  type = list(object({
    key         = string
    tier        = string
    rule_number = number
    egress      = bool
    action      = string
    protocol    = string
    cidr        = string
    from        = number
    to          = number
  }))
}

variable "subnet_cidrs" {
  description = "The network module's subnet_cidrs output (public, app, data; three each)."
  type        = map(list(string))
}

variable "app_port" {
  description = "Port the tasks listen on."
  type        = number
}

locals {
  # One host per subnet; the internet and S3 (through the gateway endpoint) are outside any NACL.
  host = merge(
    { for t, cidrs in var.subnet_cidrs : "${t}_a" => cidrhost(cidrs[0], 10) },
    { for t, cidrs in var.subnet_cidrs : "${t}_b" => cidrhost(cidrs[1], 10) },
    { for t, cidrs in var.subnet_cidrs : "${t}_c" => cidrhost(cidrs[2], 10) },
    { internet = "198.51.100.7", s3 = "52.216.8.10" },
  )
  tier_of = { for k, _ in local.host : k => contains(["internet", "s3"], k) ? "" : split("_", k)[0] }

  # Client ports sampled across the ephemeral range every return leg must cover.
  ephemeral = [1024, 32768, 49152, 65535]

  azs = ["a", "b", "c"]

  # Needed flows: from, to, port, and the NAT hop for internet-bound traffic from the app tier.
  # Every AZ pair, because the tier rules are per source subnet: a flow table that samples some
  # pairs would let the rule of an unsampled subnet be deleted unnoticed.
  needed = merge(
    { for z in local.azs : "client_https_to_alb_${z}" => { from = "internet", to = "public_${z}", port = 443, nat = false } },
    { for z in local.azs : "client_http_to_alb_${z}" => { from = "internet", to = "public_${z}", port = 80, nat = false } },
    merge([for x in local.azs : { for y in local.azs : "alb_${x}_to_task_${y}" => { from = "public_${x}", to = "app_${y}", port = var.app_port, nat = false } }]...),
    merge([for x in local.azs : { for y in local.azs : "task_${x}_to_db_${y}" => { from = "app_${x}", to = "data_${y}", port = 5432, nat = false } }]...),
    # Interface endpoint ENIs sit in every app subnet; within one subnet no NACL applies.
    merge([for x in local.azs : { for y in local.azs : "task_${x}_to_endpoint_${y}" => { from = "app_${x}", to = "app_${y}", port = 443, nat = false } if x != y }]...),
    { for z in local.azs : "task_${z}_to_s3_gateway" => { from = "app_${z}", to = "s3", port = 443, nat = false } },
    { for z in local.azs : "task_${z}_to_internet_via_nat" => { from = "app_${z}", to = "internet", port = 443, nat = true } },
  )

  # Forbidden flows: the ingress leg at the destination must be stopped.
  forbidden = merge(
    { for z in local.azs : "internet_to_task_${z}" => { from = "internet", to = "app_${z}", port = var.app_port } },
    { for z in local.azs : "internet_to_task_https_${z}" => { from = "internet", to = "app_${z}", port = 443 } },
    { for z in local.azs : "internet_to_db_${z}" => { from = "internet", to = "data_${z}", port = 5432 } },
    merge([for x in local.azs : { for y in local.azs : "alb_subnet_${x}_to_db_${y}" => { from = "public_${x}", to = "data_${y}", port = 5432 } }]...),
    { for z in local.azs : "task_to_db_${z}_other_port" => { from = "app_${z}", to = "data_${z}", port = 22 } },
  )

  # legs: tier, egress?, peer address, port. Hops outside the VPC have no NACL.
  legs = {
    for name, f in local.needed : name => concat(
      local.tier_of[f.from] == "" ? [] : [{ tier = local.tier_of[f.from], egress = true, peer = local.host[f.to], port = f.port }],
      local.tier_of[f.to] == "" ? [] : [{ tier = local.tier_of[f.to], egress = false, peer = local.host[f.from], port = f.port }],
      # NAT gateway in the public tier: in from the task, out to the destination.
      f.nat ? [
        { tier = "public", egress = false, peer = local.host[f.from], port = f.port },
        { tier = "public", egress = true, peer = local.host[f.to], port = f.port },
      ] : [],
      flatten([for p in local.ephemeral : concat(
        local.tier_of[f.to] == "" ? [] : [{ tier = local.tier_of[f.to], egress = true, peer = local.host[f.from], port = p }],
        local.tier_of[f.from] == "" ? [] : [{ tier = local.tier_of[f.from], egress = false, peer = local.host[f.to], port = p }],
        f.nat ? [
          { tier = "public", egress = false, peer = local.host[f.to], port = p },
          { tier = "public", egress = true, peer = local.host[f.from], port = p },
        ] : [],
      )]),
    )
  }

  # The decision of one leg: the action of the lowest-numbered rule of that tier and direction
  # whose protocol, CIDR and port range match; no match is the implicit deny.
  decisions = {
    for name, legs in local.legs : name => [
      for l in legs : {
        leg = "${l.tier} ${l.egress ? "out to" : "in from"} ${l.peer}:${l.port}"
        matches = [
          for r in var.rules : r if(
            r.tier == l.tier && r.egress == l.egress &&
            contains(["tcp", "6", "-1", "all"], lower(r.protocol)) &&
            cidrhost("${l.peer}/${split("/", r.cidr)[1]}", 0) == cidrhost(r.cidr, 0) &&
            (contains(["-1", "all"], lower(r.protocol)) || (l.port >= r.from && l.port <= r.to))
          )
        ]
      }
    ]
  }

  leg_allowed = {
    for name, ds in local.decisions : name => [
      for d in ds : {
        leg     = d.leg
        allowed = length(d.matches) > 0 && try([for r in d.matches : r.action if r.rule_number == min([for m in d.matches : m.rule_number]...)][0] == "allow", false)
      }
    ]
  }

  forbidden_ingress = {
    for name, f in local.forbidden : name => [
      for r in var.rules : r if(
        r.tier == local.tier_of[f.to] && !r.egress &&
        contains(["tcp", "6", "-1", "all"], lower(r.protocol)) &&
        cidrhost("${local.host[f.from]}/${split("/", r.cidr)[1]}", 0) == cidrhost(r.cidr, 0) &&
        (contains(["-1", "all"], lower(r.protocol)) || (f.port >= r.from && f.port <= r.to))
      )
    ]
  }
}

output "blocked_legs" {
  description = "Needed flows with the legs the NACLs drop (empty when every needed flow passes)."
  value       = { for name, ls in local.leg_allowed : name => [for l in ls : l.leg if !l.allowed] if anytrue([for l in ls : !l.allowed]) }
}

output "open_forbidden_flows" {
  description = "Forbidden flows whose destination ingress is allowed by its first matching rule."
  value = [for name, ms in local.forbidden_ingress : name if length(ms) > 0 && try(
    [for r in ms : r.action if r.rule_number == min([for m in ms : m.rule_number]...)][0] == "allow", false
  )]
}

output "needed_flow_count" {
  description = "Number of needed flows checked (a floor against a vacuous pass)."
  value       = length(local.legs)
}
