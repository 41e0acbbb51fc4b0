// Package kumo pins the kumo AWS emulator, a test-only tool, in its own module so that the product's
// go.mod lists only what the product uses. scripts/tools.sh builds it with `go build -modfile` from here.
package kumo
