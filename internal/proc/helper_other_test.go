//go:build !linux

package proc

import (
	"fmt"
	"os"
)

// runHelper runs the test binary as a helper program; the helpers exist on
// Linux only.
func runHelper(name string) {
	fmt.Println("error no helper", name, "on this OS")
	os.Exit(1)
}
