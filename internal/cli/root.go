// Package cli holds oauthlint's commands. Each command has an Options
// struct and a run function that takes IOStreams, so tests run commands
// exactly as users do, without a process.
package cli

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X
// github.com/oauthlint/oauthlint/internal/cli.version=v1.2.3".
var version = ""

// Version returns the build's version.
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		v := bi.Main.Version
		if v == "" || v == "(devel)" {
			v = "devel"
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += "+" + s.Value[:12]
			}
		}
		return v
	}
	return "devel"
}

// Main runs the command line and returns the exit code.
func Main() int { return Run(System(), nil) }

// Run executes oauthlint with args (nil: os.Args[1:]) on the given streams
// and returns the exit code. A panic anywhere is reported as an internal
// error (exit 3), never as a crash.
func Run(io *IOStreams, args []string) (code int) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(io.ErrOut, "oauthlint: internal error: %v\nThis is a bug in oauthlint; please report it with the command line (not the capture, which holds secrets).\n%s", p, debug.Stack())
			code = ExitInternal
		}
	}()
	root := NewRootCmd(io)
	if args != nil {
		root.SetArgs(args)
	}
	err := root.Execute()
	if err != nil {
		if msg := err.Error(); codeOf(err) != ExitFindings && msg != "" {
			fmt.Fprintf(io.ErrOut, "oauthlint: %s\n", strings.TrimSpace(msg))
		}
	}
	return codeOf(err)
}

// NewRootCmd builds the command tree.
func NewRootCmd(io *IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "oauthlint",
		Short: "Find where OAuth clients, authorization servers and MCP servers break the specs",
		Long: `oauthlint reads captured OAuth traffic (HAR today), reconstructs each
authorization attempt (discovery, registration, authorize, callback, token,
refresh, resource calls) and reports, with evidence, where the client, the
authorization server or the resource server departs from the RFCs or the MCP
authorization spec: who is at fault, the exact field, the spec section and
the fix. Secrets are redacted in every output.`,
		Example: `  # Analyze a HAR exported from the browser or from mitmproxy
  oauthlint analyze flow.har

  # Machine-readable output for CI; exit 1 on medium or worse
  oauthlint analyze --format json --fail-on medium flow.har > report.json`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	root.SetIn(io.In)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError("%v\nRun '%s --help' for usage.", err, c.CommandPath())
	})
	root.AddCommand(newAnalyzeCmd(io, nil), newCaptureCmd(io), newRulesCmd(io), newCACmd(io), newVersionCmd(io), newBrowserHelperCmd(io))
	return root
}
