package daemon

import (
	"fmt"
	"os"

	"golang.org/x/sys/windows"
)

// makeDataDir creates the data dir and gives it a protected access list:
// SYSTEM, Administrators and the user steward runs as, inherited by
// everything inside (the store, the logs, the API token). Without it the
// folder would inherit %ProgramData%'s, which lets every local user read.
func makeDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	tok := windows.GetCurrentProcessToken()
	user, err := tok.GetTokenUser()
	if err != nil {
		return fmt.Errorf("secure data dir: current user: %w", err)
	}
	sd, err := windows.SecurityDescriptorFromString(fmt.Sprintf(
		"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;%s)", user.User.Sid.String()))
	if err != nil {
		return fmt.Errorf("secure data dir: %w", err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return fmt.Errorf("secure data dir: %w", err)
	}
	err = windows.SetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil)
	if err != nil {
		return fmt.Errorf("secure data dir %s: %w", dir, err)
	}
	return nil
}
