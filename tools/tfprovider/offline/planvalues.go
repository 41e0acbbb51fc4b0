package offline

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// Identity attributes get known, deterministic placeholders at plan time instead of unknown values,
// so that what is built from them (ARNs in policy documents, IDs in security group rules) is known
// in a plan: aws_iam_policy_document then renders at plan time and tests can assert on the policy
// JSON a real apply would send. Everything else the provider computes stays unknown.
var identityAttrs = map[string]bool{
	"arn": true, "id": true, "arn_suffix": true, "key_id": true, "cluster_resource_id": true,
	"repository_url": true, "registry_id": true, "unique_id": true, "master_user_secret": true,
	"dns_name": true, "zone_id": true, "endpoint": true, "reader_endpoint": true, "prefix_list_id": true,
}

// isIdentityAttr: the names above (even when optional+computed, like SDKv2's id), or a computed-only
// *_arn / *_id attribute.
func isIdentityAttr(a *tfprotov6.SchemaAttribute) bool {
	if identityAttrs[a.Name] {
		return true
	}
	return a.Computed && !a.Optional && (strings.HasSuffix(a.Name, "_arn") || strings.HasSuffix(a.Name, "_id"))
}

// resource names a planned resource: label is the name it is known by in its ARN (the first
// configured naming argument), inst a digest of its configuration-only (not computed) top-level
// attributes, so that unnamed instances (three subnets of a for_each) still get distinct IDs while
// the plan made again during apply, whose proposal also carries the first plan's computed values,
// gets the same ones. stable is false while any of those attributes is unknown.
type resource struct {
	label, inst string
	stable      bool
}

func resourceOf(typeName string, sch *tfprotov6.Schema, proposed tftypes.Value) resource {
	r := resource{label: shortType(typeName), stable: true}
	m, ok := objectAttrs(proposed)
	if !ok {
		return r
	}
	var parts []string
	for _, a := range sch.Block.Attributes {
		if a.Computed {
			continue
		}
		v, present := m[a.Name]
		if !present {
			continue
		}
		if !v.IsFullyKnown() {
			r.stable = false
		}
		parts = append(parts, a.Name+"="+v.String())
	}
	sort.Strings(parts)
	r.inst = hexOf(16, parts...)
	for _, k := range []string{"name", "bucket", "cluster_identifier", "identifier", "family", "alarm_name", "description"} {
		if s, ok := stringOf(m[k]); ok && s != "" {
			r.label = s
			break
		}
	}
	return r
}

func shortType(typeName string) string { return strings.TrimPrefix(typeName, "aws_") }

// hexOf is a stable hex string of n characters derived from the parts.
func hexOf(n int, parts ...string) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		h := fnv.New64a()
		fmt.Fprintf(h, "%d|%s", i, strings.Join(parts, "|"))
		fmt.Fprintf(&b, "%016x", h.Sum64())
	}
	return b.String()[:n]
}

func uuidOf(parts ...string) string {
	h := hexOf(32, parts...)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-8" + h[17:20] + "-" + h[20:32]
}

// ec2IDPrefixes are the ID prefixes of the EC2 types the stacks create.
var ec2IDPrefixes = map[string]string{
	"aws_vpc": "vpc", "aws_subnet": "subnet", "aws_security_group": "sg", "aws_default_security_group": "sg",
	"aws_internet_gateway": "igw", "aws_nat_gateway": "nat", "aws_eip": "eipalloc", "aws_route_table": "rtb",
	"aws_network_acl": "acl", "aws_vpc_endpoint": "vpce", "aws_flow_log": "fl",
	"aws_vpc_security_group_ingress_rule": "sgr", "aws_vpc_security_group_egress_rule": "sgr",
}

// planPlaceholder returns the known placeholder of an identity attribute, shaped like the real
// value where the stacks' validations or policies look at the shape.
func planPlaceholder(typeName string, r resource, a *tfprotov6.SchemaAttribute) tftypes.Value {
	typ := a.ValueType()
	if !typ.Is(tftypes.String) {
		if a.Name == "master_user_secret" {
			return masterUserSecret(typ, r.label)
		}
		return placeholder(typeName, a.Name, typ)
	}
	return str(identityString(typeName, r.label, a.Name, r.inst))
}

func identityString(typeName, label, attr string, inst ...string) string {
	acct, region := placeholderAccountID, placeholderRegion
	h := hexOf(17, append([]string{typeName, label}, inst...)...)
	switch typeName {
	case "aws_kms_key":
		id := uuidOf(append([]string{typeName, label}, inst...)...)
		if attr == "arn" {
			return "arn:aws:kms:" + region + ":" + acct + ":key/" + id
		}
		return id
	case "aws_secretsmanager_secret":
		return "arn:aws:secretsmanager:" + region + ":" + acct + ":secret:" + label + "-" + hexOf(6, label)
	case "aws_sns_topic":
		return "arn:aws:sns:" + region + ":" + acct + ":" + label
	case "aws_s3_bucket":
		if attr == "arn" {
			return "arn:aws:s3:::" + label
		}
		return label
	case "aws_cloudwatch_log_group":
		if attr == "arn" {
			return "arn:aws:logs:" + region + ":" + acct + ":log-group:" + label
		}
		return label
	case "aws_iam_role":
		switch attr {
		case "arn":
			return "arn:aws:iam::" + acct + ":role/" + label
		case "unique_id":
			return "AROA" + strings.ToUpper(h)
		}
		return label
	case "aws_ecs_cluster":
		return "arn:aws:ecs:" + region + ":" + acct + ":cluster/" + label
	case "aws_ecs_task_definition":
		return "arn:aws:ecs:" + region + ":" + acct + ":task-definition/" + label + ":1"
	case "aws_ecr_repository":
		switch attr {
		case "arn":
			return "arn:aws:ecr:" + region + ":" + acct + ":repository/" + label
		case "repository_url":
			return acct + ".dkr.ecr." + region + ".amazonaws.com/" + label
		case "registry_id":
			return acct
		}
		return label
	case "aws_lb", "aws_lb_target_group":
		kind := "loadbalancer/app"
		if typeName == "aws_lb_target_group" {
			kind = "targetgroup"
		}
		suffix := kind + "/" + label + "/" + hexOf(16, typeName, label)
		switch attr {
		case "arn", "id":
			return "arn:aws:elasticloadbalancing:" + region + ":" + acct + ":" + suffix
		case "arn_suffix":
			return strings.TrimPrefix(suffix, "loadbalancer/")
		case "dns_name":
			return label + "-" + hexOf(10, label) + "." + region + ".elb.amazonaws.com"
		case "zone_id":
			return "Z35SXDOTRQ7X7K"
		}
	case "aws_rds_cluster":
		switch attr {
		case "arn":
			return "arn:aws:rds:" + region + ":" + acct + ":cluster:" + label
		case "cluster_resource_id":
			return "cluster-" + strings.ToUpper(hexOf(26, label))
		case "endpoint":
			return label + ".cluster-" + hexOf(12, label) + "." + region + ".rds.amazonaws.com"
		case "reader_endpoint":
			return label + ".cluster-ro-" + hexOf(12, label) + "." + region + ".rds.amazonaws.com"
		case "id":
			return label
		}
	case "aws_vpc_endpoint":
		if attr == "prefix_list_id" {
			return "pl-" + hexOf(8, label)
		}
	}
	if p, ok := ec2IDPrefixes[typeName]; ok && (attr == "id" || attr == "arn") {
		id := p + "-" + h
		if attr == "arn" {
			return "arn:aws:ec2:" + region + ":" + acct + ":" + shortType(typeName) + "/" + id
		}
		return id
	}
	if attr == "id" {
		if label == shortType(typeName) { // unnamed: keep instances apart
			return label + "-" + h
		}
		return label
	}
	return placeholderString(typeName, attr)
}

// masterUserSecret is the RDS-managed master secret block: one secret named like RDS names them.
func masterUserSecret(typ tftypes.Type, label string) tftypes.Value {
	list, ok := typ.(tftypes.List)
	if !ok {
		return tftypes.NewValue(typ, nil)
	}
	ot, ok := list.ElementType.(tftypes.Object)
	if !ok {
		return tftypes.NewValue(typ, nil)
	}
	vals := map[string]tftypes.Value{}
	for name, at := range ot.AttributeTypes {
		switch name {
		case "secret_arn":
			vals[name] = str("arn:aws:secretsmanager:" + placeholderRegion + ":" + placeholderAccountID +
				":secret:rds!cluster-" + uuidOf("master", label) + "-" + hexOf(6, "master", label))
		case "kms_key_id":
			vals[name] = str("arn:aws:kms:" + placeholderRegion + ":" + placeholderAccountID + ":key/" + uuidOf("master-kms", label))
		default:
			vals[name] = placeholder("aws_rds_cluster", name, at)
		}
	}
	return tftypes.NewValue(typ, []tftypes.Value{tftypes.NewValue(ot, vals)})
}
