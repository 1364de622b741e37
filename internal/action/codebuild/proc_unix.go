//go:build unix

package codebuild

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the command in a process group of its own, and makes
// cancellation kill the whole group, so that nothing a build command starts
// outlives a stopped build.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// killGroup kills a process group, if anything is left in it.
func killGroup(pgid int) {
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}
