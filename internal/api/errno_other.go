//go:build !windows

package api

import "syscall"

// errAddrInUse is the error of a listener whose address another holds.
var errAddrInUse error = syscall.EADDRINUSE
