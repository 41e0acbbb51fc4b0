// Package offline implements a Terraform protocol 6 provider server that
// serves the hashicorp/aws schema from schema files and never calls AWS. It
// makes `tofu validate`, `tofu test` (mock_provider and plan runs) and
// `tofu plan` check real argument names, types and nesting offline; it cannot
// apply anything.
package offline

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/switchyard/switchyard/tools/tfprovider/schemajson"
)

// Loader produces the schema set; it runs once, on first use, so a broken
// schema file is reported to tofu as a diagnostic instead of a crash.
type Loader func() (*schemajson.Set, error)

// Server is the offline provider. The zero value is not usable; use New.
type Server struct {
	load Loader

	once    sync.Once
	schemas *schemajson.Set
	loadErr error

	mu sync.Mutex
	// defaultTags is the provider's default_tags.tags; defaultTagsKnown is
	// false when the provider configuration left it unknown.
	defaultTags      map[string]tftypes.Value
	defaultTagsKnown bool
}

var _ tfprotov6.ProviderServer = (*Server)(nil)

// New returns a server reading its schemas through load.
func New(load Loader) *Server {
	return &Server{load: load, defaultTagsKnown: true}
}

// NewFromSet returns a server over an already loaded schema set (tests).
func NewFromSet(set *schemajson.Set) *Server {
	return New(func() (*schemajson.Set, error) { return set, nil })
}

func (s *Server) schemaSet() (*schemajson.Set, []*tfprotov6.Diagnostic) {
	s.once.Do(func() {
		s.schemas, s.loadErr = s.load()
		if s.loadErr == nil && s.schemas.Provider == nil {
			s.schemas.Provider = ProviderConfigSchema()
		}
	})
	if s.loadErr != nil {
		return nil, []*tfprotov6.Diagnostic{errorDiag("Cannot load AWS provider schema files", s.loadErr.Error(), nil)}
	}
	return s.schemas, nil
}

func (s *Server) resourceSchema(typeName string) (*tfprotov6.Schema, []*tfprotov6.Diagnostic) {
	set, diags := s.schemaSet()
	if diags != nil {
		return nil, diags
	}
	sch, ok := set.Resources[typeName]
	if !ok {
		return nil, []*tfprotov6.Diagnostic{errorDiag("Unsupported resource type",
			fmt.Sprintf("The offline hashicorp/aws schema has no resource type %q.", typeName), nil)}
	}
	return sch, nil
}

func (s *Server) dataSourceSchema(typeName string) (*tfprotov6.Schema, []*tfprotov6.Diagnostic) {
	set, diags := s.schemaSet()
	if diags != nil {
		return nil, diags
	}
	sch, ok := set.DataSources[typeName]
	if !ok {
		return nil, []*tfprotov6.Diagnostic{errorDiag("Unsupported data source",
			fmt.Sprintf("The offline hashicorp/aws schema has no data source %q.", typeName), nil)}
	}
	return sch, nil
}

func (s *Server) ephemeralSchema(typeName string) (*tfprotov6.Schema, []*tfprotov6.Diagnostic) {
	set, diags := s.schemaSet()
	if diags != nil {
		return nil, diags
	}
	sch, ok := set.EphemeralResources[typeName]
	if !ok {
		return nil, []*tfprotov6.Diagnostic{errorDiag("Unsupported ephemeral resource",
			fmt.Sprintf("The offline hashicorp/aws schema has no ephemeral resource %q.", typeName), nil)}
	}
	return sch, nil
}

// GetMetadata lists every type the schema files define.
func (s *Server) GetMetadata(context.Context, *tfprotov6.GetMetadataRequest) (*tfprotov6.GetMetadataResponse, error) {
	set, diags := s.schemaSet()
	resp := &tfprotov6.GetMetadataResponse{ServerCapabilities: capabilities(), Diagnostics: diags}
	if set == nil {
		return resp, nil
	}
	for _, n := range sortedKeys(set.Resources) {
		resp.Resources = append(resp.Resources, tfprotov6.ResourceMetadata{TypeName: n})
	}
	for _, n := range sortedKeys(set.DataSources) {
		resp.DataSources = append(resp.DataSources, tfprotov6.DataSourceMetadata{TypeName: n})
	}
	for _, n := range sortedKeys(set.EphemeralResources) {
		resp.EphemeralResources = append(resp.EphemeralResources, tfprotov6.EphemeralResourceMetadata{TypeName: n})
	}
	return resp, nil
}

// GetProviderSchema serves the converted schemas.
func (s *Server) GetProviderSchema(context.Context, *tfprotov6.GetProviderSchemaRequest) (*tfprotov6.GetProviderSchemaResponse, error) {
	set, diags := s.schemaSet()
	if set == nil {
		return &tfprotov6.GetProviderSchemaResponse{ServerCapabilities: capabilities(), Diagnostics: diags}, nil
	}
	return &tfprotov6.GetProviderSchemaResponse{
		ServerCapabilities:       capabilities(),
		Provider:                 set.Provider,
		ProviderMeta:             ProviderMetaSchema(),
		ResourceSchemas:          set.Resources,
		DataSourceSchemas:        set.DataSources,
		EphemeralResourceSchemas: set.EphemeralResources,
		Functions:                map[string]*tfprotov6.Function{},
	}, nil
}

func capabilities() *tfprotov6.ServerCapabilities {
	// PlanDestroy: tofu asks us to plan destroys, and we answer with null.
	return &tfprotov6.ServerCapabilities{PlanDestroy: true}
}

// GetResourceIdentitySchemas: the schema dump carries no identity schemas.
func (s *Server) GetResourceIdentitySchemas(context.Context, *tfprotov6.GetResourceIdentitySchemasRequest) (*tfprotov6.GetResourceIdentitySchemasResponse, error) {
	return &tfprotov6.GetResourceIdentitySchemasResponse{IdentitySchemas: map[string]*tfprotov6.ResourceIdentitySchema{}}, nil
}

// ValidateProviderConfig applies the same checks as resources.
func (s *Server) ValidateProviderConfig(_ context.Context, req *tfprotov6.ValidateProviderConfigRequest) (*tfprotov6.ValidateProviderConfigResponse, error) {
	set, diags := s.schemaSet()
	if set == nil {
		return &tfprotov6.ValidateProviderConfigResponse{Diagnostics: diags}, nil
	}
	diags = validateConfig(set.Provider, req.Config)
	return &tfprotov6.ValidateProviderConfigResponse{PreparedConfig: req.Config, Diagnostics: diags}, nil
}

// ConfigureProvider remembers default_tags for planning tags_all.
func (s *Server) ConfigureProvider(_ context.Context, req *tfprotov6.ConfigureProviderRequest) (*tfprotov6.ConfigureProviderResponse, error) {
	set, diags := s.schemaSet()
	if set == nil {
		return &tfprotov6.ConfigureProviderResponse{Diagnostics: diags}, nil
	}
	if req.Config == nil {
		return &tfprotov6.ConfigureProviderResponse{}, nil
	}
	cfg, err := req.Config.Unmarshal(set.Provider.ValueType())
	if err != nil {
		return &tfprotov6.ConfigureProviderResponse{Diagnostics: []*tfprotov6.Diagnostic{
			errorDiag("Invalid provider configuration", err.Error(), nil)}}, nil
	}
	tags, known := defaultTagsOf(cfg)
	s.mu.Lock()
	s.defaultTags, s.defaultTagsKnown = tags, known
	s.mu.Unlock()
	return &tfprotov6.ConfigureProviderResponse{}, nil
}

// defaultTagsOf extracts default_tags[0].tags from a provider config value.
func defaultTagsOf(cfg tftypes.Value) (map[string]tftypes.Value, bool) {
	m, ok := objectAttrs(cfg)
	if !ok {
		return nil, cfg.IsKnown()
	}
	dt, ok := m["default_tags"]
	if !ok || dt.IsNull() {
		return nil, true
	}
	if !dt.IsKnown() {
		return nil, false
	}
	var blocks []tftypes.Value
	if err := dt.As(&blocks); err != nil || len(blocks) == 0 {
		return nil, true
	}
	bm, ok := objectAttrs(blocks[0])
	if !ok {
		return nil, blocks[0].IsKnown()
	}
	tags := bm["tags"]
	if tags.IsNull() {
		return nil, true
	}
	if !tags.IsFullyKnown() {
		return nil, false
	}
	var out map[string]tftypes.Value
	if err := tags.As(&out); err != nil {
		return nil, false
	}
	return out, true
}

// StopProvider has nothing in flight to stop.
func (s *Server) StopProvider(context.Context, *tfprotov6.StopProviderRequest) (*tfprotov6.StopProviderResponse, error) {
	return &tfprotov6.StopProviderResponse{}, nil
}

// ValidateResourceConfig rejects computed-only arguments and warns on
// deprecated ones; tofu itself checks names, types, required arguments and
// block counts against the served schema.
func (s *Server) ValidateResourceConfig(_ context.Context, req *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	sch, diags := s.resourceSchema(req.TypeName)
	if sch == nil {
		return &tfprotov6.ValidateResourceConfigResponse{Diagnostics: diags}, nil
	}
	return &tfprotov6.ValidateResourceConfigResponse{Diagnostics: validateConfig(sch, req.Config)}, nil
}

// ValidateDataResourceConfig: as for resources.
func (s *Server) ValidateDataResourceConfig(_ context.Context, req *tfprotov6.ValidateDataResourceConfigRequest) (*tfprotov6.ValidateDataResourceConfigResponse, error) {
	sch, diags := s.dataSourceSchema(req.TypeName)
	if sch == nil {
		return &tfprotov6.ValidateDataResourceConfigResponse{Diagnostics: diags}, nil
	}
	return &tfprotov6.ValidateDataResourceConfigResponse{Diagnostics: validateConfig(sch, req.Config)}, nil
}

// ValidateEphemeralResourceConfig: as for resources.
func (s *Server) ValidateEphemeralResourceConfig(_ context.Context, req *tfprotov6.ValidateEphemeralResourceConfigRequest) (*tfprotov6.ValidateEphemeralResourceConfigResponse, error) {
	sch, diags := s.ephemeralSchema(req.TypeName)
	if sch == nil {
		return &tfprotov6.ValidateEphemeralResourceConfigResponse{Diagnostics: diags}, nil
	}
	return &tfprotov6.ValidateEphemeralResourceConfigResponse{Diagnostics: validateConfig(sch, req.Config)}, nil
}

// UpgradeResourceState passes the stored JSON state through, dropping
// attributes the current schema no longer has.
func (s *Server) UpgradeResourceState(_ context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	sch, diags := s.resourceSchema(req.TypeName)
	if sch == nil {
		return &tfprotov6.UpgradeResourceStateResponse{Diagnostics: diags}, nil
	}
	typ := sch.ValueType()
	if req.RawState == nil || (len(req.RawState.JSON) == 0 && len(req.RawState.Flatmap) == 0) {
		dv, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, nil))
		if err != nil {
			return nil, fmt.Errorf("encode null state: %w", err)
		}
		return &tfprotov6.UpgradeResourceStateResponse{UpgradedState: &dv}, nil
	}
	val, err := req.RawState.UnmarshalWithOpts(typ, tfprotov6.UnmarshalOpts{
		ValueFromJSONOpts: tftypes.ValueFromJSONOpts{IgnoreUndefinedAttributes: true},
	})
	if err != nil {
		return &tfprotov6.UpgradeResourceStateResponse{Diagnostics: []*tfprotov6.Diagnostic{
			errorDiag("Cannot read stored state", fmt.Sprintf("%s: %v", req.TypeName, err), nil)}}, nil
	}
	dv, err := tfprotov6.NewDynamicValue(typ, val)
	if err != nil {
		return nil, fmt.Errorf("encode upgraded state: %w", err)
	}
	return &tfprotov6.UpgradeResourceStateResponse{UpgradedState: &dv}, nil
}

// UpgradeResourceIdentity: there are no identity schemas to upgrade to.
func (s *Server) UpgradeResourceIdentity(_ context.Context, req *tfprotov6.UpgradeResourceIdentityRequest) (*tfprotov6.UpgradeResourceIdentityResponse, error) {
	return &tfprotov6.UpgradeResourceIdentityResponse{Diagnostics: []*tfprotov6.Diagnostic{
		errorDiag("Resource identity not supported", "The offline schema provider has no identity schema for "+req.TypeName+".", nil)}}, nil
}

// ReadResource cannot reach AWS; the stored state is the best answer.
func (s *Server) ReadResource(_ context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	return &tfprotov6.ReadResourceResponse{NewState: req.CurrentState, Private: req.Private, NewIdentity: req.CurrentIdentity}, nil
}

// PlanResourceChange plans the proposed state with unknown computed values.
func (s *Server) PlanResourceChange(_ context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	sch, diags := s.resourceSchema(req.TypeName)
	if sch == nil {
		return &tfprotov6.PlanResourceChangeResponse{Diagnostics: diags}, nil
	}
	typ := sch.ValueType()
	proposed, err := req.ProposedNewState.Unmarshal(typ)
	if err != nil {
		return &tfprotov6.PlanResourceChangeResponse{Diagnostics: []*tfprotov6.Diagnostic{
			errorDiag("Invalid proposed state", err.Error(), nil)}}, nil
	}
	if proposed.IsNull() {
		return &tfprotov6.PlanResourceChangeResponse{PlannedState: req.ProposedNewState, PlannedPrivate: req.PriorPrivate}, nil
	}
	s.mu.Lock()
	tags, known := s.defaultTags, s.defaultTagsKnown
	s.mu.Unlock()
	planned, err := planState(req.TypeName, sch, proposed, tags, known)
	if err != nil {
		return &tfprotov6.PlanResourceChangeResponse{Diagnostics: []*tfprotov6.Diagnostic{
			errorDiag("Cannot plan "+req.TypeName, err.Error(), nil)}}, nil
	}
	dv, err := tfprotov6.NewDynamicValue(typ, planned)
	if err != nil {
		return nil, fmt.Errorf("encode planned state: %w", err)
	}
	return &tfprotov6.PlanResourceChangeResponse{PlannedState: &dv, PlannedPrivate: req.PriorPrivate}, nil
}

// ApplyResourceChange fails unless test applies are enabled (apply.go): nothing here can create
// AWS resources.
func (s *Server) ApplyResourceChange(_ context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	if !testApplyEnabled() {
		return &tfprotov6.ApplyResourceChangeResponse{Diagnostics: []*tfprotov6.Diagnostic{
			errorDiag("offline schema provider cannot apply",
				"This hashicorp/aws plugin only serves the provider schema for offline validation and planning; "+
					req.TypeName+" cannot be created, updated or destroyed with it (tofu test runs that apply "+
					"to it need "+EnvTestApply+"=1).", nil)}}, nil
	}
	sch, diags := s.resourceSchema(req.TypeName)
	if sch == nil {
		return &tfprotov6.ApplyResourceChangeResponse{Diagnostics: diags}, nil
	}
	return testApply(req, sch)
}

// ImportResourceState fails: importing needs AWS.
func (s *Server) ImportResourceState(_ context.Context, req *tfprotov6.ImportResourceStateRequest) (*tfprotov6.ImportResourceStateResponse, error) {
	return &tfprotov6.ImportResourceStateResponse{Diagnostics: []*tfprotov6.Diagnostic{
		errorDiag("offline schema provider cannot import", "Importing "+req.TypeName+" needs the real AWS provider.", nil)}}, nil
}

// MoveResourceState is not supported (the capability is not advertised).
func (s *Server) MoveResourceState(_ context.Context, req *tfprotov6.MoveResourceStateRequest) (*tfprotov6.MoveResourceStateResponse, error) {
	return &tfprotov6.MoveResourceStateResponse{Diagnostics: []*tfprotov6.Diagnostic{
		errorDiag("Move resource state not supported", "The offline schema provider cannot move "+req.SourceTypeName+" to "+req.TargetTypeName+".", nil)}}, nil
}

// GenerateResourceConfig is not supported (the capability is not advertised).
func (s *Server) GenerateResourceConfig(_ context.Context, req *tfprotov6.GenerateResourceConfigRequest) (*tfprotov6.GenerateResourceConfigResponse, error) {
	return &tfprotov6.GenerateResourceConfigResponse{Diagnostics: []*tfprotov6.Diagnostic{
		errorDiag("Config generation not supported", "The offline schema provider cannot generate configuration for "+req.TypeName+".", nil)}}, nil
}

// ReadDataSource answers with placeholders: tofu rejects unknown values in
// data source results, and AWS is not reachable.
func (s *Server) ReadDataSource(_ context.Context, req *tfprotov6.ReadDataSourceRequest) (*tfprotov6.ReadDataSourceResponse, error) {
	sch, diags := s.dataSourceSchema(req.TypeName)
	if sch == nil {
		return &tfprotov6.ReadDataSourceResponse{Diagnostics: diags}, nil
	}
	typ := sch.ValueType()
	cfg, err := req.Config.Unmarshal(typ)
	if err != nil {
		return &tfprotov6.ReadDataSourceResponse{Diagnostics: []*tfprotov6.Diagnostic{
			errorDiag("Invalid data source configuration", err.Error(), nil)}}, nil
	}
	state, err := readDataSource(req.TypeName, sch, cfg)
	if err != nil {
		return &tfprotov6.ReadDataSourceResponse{Diagnostics: []*tfprotov6.Diagnostic{
			errorDiag("Cannot read "+req.TypeName, err.Error(), nil)}}, nil
	}
	dv, err := tfprotov6.NewDynamicValue(typ, state)
	if err != nil {
		return nil, fmt.Errorf("encode data source state: %w", err)
	}
	return &tfprotov6.ReadDataSourceResponse{State: &dv}, nil
}

// OpenEphemeralResource returns placeholders like a data source read.
func (s *Server) OpenEphemeralResource(_ context.Context, req *tfprotov6.OpenEphemeralResourceRequest) (*tfprotov6.OpenEphemeralResourceResponse, error) {
	sch, diags := s.ephemeralSchema(req.TypeName)
	if sch == nil {
		return &tfprotov6.OpenEphemeralResourceResponse{Diagnostics: diags}, nil
	}
	typ := sch.ValueType()
	cfg, err := req.Config.Unmarshal(typ)
	if err != nil {
		return &tfprotov6.OpenEphemeralResourceResponse{Diagnostics: []*tfprotov6.Diagnostic{
			errorDiag("Invalid ephemeral resource configuration", err.Error(), nil)}}, nil
	}
	result, err := readDataSource(req.TypeName, sch, cfg)
	if err != nil {
		return &tfprotov6.OpenEphemeralResourceResponse{Diagnostics: []*tfprotov6.Diagnostic{
			errorDiag("Cannot open "+req.TypeName, err.Error(), nil)}}, nil
	}
	dv, err := tfprotov6.NewDynamicValue(typ, result)
	if err != nil {
		return nil, fmt.Errorf("encode ephemeral result: %w", err)
	}
	return &tfprotov6.OpenEphemeralResourceResponse{Result: &dv}, nil
}

// RenewEphemeralResource has nothing to renew.
func (s *Server) RenewEphemeralResource(_ context.Context, req *tfprotov6.RenewEphemeralResourceRequest) (*tfprotov6.RenewEphemeralResourceResponse, error) {
	return &tfprotov6.RenewEphemeralResourceResponse{Private: req.Private}, nil
}

// CloseEphemeralResource has nothing to close.
func (s *Server) CloseEphemeralResource(context.Context, *tfprotov6.CloseEphemeralResourceRequest) (*tfprotov6.CloseEphemeralResourceResponse, error) {
	return &tfprotov6.CloseEphemeralResourceResponse{}, nil
}

// GetFunctions: provider functions are not part of the schema dump.
func (s *Server) GetFunctions(context.Context, *tfprotov6.GetFunctionsRequest) (*tfprotov6.GetFunctionsResponse, error) {
	return &tfprotov6.GetFunctionsResponse{Functions: map[string]*tfprotov6.Function{}}, nil
}

// CallFunction: no functions are served.
func (s *Server) CallFunction(_ context.Context, req *tfprotov6.CallFunctionRequest) (*tfprotov6.CallFunctionResponse, error) {
	return &tfprotov6.CallFunctionResponse{Error: &tfprotov6.FunctionError{
		Text: fmt.Sprintf("the offline schema provider serves no function %q", req.Name)}}, nil
}

func errorDiag(summary, detail string, path *tftypes.AttributePath) *tfprotov6.Diagnostic {
	return &tfprotov6.Diagnostic{Severity: tfprotov6.DiagnosticSeverityError, Summary: summary, Detail: detail, Attribute: path}
}

func warningDiag(summary, detail string, path *tftypes.AttributePath) *tfprotov6.Diagnostic {
	return &tfprotov6.Diagnostic{Severity: tfprotov6.DiagnosticSeverityWarning, Summary: summary, Detail: detail, Attribute: path}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
