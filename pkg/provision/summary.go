package provision

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	tfjson "github.com/hashicorp/terraform-json"
)

// RootModule names the root module in summaries.
const RootModule = "(root)"

// ResourceChange is one planned change.
type ResourceChange struct {
	Address string `json:"address"`
	Module  string `json:"module"`
	Type    string `json:"type"`
	Action  string `json:"action"` // create, update, delete, replace
}

// ModuleSummary counts the planned changes of one module. A replacement counts once, under Replace,
// not as an add plus a destroy (Terraform's own summary line counts it twice).
type ModuleSummary struct {
	Module    string           `json:"module"`
	Add       int              `json:"add"`
	Change    int              `json:"change"`
	Destroy   int              `json:"destroy"`
	Replace   int              `json:"replace"`
	Resources []ResourceChange `json:"resources"`
}

// PlanSummary is the readable form of a saved plan.
type PlanSummary struct {
	Add            int             `json:"add"`
	Change         int             `json:"change"`
	Destroy        int             `json:"destroy"`
	Replace        int             `json:"replace"`
	Modules        []ModuleSummary `json:"modules"`
	OutputsChanged []string        `json:"outputs_changed,omitempty"`
}

// HasChanges reports whether applying the plan would change anything.
func (s *PlanSummary) HasChanges() bool {
	return s.Add+s.Change+s.Destroy+s.Replace > 0 || len(s.OutputsChanged) > 0
}

// Module returns the summary of one module ("(root)" for the root), or nil.
func (s *PlanSummary) Module(name string) *ModuleSummary {
	for i := range s.Modules {
		if s.Modules[i].Module == name {
			return &s.Modules[i]
		}
	}
	return nil
}

// Summarize groups a plan's resource changes by module.
func Summarize(p *tfjson.Plan) *PlanSummary {
	s := &PlanSummary{}
	if p == nil {
		return s
	}
	byModule := map[string]*ModuleSummary{}
	for _, rc := range p.ResourceChanges {
		if rc == nil || rc.Change == nil || rc.Mode == tfjson.DataResourceMode {
			continue
		}
		a := rc.Change.Actions
		var action string
		switch {
		case a.Replace():
			action = "replace"
		case a.Create():
			action = "create"
		case a.Update():
			action = "update"
		case a.Delete():
			action = "delete"
		default:
			continue // no-op, read, forget
		}
		mod := rc.ModuleAddress
		if mod == "" {
			mod = RootModule
		}
		m := byModule[mod]
		if m == nil {
			m = &ModuleSummary{Module: mod}
			byModule[mod] = m
		}
		switch action {
		case "replace":
			m.Replace++
			s.Replace++
		case "create":
			m.Add++
			s.Add++
		case "update":
			m.Change++
			s.Change++
		case "delete":
			m.Destroy++
			s.Destroy++
		}
		m.Resources = append(m.Resources, ResourceChange{Address: rc.Address, Module: mod, Type: rc.Type, Action: action})
	}
	for _, m := range byModule {
		sort.Slice(m.Resources, func(i, j int) bool { return m.Resources[i].Address < m.Resources[j].Address })
		s.Modules = append(s.Modules, *m)
	}
	sort.Slice(s.Modules, func(i, j int) bool {
		a, b := s.Modules[i].Module, s.Modules[j].Module
		if (a == RootModule) != (b == RootModule) {
			return a == RootModule
		}
		return a < b
	})
	for name, c := range p.OutputChanges {
		if c != nil && !c.Actions.NoOp() {
			s.OutputsChanged = append(s.OutputsChanged, name)
		}
	}
	sort.Strings(s.OutputsChanged)
	return s
}

var actionSymbol = map[string]string{"create": "+", "update": "~", "delete": "-", "replace": "-/+"}

// Write prints the summary: totals, a table by module, then each resource with its action.
func (s *PlanSummary) Write(w io.Writer) {
	if !s.HasChanges() {
		fmt.Fprintln(w, "No changes: the infrastructure matches the configuration.")
		return
	}
	fmt.Fprintf(w, "Plan: %d to add, %d to change, %d to destroy, %d to replace.\n\n", s.Add, s.Change, s.Destroy, s.Replace)
	if len(s.Modules) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "module\tadd\tchange\tdestroy\treplace\t")
		for _, m := range s.Modules {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", m.Module, m.Add, m.Change, m.Destroy, m.Replace)
		}
		tw.Flush()
		fmt.Fprintln(w)
		for _, m := range s.Modules {
			for _, r := range m.Resources {
				fmt.Fprintf(w, "  %3s %s\n", actionSymbol[r.Action], r.Address)
			}
		}
	}
	if len(s.OutputsChanged) > 0 {
		fmt.Fprintf(w, "\nOutputs changing: %s\n", strings.Join(s.OutputsChanged, ", "))
	}
}
