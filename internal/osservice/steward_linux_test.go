package osservice

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/kardianos/service"
)

type fakeSystem struct {
	service.System
	name string
}

func (f fakeSystem) String() string { return f.name }

func TestSupportedNeedsSystemd(t *testing.T) {
	if err := supported(fakeSystem{name: "linux-systemd"}); err != nil {
		t.Errorf("systemd: %v", err)
	}
	for sys, want := range map[service.System]string{
		fakeSystem{name: "unix-systemv"}: "(found unix-systemv)",
		nil:                              "(none found)",
	} {
		err := supported(sys)
		if !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), want) ||
			!strings.Contains(err.Error(), "steward service needs systemd") {
			t.Errorf("%v: got %v", sys, err)
		}
	}
}

// On this machine without systemd, New says so; with systemd it works.
func TestNewOnThisMachine(t *testing.T) {
	s, err := New(testSpec())
	if !haveSystemd() {
		if !errors.Is(err, errors.ErrUnsupported) {
			t.Fatalf("without systemd: got %v, want errors.ErrUnsupported", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if s.Platform() != systemdPlatform {
		t.Errorf("platform %q", s.Platform())
	}
}

func TestPlatformOptionsCarryTheUnit(t *testing.T) {
	opts, err := platformOptions(testSpec())
	if err != nil {
		t.Fatal(err)
	}
	unit, _ := SystemdUnit(testSpec())
	if opts["SystemdScript"] != unit {
		t.Errorf("SystemdScript is not the unit: %v", opts)
	}
	spec := testSpec()
	spec.Name = ""
	if _, err := platformOptions(spec); err == nil {
		t.Error("a bad spec gave options")
	}
	if err := platformAfterInstall(testSpec()); err != nil {
		t.Error(err)
	}
}

func TestPrivileged(t *testing.T) {
	err := privileged("install")
	if os.Geteuid() == 0 {
		if err != nil {
			t.Errorf("as root: %v", err)
		}
		return
	}
	if !errors.Is(err, ErrNotPrivileged) || !strings.Contains(err.Error(), "sudo") {
		t.Errorf("not root: got %v", err)
	}
}

// systemdStandIn is a kardianos/service system that claims to be systemd
// and records the config New hands it.
type systemdStandIn struct {
	got *service.Config
}

func (s *systemdStandIn) String() string    { return systemdPlatform }
func (s *systemdStandIn) Detect() bool      { return true }
func (s *systemdStandIn) Interactive() bool { return true }
func (s *systemdStandIn) New(_ service.Interface, c *service.Config) (service.Service, error) {
	s.got = c
	return &fakeService{}, nil
}

func TestNewHandsKardianosTheUnit(t *testing.T) {
	saved := service.AvailableSystems()
	t.Cleanup(func() { service.ChooseSystem(saved...) })
	sys := &systemdStandIn{}
	service.ChooseSystem(sys)

	s, err := New(testSpec())
	if err != nil {
		t.Fatal(err)
	}
	unit, _ := SystemdUnit(testSpec())
	c := sys.got
	if c.Name != "steward" || c.Executable != "/usr/local/bin/steward" ||
		strings.Join(c.Arguments, " ") != "run -c /etc/steward/steward.yaml --service-manager" ||
		c.Option["SystemdScript"] != unit {
		t.Errorf("config handed to kardianos/service: %+v", c)
	}
	if s.privileged == nil || s.afterInstall == nil {
		t.Error("New left hooks unset")
	}
}

// haveSystemd reports whether systemd runs here.
func haveSystemd() bool {
	_, err := os.Stat(systemdBooted)
	return err == nil
}
