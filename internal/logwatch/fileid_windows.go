package logwatch

import (
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/windows"
)

// openFile opens path for reading, sharing it for deletion too, so that a
// log rotation can rename or delete the file while steward reads it.
func openFile(path string) (*os.File, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		nil, windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}

// identity returns the identity of the open file f: its volume serial
// number and file index.
func identity(_ fs.FileInfo, f *os.File) (string, error) {
	var info windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(windows.Handle(f.Fd()), &info); err != nil {
		return "", fmt.Errorf("file information: %w", err)
	}
	return fmt.Sprintf("%x:%x%08x", info.VolumeSerialNumber, info.FileIndexHigh, info.FileIndexLow), nil
}

// pathIdentity returns the identity of the file at path, and its info.
func pathIdentity(path string) (string, fs.FileInfo, error) {
	f, err := openFile(path)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", nil, err
	}
	id, err := identity(fi, f)
	return id, fi, err
}
