//go:build !linux && !darwin && !windows

package proc

// Capabilities says that this OS has no process control implementation.
func Capabilities() []Capability {
	return []Capability{{Name: "tree mechanism", Detail: TreeMechanism()}}
}
