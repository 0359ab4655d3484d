package cli

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/oauthlint/oauthlint/analyze"
	"github.com/oauthlint/oauthlint/rules"
	"github.com/oauthlint/oauthlint/rules/builtin"
)

func newVersionCmd(io *IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version, the built-in rule count and the MCP revisions known",
		Args:    cobra.NoArgs,
		Example: "  oauthlint version",
		RunE: func(cmd *cobra.Command, args []string) error {
			rs, err := builtin.Rules()
			if err != nil {
				return &exitError{code: ExitInternal, err: err}
			}
			fmt.Fprintf(io.Out, "oauthlint %s (%s, %s/%s)\n", Version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			fmt.Fprintf(io.Out, "built-in rules: %d in packs %v\n", len(rs), rules.BuiltinPacks)
			fmt.Fprintf(io.Out, "MCP authorization revisions: %v\n", analyze.Revisions)
			return nil
		},
	}
}
