//go:build !unix

package lambda

import "os/exec"

// processGroup has no process groups to use here.
func processGroup(*exec.Cmd) {}

// kill stops an environment's process.
func kill(cmd *exec.Cmd) {
	if cmd != nil && cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}
