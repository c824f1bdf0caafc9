package osservice

import (
	"errors"
	"strings"
	"testing"

	"github.com/kardianos/service"

	"github.com/stewardhq/steward"
)

// fakeService is a kardianos service.Service that records the calls it
// gets and answers as told.
type fakeService struct {
	service.Service // not called: a nil interface panics on calls not faked

	status    service.Status
	statusErr error
	errs      map[string]error // by operation
	calls     []string
}

func (f *fakeService) call(op string) error {
	f.calls = append(f.calls, op)
	return f.errs[op]
}

func (f *fakeService) Install() error   { return f.call("install") }
func (f *fakeService) Uninstall() error { return f.call("uninstall") }
func (f *fakeService) Start() error     { return f.call("start") }
func (f *fakeService) Stop() error      { return f.call("stop") }
func (f *fakeService) Restart() error   { return f.call("restart") }
func (f *fakeService) Platform() string { return "fake-init" }
func (f *fakeService) Status() (service.Status, error) {
	return f.status, f.statusErr
}

var (
	running      = func(f *fakeService) { f.status = service.StatusRunning }
	stopped      = func(f *fakeService) { f.status = service.StatusStopped }
	notInstalled = func(f *fakeService) { f.statusErr = service.ErrNotInstalled }
)

// newTestSteward returns a Steward over a fake service set up by state,
// with privileges unless denied.
func newTestSteward(state func(*fakeService), denied bool) (*Steward, *fakeService) {
	f := &fakeService{errs: map[string]error{}}
	state(f)
	s := &Steward{
		spec: testSpec(),
		svc:  f,
		privileged: func(op string) error {
			if denied {
				return errNotPrivileged(op, "run it as root")
			}
			return nil
		},
		afterInstall: func(Spec) error { return nil },
	}
	return s, f
}

func TestStewardOperations(t *testing.T) {
	boom := errors.New("boom")
	ops := map[string]func(*Steward) error{
		"install":   (*Steward).Install,
		"uninstall": (*Steward).Uninstall,
		"start":     (*Steward).Start,
		"stop":      (*Steward).Stop,
		"restart":   (*Steward).Restart,
	}
	for _, tt := range []struct {
		name      string
		op        string
		state     func(*fakeService)
		denied    bool
		errs      map[string]error
		wantCalls string
		wantErr   error  // matched with errors.Is
		wantMsg   string // contained in the error
	}{
		{name: "install", op: "install", state: notInstalled, wantCalls: "install"},
		{name: "install twice", op: "install", state: stopped, wantErr: ErrExists, wantMsg: "already installed as an OS service (fake-init, stopped); uninstall it first"},
		{name: "install unprivileged", op: "install", state: notInstalled, denied: true, wantErr: ErrNotPrivileged, wantMsg: "steward service install: not privileged enough: run it as root"},
		{name: "install fails", op: "install", state: notInstalled, errs: map[string]error{"install": boom}, wantCalls: "install", wantErr: boom, wantMsg: "install fake-init service steward: boom"},
		{name: "install, status fails", op: "install", state: func(f *fakeService) { f.statusErr = boom }, wantErr: boom, wantMsg: "install: status of fake-init service steward: boom"},
		{name: "uninstall stopped", op: "uninstall", state: stopped, wantCalls: "uninstall"},
		{name: "uninstall running", op: "uninstall", state: running, wantCalls: "stop uninstall"},
		{name: "uninstall, stop fails", op: "uninstall", state: running, errs: map[string]error{"stop": boom}, wantCalls: "stop", wantErr: boom},
		{name: "uninstall fails", op: "uninstall", state: stopped, errs: map[string]error{"uninstall": boom}, wantCalls: "uninstall", wantErr: boom},
		{name: "uninstall not installed", op: "uninstall", state: notInstalled, wantErr: ErrNotInstalled, wantMsg: "uninstall: steward is not installed as an OS service (fake-init); run steward service install first"},
		{name: "uninstall unprivileged", op: "uninstall", state: stopped, denied: true, wantErr: ErrNotPrivileged},
		{name: "start", op: "start", state: stopped, wantCalls: "start"},
		{name: "start running", op: "start", state: running},
		{name: "start fails", op: "start", state: stopped, errs: map[string]error{"start": boom}, wantCalls: "start", wantErr: boom},
		{name: "start not installed", op: "start", state: notInstalled, wantErr: ErrNotInstalled},
		{name: "stop", op: "stop", state: running, wantCalls: "stop"},
		{name: "stop stopped", op: "stop", state: stopped},
		{name: "stop fails", op: "stop", state: running, errs: map[string]error{"stop": boom}, wantCalls: "stop", wantErr: boom},
		{name: "stop unprivileged", op: "stop", state: running, denied: true, wantErr: ErrNotPrivileged},
		{name: "restart running", op: "restart", state: running, wantCalls: "restart"},
		{name: "restart stopped", op: "restart", state: stopped, wantCalls: "start"},
		{name: "restart fails", op: "restart", state: running, errs: map[string]error{"restart": boom}, wantCalls: "restart", wantErr: boom},
		{name: "restart, status fails", op: "restart", state: func(f *fakeService) { f.statusErr = boom }, wantErr: boom},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, f := newTestSteward(tt.state, tt.denied)
			for op, err := range tt.errs {
				f.errs[op] = err
			}
			err := ops[tt.op](s)
			if got := strings.Join(f.calls, " "); got != tt.wantCalls {
				t.Errorf("calls: got %q, want %q", got, tt.wantCalls)
			}
			switch {
			case tt.wantErr == nil && err != nil:
				t.Errorf("got error %v, want none", err)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("got error %v, want one wrapping %v", err, tt.wantErr)
			case tt.wantMsg != "" && (err == nil || !strings.Contains(err.Error(), tt.wantMsg)):
				t.Errorf("got error %v, want one containing %q", err, tt.wantMsg)
			}
		})
	}
}

func TestInstallRollsBackWhenFinishingFails(t *testing.T) {
	boom := errors.New("recovery actions refused")
	s, f := newTestSteward(notInstalled, false)
	s.afterInstall = func(Spec) error { return boom }
	err := s.Install()
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want %v", err, boom)
	}
	if got, want := strings.Join(f.calls, " "), "install uninstall"; got != want {
		t.Errorf("calls: got %q, want %q", got, want)
	}

	s, f = newTestSteward(notInstalled, false)
	s.afterInstall = func(Spec) error { return boom }
	f.errs["uninstall"] = errors.New("locked")
	err = s.Install()
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "removing it again failed: locked") {
		t.Errorf("got %v, want the failure and the failed rollback", err)
	}
}

func TestStatus(t *testing.T) {
	for _, tt := range []struct {
		name    string
		state   func(*fakeService)
		want    Status
		wantErr string
	}{
		{"running", running, StatusRunning, ""},
		{"stopped", stopped, StatusStopped, ""},
		{"not installed", notInstalled, StatusNotInstalled, ""},
		{"unknown", func(f *fakeService) { f.status = service.StatusUnknown }, "", "status of fake-init service steward: unknown"},
		{"failed", func(f *fakeService) { f.statusErr = errors.New("service in failed state") }, "", "service in failed state"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestSteward(tt.state, true) // status needs no privileges
			got, err := s.Status()
			if got != tt.want || (tt.wantErr == "") != (err == nil) || !strings.Contains(errString(err), tt.wantErr) {
				t.Errorf("got %q, %v; want %q, %q", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestErrorsCarryCodes(t *testing.T) {
	for err, code := range map[error]string{
		ErrExists:                        steward.ECONFLICT,
		ErrNotInstalled:                  steward.ENOTFOUND,
		errNotPrivileged("stop", "sudo"): steward.EFORBIDDEN,
	} {
		if got := steward.ErrorCode(err); got != code {
			t.Errorf("%v: code %q, want %q", err, got, code)
		}
	}
	if err := errUnsupported("x"); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("errUnsupported does not wrap errors.ErrUnsupported: %v", err)
	}
}

func TestNewChecksTheSpec(t *testing.T) {
	spec := testSpec()
	spec.Executable = "steward"
	if _, err := New(spec); err == nil || !strings.Contains(err.Error(), "not an absolute path") {
		t.Errorf("got %v, want an error about the path", err)
	}
}

func TestPlatform(t *testing.T) {
	s, _ := newTestSteward(running, false)
	if got := s.Platform(); got != "fake-init" {
		t.Errorf("got %q", got)
	}
	var p program
	if p.Start(nil) != nil || p.Stop(nil) != nil {
		t.Error("program's Start and Stop must do nothing")
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
