# Remote state in the S3 bucket created by ../bootstrap. Partial configuration: the bucket, key,
# region and lock table come from `tofu init -backend-config=backend.hcl` (see
# backend.hcl.example), so no account-specific value is committed. Offline checks run
# `tofu init -backend=false`.
terraform {
  backend "s3" {}
}
