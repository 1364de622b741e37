//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package events

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock on f, shared with every process
// that appends to the same file.
func lockFile(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			return err
		}
	}
}

func unlockFile(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
