package osservice

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// CheckInstall reads the unit and its wants link under root, as systemctl
// enable leaves them.
func TestCheckInstallSystemd(t *testing.T) {
	spec := testSpec()
	root := t.TempDir()
	dir := filepath.Join(root, "etc", "systemd", "system")
	got := CheckInstall(spec, root)
	if statuses(got) != "fail" || !strings.Contains(text(got), "steward service install -c /etc/steward/steward.yaml") {
		t.Errorf("not installed: got %+v", got)
	}
	unit, _ := SystemdUnit(spec)
	if err := os.MkdirAll(filepath.Join(dir, "multi-user.target.wants"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "steward.service"), []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := CheckInstall(spec, root); statuses(got) != "ok fail ok" {
		t.Errorf("not enabled: got %+v", got)
	}
	if err := os.Symlink("../steward.service", filepath.Join(dir, "multi-user.target.wants", "steward.service")); err != nil {
		t.Fatal(err)
	}
	if got := CheckInstall(spec, root); statuses(got) != "ok ok ok" {
		t.Errorf("enabled: got %+v", got)
	}
	if os.Geteuid() != 0 {
		if err := os.Chmod(filepath.Join(dir, "steward.service"), 0); err != nil {
			t.Fatal(err)
		}
		if got := CheckInstall(spec, root); statuses(got) != "fail" || !strings.Contains(text(got), "as root") {
			t.Errorf("unreadable: got %+v", got)
		}
	}
}
