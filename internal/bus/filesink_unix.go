//go:build unix

package bus

import "os"

// syncDir syncs the directory of root, so that a rename in it survives a
// crash of the machine.
func syncDir(root *os.Root) error {
	d, err := root.Open(".")
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
