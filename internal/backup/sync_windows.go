package backup

// syncDir does nothing on Windows: NTFS journals a rename, and a
// directory cannot be opened for a flush there.
func syncDir(string) error { return nil }
