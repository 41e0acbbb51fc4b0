# Internet-facing ALB for the blue/green pair.
#
# Traffic flow: 443 (production) forwards to blue+green with weights; 80 only redirects to 443;
# test_listener_port (HTTPS, restricted CIDRs) forwards to the idle colour alone (green at first)
# so a release can be checked before it takes any production traffic. switchyard moves the weights
# on the 443 listener and its path rules, and the test listener's target, during a release;
# Terraform creates them once and then leaves exactly those attributes alone.

data "aws_caller_identity" "current" {}

# The regional Elastic Load Balancing account that writes access logs (127311923021 in us-east-1).
data "aws_elb_service_account" "current" {}

locals {
  name_suffix = "${var.environment}-${var.environment_suffix}"

  tags = merge(var.tags, {
    Environment = var.environment
    Project     = var.project
    Owner       = var.owner
  })

  # S3 bucket names are global and lowercase (3-63 chars): the account ID keeps the name unique
  # across accounts while the name still starts with the type word and ends with the suffix.
  # Longest case: 12 + 12 + 1 + 10 + 1 + 12 = 48 characters.
  access_logs_bucket_name = "s3-alb-logs-${data.aws_caller_identity.current.account_id}-${local.name_suffix}"
  access_logs_prefix      = "alb"


  # Rule keys sorted by priority, so production_rule_arns has a stable, meaningful order.
  rule_keys_by_priority = [
    for pk in sort([for k, r in var.routing_rules : format("%05d/%s", r.priority, k)]) : split("/", pk)[1]
  ]
}

################################################################################
# Access logs bucket
################################################################################

resource "aws_s3_bucket" "access_logs" {
  bucket        = local.access_logs_bucket_name
  force_destroy = var.access_logs_force_destroy

  tags = merge(local.tags, { Name = local.access_logs_bucket_name })
}

resource "aws_s3_bucket_ownership_controls" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  versioning_configuration {
    status = "Enabled"
  }
}

# ALB access logs support only SSE-S3 (AES256): the log delivery service cannot use a KMS key, so
# SSE-KMS here would make every log delivery fail. Access is instead restricted by the bucket policy.
#tfsec:ignore:aws-s3-encryption-customer-key ALB log delivery supports only SSE-S3; a KMS key would make every delivery fail
resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    id     = "expire-access-logs"
    status = "Enabled"

    filter {
      prefix = "${local.access_logs_prefix}/"
    }

    expiration {
      days = var.access_logs_retention_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.access_logs]
}

data "aws_iam_policy_document" "access_logs" {
  # Regions launched before August 2022 (us-east-1 among them) deliver logs from the regional ELB
  # account; newer regions use the log-delivery service principal. Both may only write under the
  # prefix of this account.
  statement {
    sid       = "AllowELBAccountLogDelivery"
    effect    = "Allow"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.access_logs.arn}/${local.access_logs_prefix}/AWSLogs/${data.aws_caller_identity.current.account_id}/*"]

    principals {
      type        = "AWS"
      identifiers = [data.aws_elb_service_account.current.arn]
    }
  }

  statement {
    sid       = "AllowLogDeliveryServicePrincipal"
    effect    = "Allow"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.access_logs.arn}/${local.access_logs_prefix}/AWSLogs/${data.aws_caller_identity.current.account_id}/*"]

    principals {
      type        = "Service"
      identifiers = ["logdelivery.elasticloadbalancing.amazonaws.com"]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.access_logs.arn, "${aws_s3_bucket.access_logs.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  policy = data.aws_iam_policy_document.access_logs.json

  # The policy is a public-ish grant to the ELB account; apply it only after the public access block
  # so the bucket is never briefly open.
  depends_on = [aws_s3_bucket_public_access_block.access_logs]
}

################################################################################
# Load balancer
################################################################################

#tfsec:ignore:aws-elb-alb-not-public the trading dashboard is reached from the internet; WAF and the 443-only security group front it
resource "aws_lb" "this" {
  name               = "alb-${local.name_suffix}"
  load_balancer_type = "application"
  internal           = false
  security_groups    = [var.alb_security_group_id]
  subnets            = var.public_subnet_ids

  # Reject requests whose header names are not valid HTTP (request smuggling hygiene).
  drop_invalid_header_fields = true
  desync_mitigation_mode     = "defensive"
  enable_http2               = true
  idle_timeout               = var.idle_timeout
  enable_deletion_protection = var.enable_deletion_protection

  access_logs {
    bucket  = aws_s3_bucket.access_logs.bucket
    prefix  = local.access_logs_prefix
    enabled = true
  }

  tags = merge(local.tags, { Name = "alb-${local.name_suffix}" })

  # ELB verifies it can write to the bucket when access logs are enabled.
  depends_on = [aws_s3_bucket_policy.access_logs]
}

# Target group names are limited to 32 characters: "tg-green-" (9) + environment (<= 10) + "-" +
# suffix (<= 12) is at most 32, which is why environment and environment_suffix are length-capped.
resource "aws_lb_target_group" "blue" {
  name                 = "tg-blue-${local.name_suffix}"
  target_type          = "ip"
  protocol             = "HTTP"
  protocol_version     = "HTTP1"
  port                 = var.app_port
  vpc_id               = var.vpc_id
  deregistration_delay = var.deregistration_delay

  health_check {
    enabled             = true
    protocol            = "HTTP"
    port                = "traffic-port"
    path                = var.health_check_path
    matcher             = "200"
    interval            = var.health_check_interval
    timeout             = var.health_check_timeout
    healthy_threshold   = var.health_check_healthy_threshold
    unhealthy_threshold = var.health_check_unhealthy_threshold
  }

  tags = merge(local.tags, { Name = "tg-blue-${local.name_suffix}", Colour = "blue" })

  lifecycle {
    precondition {
      condition     = var.health_check_timeout < var.health_check_interval
      error_message = "health_check_timeout must be less than health_check_interval."
    }
  }
}

resource "aws_lb_target_group" "green" {
  name                 = "tg-green-${local.name_suffix}"
  target_type          = "ip"
  protocol             = "HTTP"
  protocol_version     = "HTTP1"
  port                 = var.app_port
  vpc_id               = var.vpc_id
  deregistration_delay = var.deregistration_delay

  health_check {
    enabled             = true
    protocol            = "HTTP"
    port                = "traffic-port"
    path                = var.health_check_path
    matcher             = "200"
    interval            = var.health_check_interval
    timeout             = var.health_check_timeout
    healthy_threshold   = var.health_check_healthy_threshold
    unhealthy_threshold = var.health_check_unhealthy_threshold
  }

  tags = merge(local.tags, { Name = "tg-green-${local.name_suffix}", Colour = "green" })
}

################################################################################
# Listeners
################################################################################

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = var.certificate_arn

  default_action {
    type = "forward"

    forward {
      target_group {
        arn    = aws_lb_target_group.blue.arn
        weight = var.initial_blue_weight
      }

      target_group {
        arn    = aws_lb_target_group.green.arn
        weight = var.initial_green_weight
      }

      stickiness {
        enabled  = var.stickiness_enabled
        duration = var.stickiness_duration
      }
    }
  }

  tags = merge(local.tags, { Name = "listener-https-${local.name_suffix}" })

  lifecycle {
    # switchyard shifts the blue/green weights of this action during a release; Terraform must not
    # put them back to the initial values on the next apply (that would undo or flip a release).
    # Only the target groups (ARN + weight) are ignored: every other part of the action (stickiness,
    # type) and of the listener stays under Terraform, so drift there is still planned back.
    ignore_changes = [default_action[0].forward[0].target_group]

    precondition {
      condition     = var.initial_blue_weight + var.initial_green_weight > 0
      error_message = "initial_blue_weight and initial_green_weight must not both be 0: the production listener needs a target group with weight."
    }
  }
}

resource "aws_lb_listener_rule" "weighted" {
  for_each = var.routing_rules

  listener_arn = aws_lb_listener.https.arn
  priority     = each.value.priority

  action {
    type = "forward"

    forward {
      target_group {
        arn    = aws_lb_target_group.blue.arn
        weight = var.initial_blue_weight
      }

      target_group {
        arn    = aws_lb_target_group.green.arn
        weight = var.initial_green_weight
      }

      stickiness {
        enabled  = var.stickiness_enabled
        duration = var.stickiness_duration
      }
    }
  }

  condition {
    path_pattern {
      values = each.value.path_patterns
    }
  }

  tags = merge(local.tags, { Name = "rule-${each.key}-${local.name_suffix}" })

  lifecycle {
    # switchyard shifts these weights together with the listener's default action during a
    # release; Terraform must not put them back. As on the listener, only the target groups
    # (ARN + weight) are ignored, not the rest of the action.
    ignore_changes = [action[0].forward[0].target_group]
  }
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"

    redirect {
      protocol    = "HTTPS"
      port        = "443"
      host        = "#{host}"
      path        = "/#{path}"
      query       = "#{query}"
      status_code = "HTTP_301"
    }
  }

  tags = merge(local.tags, { Name = "listener-http-${local.name_suffix}" })
}

# Test listener: reaches the idle colour alone, only from test_listener_allowed_cidrs. It starts on
# green (blue is live after the first apply). After a release the colours swap roles, so the idle
# colour alternates: switchyard points this listener at whichever colour is idle before it checks
# a new release there. The forward target therefore belongs to switchyard like the weights do.
resource "aws_lb_listener" "test" {
  load_balancer_arn = aws_lb.this.arn
  port              = var.test_listener_port
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = var.test_listener_initial_colour == "green" ? aws_lb_target_group.green.arn : aws_lb_target_group.blue.arn
  }

  tags = merge(local.tags, { Name = "listener-test-${local.name_suffix}" })

  lifecycle {
    # switchyard re-points the test listener at the idle colour after each release; Terraform must
    # not move it back to the initial colour (that would test the live colour instead of the new
    # release). Only the forward target is ignored: port, TLS policy and certificate stay managed.
    ignore_changes = [default_action[0].target_group_arn]
  }
}

resource "aws_vpc_security_group_ingress_rule" "test_listener" {
  for_each = toset(var.test_listener_allowed_cidrs)

  security_group_id = var.alb_security_group_id
  description       = "Test listener ${var.test_listener_port} (idle colour only) from ${each.value}"
  ip_protocol       = "tcp"
  from_port         = var.test_listener_port
  to_port           = var.test_listener_port
  cidr_ipv4         = each.value

  tags = merge(local.tags, { Name = "sgr-alb-test-${replace(replace(each.value, ".", "-"), "/", "-")}-${local.name_suffix}" })
}
