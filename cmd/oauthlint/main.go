// Command oauthlint finds where OAuth clients, authorization servers and
// MCP servers break the RFCs and the MCP authorization spec, from captured
// or live traffic.
package main

import (
	"os"

	"github.com/oauthlint/oauthlint/internal/cli"
)

func main() { os.Exit(cli.Main()) }
