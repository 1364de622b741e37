//go:build !unix

package codebuild

import "os/exec"

// setProcessGroup has no process groups to use here: cancellation kills the
// shell only.
func setProcessGroup(cmd *exec.Cmd) {}

func killGroup(pgid int) {}
