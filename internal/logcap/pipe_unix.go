//go:build unix && !linux

package logcap

// grownPipe is the size grow asks for; these systems cannot resize pipes.
const grownPipe = 0

// pipeSize returns the buffer size assumed for a pipe: 16 KiB, the smallest
// that macOS and the BSDs start with.
func pipeSize(int) int { return 16 << 10 }

// setPipeSize cannot resize a pipe here.
func setPipeSize(int, int) int { return 0 }
