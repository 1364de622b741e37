//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package events

import "os"

// lockFile does nothing where flock is missing: writers of this process
// are still serialized by File's mutex, and each batch is one append.
func lockFile(*os.File) error { return nil }

func unlockFile(*os.File) error { return nil }
