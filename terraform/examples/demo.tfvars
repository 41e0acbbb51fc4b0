# Demo environment: a full, destroyable stack in us-east-1.
#   tofu plan -var-file=examples/demo.tfvars
# Replace certificate_arn with an ISSUED ACM certificate of your domain in the same account/region,
# and test_listener_allowed_cidrs with your operators' / CI egress ranges.

region             = "us-east-1"
environment        = "demo"
environment_suffix = "td01"
project            = "switchyard"
owner              = "platform-team"

tags = {
  CostCenter         = "trading-platform"
  DataClassification = "internal"
}

service_name = "web"
vpc_cidr     = "10.40.0.0/16"
app_port     = 8000

certificate_arn             = "arn:aws:acm:us-east-1:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab"
test_listener_port          = 8443
test_listener_allowed_cidrs = ["203.0.113.0/24"]
health_check_path           = "/healthz"
deregistration_delay        = 30
waf_rate_limit              = 2000

# Push this tag to the stack's ECR repository before the first apply (see README).
initial_image_tag = "bootstrap"
task_cpu          = 512
task_memory       = 1024

desired_count             = 2
min_capacity              = 2
max_capacity              = 6
market_hours_min_capacity = 3
market_open_schedule      = "cron(0 8 ? * MON-FRI *)"
market_close_schedule     = "cron(30 16 ? * MON-FRI *)"

app_environment = {
  DJANGO_ALLOWED_HOSTS = "dashboard.demo.example.com"
}

db_instance_class = "db.r6g.large"
# The app connects with IAM database authentication as this user (create it once: README step 5).
db_iam_username = "app"
# Least privilege: the tasks never get the master user. true lets the app read the (rotating)
# master secret at runtime for a one-off bootstrap; it is never injected.
app_reads_db_master_secret = false

# HTTPS egress of the tasks only to the VPC endpoints (ECR, Secrets Manager, Logs, STS, S3).
restrict_app_egress_to_vpc_endpoints = true

# Read-only root filesystem only with an image that declares VOLUME ["/tmp"] (README "Image contract").
readonly_root_filesystem = false

# Account-wide ECR registry scanning (Inspector): leave false unless this stack owns the account's
# registry scanning configuration (it replaces every registry scanning rule of the account).
enable_registry_enhanced_scanning = false

# Alarms must page someone (the subscription needs a confirmation click); a CI stack without one
# sets alarm_email = null and allow_alarms_without_notification = true instead.
alarm_email = "platform-oncall@example.com"

# Destroyable demo defaults (production: false / true / 7-30 / false / false / true).
alb_access_logs_force_destroy = true
# Production: true, so the ALB cannot be deleted by accident (destroy then needs an apply with
# false first). false here keeps the demo destroyable in one step.
alb_deletion_protection         = false
secrets_recovery_window_in_days = 0
ecr_force_delete                = true
db_skip_final_snapshot          = true
db_deletion_protection          = false
