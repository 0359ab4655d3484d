//go:build !unix

package cli

import "os/exec"

func ownProcessGroup(*exec.Cmd) {}

func signalGroup(cmd *exec.Cmd, _ bool) {
	if cmd.Process != nil {
		cmd.Process.Kill()
	}
}
