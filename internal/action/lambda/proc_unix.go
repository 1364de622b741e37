//go:build unix

package lambda

import (
	"os/exec"
	"syscall"
)

// processGroup starts the command in a process group of its own, so that
// stopping an environment stops whatever its runtime started too.
func processGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// kill stops an environment's process group at once, as Lambda does (no
// SIGTERM: that needs a registered extension).
func kill(cmd *exec.Cmd) {
	if cmd != nil && cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
