package provision

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-exec/tfexec"
)

// MinVersion is the oldest tofu/terraform accepted: the stack's required_version, and the first release
// with everything used here (-json apply/plan streams, refresh-only plans, override files for backends).
const MinVersion = "1.5.0"

// Binary describes the tofu/terraform executable in use.
type Binary struct {
	Path    string
	Product string // OpenTofu or Terraform
	Version *version.Version
}

func (b Binary) String() string {
	v := "unknown"
	if b.Version != nil {
		v = b.Version.String()
	}
	return fmt.Sprintf("%s %s (%s)", b.Product, v, b.Path)
}

// Name is the command name to use in advice to the operator ("tofu" or "terraform").
func (b Binary) Name() string {
	if b.Product == "OpenTofu" {
		return "tofu"
	}
	return "terraform"
}

// FindBinary resolves the executable: explicit when given, else `tofu` then `terraform` on PATH.
func FindBinary(explicit string) (string, error) {
	const op = "provision.FindBinary"
	if explicit != "" {
		p, err := exec.LookPath(explicit)
		if err != nil {
			return "", &Error{Op: op, Kind: KindBinaryMissing, Err: err,
				Message: fmt.Sprintf("binary %q is missing or not executable", explicit)}
		}
		return filepath.Abs(p)
	}
	for _, name := range []string{"tofu", "terraform"} {
		if p, err := exec.LookPath(name); err == nil {
			return filepath.Abs(p)
		}
	}
	return "", &Error{Op: op, Kind: KindBinaryMissing,
		Message: "binary missing: neither tofu nor terraform is on PATH; install OpenTofu >= " + MinVersion + " (scripts/tools.sh builds one into .tools/bin) or pass --binary PATH"}
}

// checkBinary asks the executable for its version and refuses one older than MinVersion.
func checkBinary(ctx context.Context, tf *tfexec.Terraform, path string) (Binary, error) {
	const op = "provision.checkBinary"
	b := Binary{Path: path, Product: productOf(path)}
	v, _, err := tf.Version(ctx, true)
	if err != nil {
		if ctx.Err() != nil {
			return b, &Error{Op: op, Kind: KindCanceled, Err: err, Message: "interrupted while checking the binary version"}
		}
		var exitErr *exec.ExitError
		kind := KindBinaryMissing
		if errors.As(err, &exitErr) {
			kind = KindFailed
		}
		return b, &Error{Op: op, Kind: kind, Err: err, Message: fmt.Sprintf("cannot run %s version", path)}
	}
	b.Version = v
	if v.LessThan(version.Must(version.NewVersion(MinVersion))) {
		return b, &Error{Op: op, Kind: KindBinaryTooOld,
			Message: fmt.Sprintf("%s is too old: version %s found, >= %s required", path, v, MinVersion)}
	}
	return b, nil
}

// productOf guesses the product from the file name; OpenTofu reports its version under the same JSON
// key as Terraform, so the name is the only cheap hint.
func productOf(path string) string {
	if strings.Contains(strings.ToLower(filepath.Base(path)), "tofu") {
		return "OpenTofu"
	}
	return "Terraform"
}
