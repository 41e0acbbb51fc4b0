# tflint configuration for the whole terraform/ tree (scripts/tf-check.sh runs
# `tflint --recursive` with this file). Only the bundled Terraform language ruleset:
# the AWS ruleset plugin would have to be downloaded, and argument/type correctness
# is already checked by `tofu validate` against the real provider schema.
config {
  call_module_type = "local"
}

plugin "terraform" {
  enabled = true
  preset  = "recommended"
}
