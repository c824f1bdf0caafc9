package osservice

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-systemd/v22/dbus"
	godbus "github.com/godbus/dbus/v5"

	"github.com/stewardhq/steward"
)

// fakeSystemd is a systemd over D-Bus with the units it is given.
type fakeSystemd struct {
	units   map[string]map[string]any // properties by unit name
	pids    map[string]uint32
	listErr error
	propErr error
	jobErr  error
	result  string // of every job; "" never ends
	jobs    []string
	closed  bool
}

func (f *fakeSystemd) ListUnitsByPatternsContext(_ context.Context, states, patterns []string) ([]dbus.UnitStatus, error) {
	if f.listErr != nil {
		return nil, f.listErr
	}
	if len(states) != 0 || !reflect.DeepEqual(patterns, []string{"*.service"}) {
		return nil, errors.New("unexpected filter")
	}
	var out []dbus.UnitStatus
	for name, p := range f.units {
		out = append(out, dbus.UnitStatus{Name: name, Description: p["Description"].(string),
			LoadState: p["LoadState"].(string), ActiveState: p["ActiveState"].(string), SubState: p["SubState"].(string)})
	}
	return out, nil
}

func (f *fakeSystemd) GetUnitPropertiesContext(_ context.Context, unit string) (map[string]any, error) {
	if f.propErr != nil {
		return nil, f.propErr
	}
	if p, ok := f.units[unit]; ok {
		return p, nil
	}
	return map[string]any{"Id": unit, "LoadState": "not-found", "ActiveState": "inactive", "SubState": "dead"}, nil
}

func (f *fakeSystemd) GetUnitTypePropertiesContext(_ context.Context, unit, unitType string) (map[string]any, error) {
	if unitType != "Service" {
		return nil, errors.New("unexpected unit type " + unitType)
	}
	return map[string]any{"MainPID": f.pids[unit]}, nil
}

func (f *fakeSystemd) job(verb string) func(context.Context, string, string, chan<- string) (int, error) {
	return func(_ context.Context, name, mode string, ch chan<- string) (int, error) {
		if f.jobErr != nil {
			return 0, f.jobErr
		}
		f.jobs = append(f.jobs, verb+" "+name+" "+mode)
		if f.result != "" {
			ch <- f.result
		}
		return 1, nil
	}
}

func (f *fakeSystemd) StartUnitContext(ctx context.Context, name, mode string, ch chan<- string) (int, error) {
	return f.job("start")(ctx, name, mode, ch)
}

func (f *fakeSystemd) StopUnitContext(ctx context.Context, name, mode string, ch chan<- string) (int, error) {
	return f.job("stop")(ctx, name, mode, ch)
}

func (f *fakeSystemd) RestartUnitContext(ctx context.Context, name, mode string, ch chan<- string) (int, error) {
	return f.job("restart")(ctx, name, mode, ch)
}

func (f *fakeSystemd) Close() { f.closed = true }

func unitProps(id, description, load, active, sub, fileState string) map[string]any {
	return map[string]any{"Id": id, "Description": description, "LoadState": load,
		"ActiveState": active, "SubState": sub, "UnitFileState": fileState}
}

func newFakeSystemd() *fakeSystemd {
	return &fakeSystemd{
		units: map[string]map[string]any{
			"sshd.service":    unitProps("sshd.service", "OpenSSH server", "loaded", "active", "running", "enabled"),
			"cron.service":    unitProps("cron.service", "Regular background jobs", "loaded", "failed", "failed", "enabled"),
			"ghost.service":   unitProps("ghost.service", "", "not-found", "inactive", "dead", ""),
			"getty@1.service": unitProps("getty@1.service", "Getty on tty1", "loaded", "activating", "start", "static"),
		},
		pids:   map[string]uint32{"sshd.service": 812},
		result: "done",
	}
}

// testManager connects a Manager to fake through connectSystemd.
func testManager(t *testing.T, fake *fakeSystemd) *Manager {
	t.Helper()
	sd, err := connectSystemd(context.Background(), t.TempDir(), func(context.Context) (systemdConn, error) { return fake, nil })
	if err != nil {
		t.Fatal(err)
	}
	return &Manager{m: sd}
}

func TestConnectWithoutSystemd(t *testing.T) {
	_, err := connectSystemd(context.Background(), "/nonexistent/systemd/system", nil)
	if steward.ErrorCode(err) != steward.EUNAVAILABLE || !strings.Contains(err.Error(), "systemd is not running on this machine") {
		t.Errorf("got %v (code %q), want EUNAVAILABLE saying systemd is not running", err, steward.ErrorCode(err))
	}
	// And on this machine, whichever it is:
	m, err := Connect(context.Background())
	if haveSystemd() {
		if err == nil {
			m.Close()
		}
		t.Skip("systemd runs here")
	}
	if steward.ErrorCode(err) != steward.EUNAVAILABLE {
		t.Errorf("Connect without systemd: got %v", err)
	}
}

func TestConnectDialFails(t *testing.T) {
	_, err := connectSystemd(context.Background(), t.TempDir(), func(context.Context) (systemdConn, error) {
		return nil, errors.New("no bus")
	})
	if err == nil || !strings.Contains(err.Error(), "connect to systemd over D-Bus: no bus") {
		t.Errorf("got %v", err)
	}
}

func TestSystemdList(t *testing.T) {
	fake := newFakeSystemd()
	m := testManager(t, fake)
	got, err := m.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []Service{
		{Name: "cron.service", Description: "Regular background jobs", State: StateFailed, Detail: "failed/failed"},
		{Name: "getty@1.service", Description: "Getty on tty1", State: StateStarting, Detail: "activating/start"},
		{Name: "sshd.service", Description: "OpenSSH server", State: StateRunning, Detail: "active/running"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if m.Close(); !fake.closed {
		t.Error("Close did not close the connection")
	}
	fake.listErr = godbus.Error{Name: "org.freedesktop.DBus.Error.AccessDenied", Body: []any{"denied"}}
	if _, err := m.List(context.Background()); steward.ErrorCode(err) != steward.EFORBIDDEN {
		t.Errorf("access denied: got %v", err)
	}
}

func TestSystemdGet(t *testing.T) {
	m := testManager(t, newFakeSystemd())
	for _, tt := range []struct {
		name     string
		want     Service
		wantCode string
	}{
		{"sshd", Service{Name: "sshd.service", Description: "OpenSSH server", State: StateRunning,
			Detail: "active/running", PID: 812, Startup: "enabled"}, ""},
		{"cron.service", Service{Name: "cron.service", Description: "Regular background jobs", State: StateFailed,
			Detail: "failed/failed", Startup: "enabled"}, ""},
		{"ghost", Service{}, steward.ENOTFOUND},
		{"nosuch", Service{}, steward.ENOTFOUND},
		{"", Service{}, steward.EINVALID},
		{"a/b", Service{}, steward.EINVALID},
		{"bad\x00name", Service{}, steward.EINVALID},
	} {
		got, err := m.Get(context.Background(), tt.name)
		if got != tt.want || steward.ErrorCode(err) != tt.wantCode {
			t.Errorf("Get(%q): got %+v, %v; want %+v, code %q", tt.name, got, err, tt.want, tt.wantCode)
		}
	}
}

func TestSystemdGetErrors(t *testing.T) {
	fake := newFakeSystemd()
	m := testManager(t, fake)
	for _, tt := range []struct {
		err      error
		wantCode string
	}{
		{godbus.Error{Name: "org.freedesktop.systemd1.NoSuchUnit", Body: []any{"no such unit"}}, steward.ENOTFOUND},
		{godbus.Error{Name: "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"}, steward.EFORBIDDEN},
		{godbus.Error{Name: "org.freedesktop.DBus.Error.NoReply"}, steward.EINTERNAL},
		{errors.New("connection closed"), steward.EINTERNAL},
	} {
		fake.propErr = tt.err
		_, err := m.Get(context.Background(), "sshd")
		if steward.ErrorCode(err) != tt.wantCode {
			t.Errorf("%v: got %v (code %q), want code %q", tt.err, err, steward.ErrorCode(err), tt.wantCode)
		}
	}
	// A unit without an Id property is named as asked.
	fake.propErr = nil
	fake.units["bare.socket"] = map[string]any{"LoadState": "loaded", "ActiveState": "inactive", "SubState": "dead"}
	if got, err := m.Get(context.Background(), "bare.socket"); err != nil || got.Name != "bare.socket" || got.State != StateStopped {
		t.Errorf("bare.socket: got %+v, %v", got, err)
	}
}

func TestSystemdActions(t *testing.T) {
	ctx := context.Background()
	fake := newFakeSystemd()
	m := testManager(t, fake)
	if err := m.Start(ctx, "sshd"); err != nil {
		t.Error(err)
	}
	if err := m.Stop(ctx, "cron.service"); err != nil {
		t.Error(err)
	}
	if err := m.Restart(ctx, "getty@1"); err != nil {
		t.Error(err)
	}
	want := []string{"start sshd.service replace", "stop cron.service replace", "restart getty@1.service replace"}
	if !reflect.DeepEqual(fake.jobs, want) {
		t.Errorf("jobs: got %q, want %q", fake.jobs, want)
	}

	if err := m.Start(ctx, "nosuch"); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("start of an unknown unit: got %v", err)
	}
	if err := m.Start(ctx, ""); steward.ErrorCode(err) != steward.EINVALID {
		t.Errorf("start of no name: got %v", err)
	}

	fake.result = "failed"
	if err := m.Start(ctx, "sshd"); err == nil || !strings.Contains(err.Error(), `start sshd.service: systemd's job ended with "failed"; see journalctl -u sshd.service`) {
		t.Errorf("failed job: got %v", err)
	}

	fake.result = ""
	tctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := m.Stop(tctx, "sshd"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("job that never ends: got %v", err)
	}

	fake.jobErr = godbus.Error{Name: "org.freedesktop.DBus.Error.AccessDenied"}
	if err := m.Restart(ctx, "sshd"); steward.ErrorCode(err) != steward.EFORBIDDEN || !strings.Contains(err.Error(), "run as root") {
		t.Errorf("access denied: got %v", err)
	}
}

func TestUnitName(t *testing.T) {
	for in, want := range map[string]string{
		"sshd":              "sshd.service",
		"sshd.service":      "sshd.service",
		"docker.socket":     "docker.socket",
		"multi-user.target": "multi-user.target",
		"getty@tty1":        "getty@tty1.service",
		"my.app":            "my.app.service",
		".hidden":           ".hidden.service",
	} {
		if got := unitName(in); got != want {
			t.Errorf("unitName(%q): got %q, want %q", in, got, want)
		}
	}
}

func TestSystemdState(t *testing.T) {
	for in, want := range map[string]string{
		"active": StateRunning, "reloading": StateRunning, "inactive": StateStopped, "activating": StateStarting,
		"deactivating": StateStopping, "failed": StateFailed, "maintenance": StateUnknown,
	} {
		if got := systemdState(in); got != want {
			t.Errorf("systemdState(%q): got %q, want %q", in, got, want)
		}
	}
}

func TestWithTimeout(t *testing.T) {
	ctx, cancel := withTimeout(context.Background())
	defer cancel()
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > actionTimeout {
		t.Errorf("no deadline of at most %v: %v", actionTimeout, d)
	}
	parent, pcancel := context.WithTimeout(context.Background(), time.Second)
	defer pcancel()
	ctx, cancel = withTimeout(parent)
	defer cancel()
	if d, _ := ctx.Deadline(); time.Until(d) > time.Second {
		t.Errorf("the caller's deadline was replaced: %v", d)
	}
}
