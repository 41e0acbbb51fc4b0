// Package schemajson reads provider schemas in the format printed by
// `terraform providers schema -json` (or `tofu providers schema -json`) and
// converts them into terraform-plugin-go tfprotov6 schemas, so a plugin can
// serve a real provider's schema without the provider binary.
package schemajson

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// Document is the top level of a `providers schema -json` file. Keys starting
// with "_" (for example "_comment") are ignored so overlays can document
// themselves.
type Document struct {
	FormatVersion   string                     `json:"format_version"`
	ProviderSchemas map[string]ProviderSchemas `json:"provider_schemas"`
}

// ProviderSchemas holds one provider's schemas.
type ProviderSchemas struct {
	Provider           *Schema            `json:"provider,omitempty"`
	ResourceSchemas    map[string]*Schema `json:"resource_schemas,omitempty"`
	DataSourceSchemas  map[string]*Schema `json:"data_source_schemas,omitempty"`
	EphemeralResources map[string]*Schema `json:"ephemeral_resource_schemas,omitempty"`
}

// Schema is one resource, data source, ephemeral resource or provider schema.
type Schema struct {
	Version int64  `json:"version"`
	Block   *Block `json:"block"`
}

// Block is a configuration block.
type Block struct {
	Attributes      map[string]*Attribute   `json:"attributes,omitempty"`
	BlockTypes      map[string]*NestedBlock `json:"block_types,omitempty"`
	Description     string                  `json:"description,omitempty"`
	DescriptionKind string                  `json:"description_kind,omitempty"`
	Deprecated      bool                    `json:"deprecated,omitempty"`
}

// Attribute is one attribute; exactly one of Type or NestedType is set.
type Attribute struct {
	Type            json.RawMessage `json:"type,omitempty"`
	NestedType      *NestedType     `json:"nested_type,omitempty"`
	Description     string          `json:"description,omitempty"`
	DescriptionKind string          `json:"description_kind,omitempty"`
	Required        bool            `json:"required,omitempty"`
	Optional        bool            `json:"optional,omitempty"`
	Computed        bool            `json:"computed,omitempty"`
	Sensitive       bool            `json:"sensitive,omitempty"`
	Deprecated      bool            `json:"deprecated,omitempty"`
	WriteOnly       bool            `json:"write_only,omitempty"`
}

// NestedType is a nested attribute type (protocol 6 only).
type NestedType struct {
	Attributes  map[string]*Attribute `json:"attributes"`
	NestingMode string                `json:"nesting_mode"`
}

// NestedBlock is a nested block type with its nesting mode and item limits.
type NestedBlock struct {
	Block       *Block `json:"block"`
	NestingMode string `json:"nesting_mode"`
	MinItems    int64  `json:"min_items,omitempty"`
	MaxItems    int64  `json:"max_items,omitempty"`
}

// Set is the merged, converted result of one or more schema documents.
type Set struct {
	Provider           *tfprotov6.Schema
	Resources          map[string]*tfprotov6.Schema
	DataSources        map[string]*tfprotov6.Schema
	EphemeralResources map[string]*tfprotov6.Schema
}

// ReadFile reads a schema document, transparently gunzipping it when the file
// starts with the gzip magic bytes (the file name is not trusted).
func ReadFile(path string) (*Document, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read schema file: %w", err)
	}
	if len(raw) > 2 && raw[0] == 0x1f && raw[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("gunzip schema file %s: %w", path, err)
		}
		raw, err = io.ReadAll(zr)
		if err != nil {
			return nil, fmt.Errorf("gunzip schema file %s: %w", path, err)
		}
	}
	doc, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("schema file %s: %w", path, err)
	}
	return doc, nil
}

// Parse decodes a schema document.
func Parse(raw []byte) (*Document, error) {
	var doc Document
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("decode providers schema JSON: %w", err)
	}
	if len(doc.ProviderSchemas) == 0 {
		return nil, fmt.Errorf("no provider_schemas in document")
	}
	return &doc, nil
}

// LoadFiles reads every file in order and merges them: a type defined in a
// later file replaces the same type from an earlier one, so overlays can add
// missing types or fix wrong ones.
func LoadFiles(paths []string) (*Set, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("no schema files given")
	}
	set := &Set{
		Resources:          map[string]*tfprotov6.Schema{},
		DataSources:        map[string]*tfprotov6.Schema{},
		EphemeralResources: map[string]*tfprotov6.Schema{},
	}
	for _, p := range paths {
		doc, err := ReadFile(p)
		if err != nil {
			return nil, err
		}
		if err := set.Merge(doc); err != nil {
			return nil, fmt.Errorf("schema file %s: %w", p, err)
		}
	}
	return set, nil
}

// Merge converts a document and adds its types to the set, replacing existing
// types of the same name. All providers in the document are merged: a schema
// file describes exactly one provider in practice.
func (s *Set) Merge(doc *Document) error {
	providers := make([]string, 0, len(doc.ProviderSchemas))
	for name := range doc.ProviderSchemas {
		providers = append(providers, name)
	}
	sort.Strings(providers)
	for _, name := range providers {
		ps := doc.ProviderSchemas[name]
		if ps.Provider != nil {
			conv, err := ConvertSchema(ps.Provider)
			if err != nil {
				return fmt.Errorf("provider %s config schema: %w", name, err)
			}
			s.Provider = conv
		}
		for kind, src := range map[string]struct {
			in  map[string]*Schema
			out map[string]*tfprotov6.Schema
		}{
			"resource":           {ps.ResourceSchemas, s.Resources},
			"data source":        {ps.DataSourceSchemas, s.DataSources},
			"ephemeral resource": {ps.EphemeralResources, s.EphemeralResources},
		} {
			for typeName, sch := range src.in {
				conv, err := ConvertSchema(sch)
				if err != nil {
					return fmt.Errorf("%s %s: %w", kind, typeName, err)
				}
				src.out[typeName] = conv
			}
		}
	}
	return nil
}

// ConvertSchema converts one JSON schema into a tfprotov6 schema.
func ConvertSchema(s *Schema) (*tfprotov6.Schema, error) {
	if s == nil || s.Block == nil {
		return nil, fmt.Errorf("schema has no block")
	}
	b, err := ConvertBlock(s.Block)
	if err != nil {
		return nil, err
	}
	b.Version = s.Version
	return &tfprotov6.Schema{Version: s.Version, Block: b}, nil
}

// ConvertBlock converts a block and everything nested in it.
func ConvertBlock(b *Block) (*tfprotov6.SchemaBlock, error) {
	out := &tfprotov6.SchemaBlock{
		Description:     b.Description,
		DescriptionKind: stringKind(b.DescriptionKind),
		Deprecated:      b.Deprecated,
	}
	attrs, err := convertAttributes(b.Attributes)
	if err != nil {
		return nil, err
	}
	out.Attributes = attrs
	for _, name := range sortedKeys(b.BlockTypes) {
		nb := b.BlockTypes[name]
		if nb == nil || nb.Block == nil {
			return nil, fmt.Errorf("block %q has no block body", name)
		}
		mode, err := blockNesting(nb.NestingMode)
		if err != nil {
			return nil, fmt.Errorf("block %q: %w", name, err)
		}
		inner, err := ConvertBlock(nb.Block)
		if err != nil {
			return nil, fmt.Errorf("block %q: %w", name, err)
		}
		out.BlockTypes = append(out.BlockTypes, &tfprotov6.SchemaNestedBlock{
			TypeName: name,
			Block:    inner,
			Nesting:  mode,
			MinItems: nb.MinItems,
			MaxItems: nb.MaxItems,
		})
	}
	return out, nil
}

func convertAttributes(in map[string]*Attribute) ([]*tfprotov6.SchemaAttribute, error) {
	var out []*tfprotov6.SchemaAttribute
	for _, name := range sortedKeys(in) {
		a := in[name]
		if a == nil {
			return nil, fmt.Errorf("attribute %q is null", name)
		}
		if !a.Required && !a.Optional && !a.Computed {
			return nil, fmt.Errorf("attribute %q is neither required, optional nor computed", name)
		}
		conv := &tfprotov6.SchemaAttribute{
			Name:            name,
			Description:     a.Description,
			DescriptionKind: stringKind(a.DescriptionKind),
			Required:        a.Required,
			Optional:        a.Optional,
			Computed:        a.Computed,
			Sensitive:       a.Sensitive,
			Deprecated:      a.Deprecated,
			WriteOnly:       a.WriteOnly,
		}
		switch {
		case a.NestedType != nil:
			mode, err := objectNesting(a.NestedType.NestingMode)
			if err != nil {
				return nil, fmt.Errorf("attribute %q: %w", name, err)
			}
			inner, err := convertAttributes(a.NestedType.Attributes)
			if err != nil {
				return nil, fmt.Errorf("attribute %q: %w", name, err)
			}
			conv.NestedType = &tfprotov6.SchemaObject{Attributes: inner, Nesting: mode}
		case len(a.Type) > 0:
			t, err := ParseType(a.Type)
			if err != nil {
				return nil, fmt.Errorf("attribute %q: %w", name, err)
			}
			conv.Type = t
		default:
			return nil, fmt.Errorf("attribute %q has neither type nor nested_type", name)
		}
		out = append(out, conv)
	}
	return out, nil
}

// ParseType converts a cty JSON type ("string", ["list","string"],
// ["object",{...},["optional_attr"]], ...) into a tftypes type.
func ParseType(raw json.RawMessage) (tftypes.Type, error) {
	var prim string
	if err := json.Unmarshal(raw, &prim); err == nil {
		switch prim {
		case "string":
			return tftypes.String, nil
		case "number":
			return tftypes.Number, nil
		case "bool":
			return tftypes.Bool, nil
		case "dynamic":
			return tftypes.DynamicPseudoType, nil
		}
		return nil, fmt.Errorf("unknown primitive type %q", prim)
	}
	var parts []json.RawMessage
	if err := json.Unmarshal(raw, &parts); err != nil || len(parts) < 2 {
		return nil, fmt.Errorf("invalid type %s", string(raw))
	}
	var kind string
	if err := json.Unmarshal(parts[0], &kind); err != nil {
		return nil, fmt.Errorf("invalid type kind in %s", string(raw))
	}
	switch kind {
	case "list", "set", "map":
		elem, err := ParseType(parts[1])
		if err != nil {
			return nil, err
		}
		switch kind {
		case "list":
			return tftypes.List{ElementType: elem}, nil
		case "set":
			return tftypes.Set{ElementType: elem}, nil
		default:
			return tftypes.Map{ElementType: elem}, nil
		}
	case "object":
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(parts[1], &fields); err != nil {
			return nil, fmt.Errorf("invalid object type %s: %w", string(raw), err)
		}
		obj := tftypes.Object{AttributeTypes: map[string]tftypes.Type{}}
		for name, ft := range fields {
			t, err := ParseType(ft)
			if err != nil {
				return nil, fmt.Errorf("object attribute %q: %w", name, err)
			}
			obj.AttributeTypes[name] = t
		}
		if len(parts) > 2 {
			var optional []string
			if err := json.Unmarshal(parts[2], &optional); err != nil {
				return nil, fmt.Errorf("invalid optional attributes in %s: %w", string(raw), err)
			}
			obj.OptionalAttributes = map[string]struct{}{}
			for _, o := range optional {
				if _, ok := obj.AttributeTypes[o]; !ok {
					return nil, fmt.Errorf("optional attribute %q not in object type", o)
				}
				obj.OptionalAttributes[o] = struct{}{}
			}
		}
		return obj, nil
	case "tuple":
		var elems []json.RawMessage
		if err := json.Unmarshal(parts[1], &elems); err != nil {
			return nil, fmt.Errorf("invalid tuple type %s: %w", string(raw), err)
		}
		tup := tftypes.Tuple{}
		for i, e := range elems {
			t, err := ParseType(e)
			if err != nil {
				return nil, fmt.Errorf("tuple element %d: %w", i, err)
			}
			tup.ElementTypes = append(tup.ElementTypes, t)
		}
		return tup, nil
	}
	return nil, fmt.Errorf("unknown type kind %q", kind)
}

func blockNesting(mode string) (tfprotov6.SchemaNestedBlockNestingMode, error) {
	switch mode {
	case "single":
		return tfprotov6.SchemaNestedBlockNestingModeSingle, nil
	case "list":
		return tfprotov6.SchemaNestedBlockNestingModeList, nil
	case "set":
		return tfprotov6.SchemaNestedBlockNestingModeSet, nil
	case "map":
		return tfprotov6.SchemaNestedBlockNestingModeMap, nil
	case "group":
		return tfprotov6.SchemaNestedBlockNestingModeGroup, nil
	}
	return tfprotov6.SchemaNestedBlockNestingModeInvalid, fmt.Errorf("unknown block nesting mode %q", mode)
}

func objectNesting(mode string) (tfprotov6.SchemaObjectNestingMode, error) {
	switch mode {
	case "single":
		return tfprotov6.SchemaObjectNestingModeSingle, nil
	case "list":
		return tfprotov6.SchemaObjectNestingModeList, nil
	case "set":
		return tfprotov6.SchemaObjectNestingModeSet, nil
	case "map":
		return tfprotov6.SchemaObjectNestingModeMap, nil
	}
	return tfprotov6.SchemaObjectNestingModeInvalid, fmt.Errorf("unknown nested attribute nesting mode %q", mode)
}

func stringKind(kind string) tfprotov6.StringKind {
	if kind == "markdown" {
		return tfprotov6.StringKindMarkdown
	}
	return tfprotov6.StringKindPlain
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
