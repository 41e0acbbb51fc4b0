package provision

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/switchyard/switchyard/pkg/config"
)

// MergeResult says what MergeConfig changed.
type MergeResult struct {
	Added     []string // services that were not in the configuration
	Updated   []string // services whose infrastructure fields were rewritten
	Untouched []string // services in the configuration but not in the stack output, left as they were
	Warnings  []string
	Changed   bool // the file content differs from before
}

// infraOrder is the order in which infrastructure keys are written for a new service.
var infraOrder = []string{"cluster", "blue_service", "green_service", "container", "image_repository", "listener_arn",
	"rule_arns", "test_listener_arn", "blue_target_group_arn", "green_target_group_arn", "alarms", "blue_alarms", "green_alarms", "deregistration_delay"}

// MergeConfig writes the controller output's infrastructure fields into the daemon configuration
// (existing, possibly empty) and returns the new YAML. Everything else the operator wrote (top-level
// settings, tokens, per-service strategy and timeouts, comments) is kept: the document is edited as a
// yaml.Node tree, not decoded and re-encoded. The result is validated with config.Parse.
func MergeConfig(existing []byte, out *ControllerOutput) ([]byte, *MergeResult, error) {
	const op = "provision.MergeConfig"
	res := &MergeResult{Added: []string{}, Updated: []string{}, Untouched: []string{}, Warnings: []string{}}
	var doc yaml.Node
	if len(bytes.TrimSpace(existing)) > 0 {
		if err := yaml.Unmarshal(existing, &doc); err != nil {
			return nil, nil, &Error{Op: op, Kind: KindInvalidConfig, Err: err, Message: "existing configuration is not valid YAML"}
		}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}
		doc.HeadComment = "switchyard daemon configuration. Service infrastructure fields are written by\n" +
			"`switchyard provision output` from the stack's controller output; edit the rest freely."
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, nil, &Error{Op: op, Kind: KindInvalidConfig, Message: "existing configuration is not a mapping at the top level"}
	}

	// Point the daemon at the stack's region unless the operator chose one.
	if out.Region != "" {
		aws := mappingAt(root, "aws")
		if r := lookup(aws, "region"); r == nil || r.Value == "" {
			setScalar(aws, "region", out.Region)
		} else if r.Value != out.Region {
			// The daemon refuses ARNs outside aws.region, so such a merge could never load.
			return nil, nil, &Error{Op: op, Kind: KindInvalidConfig, Message: fmt.Sprintf(
				"aws.region is %s but the stack is in %s: the daemon would refuse the stack's ARNs; set aws.region to %s or remove it", r.Value, out.Region, out.Region)}
		}
	}

	services := mappingAt(root, "services")
	names := make([]string, 0, len(out.Services))
	for n := range out.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		s := out.Services[name]
		svc := lookup(services, name)
		if svc == nil || svc.Kind != yaml.MappingNode {
			res.Added = append(res.Added, name)
		} else {
			res.Updated = append(res.Updated, name)
		}
		m := mappingAt(services, name)
		values := map[string]any{
			"cluster": s.Cluster, "blue_service": s.BlueService, "green_service": s.GreenService, "container": s.Container,
			"image_repository": s.ImageRepository, "listener_arn": s.ListenerARN, "rule_arns": s.RuleARNs,
			"test_listener_arn":     s.TestListenerARN,
			"blue_target_group_arn": s.BlueTargetGroupARN, "green_target_group_arn": s.GreenTargetGroupARN,
			"alarms": s.AlarmNames, "blue_alarms": s.BlueAlarmNames, "green_alarms": s.GreenAlarmNames,
			"deregistration_delay": (time.Duration(s.DeregistrationDelaySeconds) * time.Second).String(),
		}
		for _, k := range infraOrder {
			switch v := values[k].(type) {
			case string:
				setScalar(m, k, v)
			case []string:
				setSeq(m, k, v)
			}
		}
	}
	for i := 0; i+1 < len(services.Content); i += 2 {
		if _, ok := out.Services[services.Content[i].Value]; !ok {
			res.Untouched = append(res.Untouched, services.Content[i].Value)
		}
	}

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, nil, &Error{Op: op, Kind: KindInvalidConfig, Err: err, Message: "encoding the configuration"}
	}
	if err := enc.Close(); err != nil {
		return nil, nil, &Error{Op: op, Kind: KindInvalidConfig, Err: err, Message: "encoding the configuration"}
	}
	if _, err := config.Parse(buf.Bytes()); err != nil {
		return nil, nil, &Error{Op: op, Kind: KindInvalidConfig, Err: err,
			Message: "the merged configuration does not validate (nothing was written)"}
	}
	res.Changed = !bytes.Equal(buf.Bytes(), existing)
	return buf.Bytes(), res, nil
}

// WriteConfig merges the controller output into the configuration file at path (created when missing)
// and replaces it atomically (temporary file in the same directory, fsync, rename), so the daemon never
// reads a half-written file.
func WriteConfig(path string, out *ControllerOutput) (*MergeResult, error) {
	const op = "provision.WriteConfig"
	// Replace the target of a symlink, not the link.
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	existing, err := os.ReadFile(path)
	mode := fs.FileMode(0o600) // new files: it may hold API tokens
	switch {
	case err == nil:
		if fi, err := os.Stat(path); err == nil {
			mode = fi.Mode().Perm()
		}
	case errors.Is(err, fs.ErrNotExist):
		existing = nil
	default:
		return nil, &Error{Op: op, Kind: KindInvalidConfig, Err: err, Message: "reading " + path}
	}
	merged, res, err := MergeConfig(existing, out)
	if err != nil {
		return nil, err
	}
	if !res.Changed {
		return res, nil
	}
	if err := writeAtomic(path, merged, mode); err != nil {
		return nil, &Error{Op: op, Kind: KindFailed, Err: err, Message: "writing " + path}
	}
	return res, nil
}

func writeAtomic(path string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil { // persist the rename itself
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// lookup returns the value node of key in mapping m, or nil.
func lookup(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// mappingAt returns the mapping under key in m, creating it (or replacing a null/empty value) as needed.
func mappingAt(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v := m.Content[i+1]
			if v.Kind == yaml.AliasNode && v.Alias != nil {
				v = v.Alias
			}
			if v.Kind != yaml.MappingNode {
				nv := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", LineComment: v.LineComment, HeadComment: v.HeadComment}
				m.Content[i+1] = nv
				return nv
			}
			return v
		}
	}
	nv := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, nv)
	return nv
}

// setScalar sets key to a string value, keeping the comments attached to an existing value.
func setScalar(m *yaml.Node, key, value string) {
	nv := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value}
	if needsQuotes(value) {
		nv.Style = yaml.DoubleQuotedStyle
	}
	replaceValue(m, key, nv)
}

// setSeq sets key to a list of strings, keeping the comments and flow/block style of an existing list.
func setSeq(m *yaml.Node, key string, values []string) {
	nv := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	if old := lookup(m, key); old != nil && old.Kind == yaml.SequenceNode {
		nv.Style = old.Style
	}
	for _, v := range values {
		sn := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
		if needsQuotes(v) {
			sn.Style = yaml.DoubleQuotedStyle
		}
		nv.Content = append(nv.Content, sn)
	}
	replaceValue(m, key, nv)
}

func replaceValue(m *yaml.Node, key string, nv *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			old := m.Content[i+1]
			nv.HeadComment, nv.LineComment, nv.FootComment = old.HeadComment, old.LineComment, old.FootComment
			m.Content[i+1] = nv
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, nv)
}

// needsQuotes reports whether a plain scalar would not read back as the same string.
func needsQuotes(s string) bool {
	if s == "" {
		return true
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return true
	}
	switch strings.ToLower(s) {
	case "true", "false", "yes", "no", "on", "off", "null", "~", "y", "n":
		return true
	}
	return false
}
