package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/oauthlint/oauthlint/certs"
)

func newCACmd(io *IOStreams) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "ca",
		Short: "Manage the local CA the capture proxy signs certificates with",
		Long: `oauthlint capture intercepts HTTPS with a certificate authority created for
this installation only (ECDSA P-256, key file mode 0600 in a 0700 directory).
Clients must trust it for the time of a capture; 'oauthlint ca init' prints
how for each ecosystem. The key is never printed or exported.

The CA lives in $OAUTHLINT_CA_DIR, else <user config dir>/oauthlint.`,
		Example: `  oauthlint ca init
  oauthlint ca path
  oauthlint ca export --format der > oauthlint-ca.der`,
	}
	cmd.PersistentFlags().StringVar(&dir, "ca-dir", "", "directory of the CA (default $OAUTHLINT_CA_DIR or <user config dir>/oauthlint)")
	resolve := func() (string, error) {
		if dir != "" {
			return dir, nil
		}
		d, err := certs.DefaultDir()
		if err != nil {
			return "", usageError("%v", err)
		}
		return d, nil
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "init",
		Short: "Create the CA (or show the existing one) and print how to trust it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := resolve()
			if err != nil {
				return err
			}
			ca, created, err := certs.LoadOrCreate(d)
			if err != nil {
				return usageError("%v", err)
			}
			if created {
				fmt.Fprintf(io.Out, "Created a new CA in %s\n", d)
			} else {
				fmt.Fprintf(io.Out, "Using the existing CA in %s\n", d)
			}
			fmt.Fprintf(io.Out, "subject:     %s\nexpires:     %s\nsha256:      %s\n\n", ca.Cert.Subject.CommonName, ca.Cert.NotAfter.Format("2006-01-02"), ca.Fingerprint())
			fmt.Fprint(io.Out, certs.TrustHints(ca.CertPath(), "http://127.0.0.1:8888"))
			return nil
		},
	}, &cobra.Command{
		Use:   "path",
		Short: "Print the path of the CA certificate (PEM)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := resolve()
			if err != nil {
				return err
			}
			ca, err := certs.Load(d)
			if err != nil {
				return usageError("%v", err)
			}
			fmt.Fprintln(io.Out, ca.CertPath())
			return nil
		},
	})
	var format string
	export := &cobra.Command{
		Use:   "export",
		Short: "Write the CA certificate (never the key) to standard output",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := resolve()
			if err != nil {
				return err
			}
			ca, err := certs.Load(d)
			if err != nil {
				return usageError("%v", err)
			}
			switch format {
			case "pem", "":
				_, err = io.Out.Write(ca.PEM())
			case "der":
				_, err = io.Out.Write(ca.DER())
			default:
				return usageError("--format %q: want pem or der", format)
			}
			return err
		},
	}
	export.Flags().StringVar(&format, "format", "pem", "pem or der")
	cmd.AddCommand(export)
	return cmd
}
