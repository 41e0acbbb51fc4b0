// Command switchyard is the deployment daemon and its command-line client.
package main

import (
	"os"

	"github.com/switchyard/switchyard/pkg/cli"
)

func main() { os.Exit(cli.Execute()) }
