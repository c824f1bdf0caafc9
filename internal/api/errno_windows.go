package api

import "syscall"

// errAddrInUse is the error of a listener whose address another holds:
// Winsock's WSAEADDRINUSE.
var errAddrInUse error = syscall.Errno(10048)
