package check

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/osservice"
)

func TestOSService(t *testing.T) {
	tests := []struct {
		state string
		err   error
		want  Status
		msg   string
	}{
		{state: osservice.StateRunning, want: OK, msg: "sshd.service is running (active/running)"},
		{state: osservice.StateStarting, want: Warning, msg: "is starting"},
		{state: osservice.StateStopped, want: Critical, msg: "is stopped"},
		{state: osservice.StateFailed, want: Critical, msg: "is failed"},
		{err: steward.Errorf(steward.ENOTFOUND, "no service %q", "sshd.service"), want: Critical, msg: "no service"},
		{err: errors.New("dbus: connection refused"), want: Unknown, msg: "connection refused"},
	}
	for _, tt := range tests {
		p := &OSService{Name: "sshd.service", Get: func(context.Context, string) (osservice.Service, error) {
			return osservice.Service{Name: "sshd.service", State: tt.state, Detail: "active/" + tt.state}, tt.err
		}}
		got := p.Run(context.Background())
		if got.Status != tt.want || !strings.Contains(got.Message, tt.msg) {
			t.Errorf("state %q err %v: got %s %q, want %s containing %q", tt.state, tt.err, got.Status, got.Message, tt.want, tt.msg)
		}
	}
}

func TestOSServiceWithoutManager(t *testing.T) {
	if _, err := os.Stat("/run/systemd/system"); err == nil {
		t.Skip("systemd runs here; this test is about a machine without it")
	}
	got := (&OSService{Name: "sshd.service"}).Run(context.Background())
	if got.Status != Unknown || !strings.Contains(got.Message, "systemd") {
		t.Errorf("without systemd: got %s %q, want UNKNOWN naming systemd", got.Status, got.Message)
	}
}
