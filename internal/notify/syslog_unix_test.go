//go:build !windows && !plan9

package notify

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// readSyslog reads n datagrams from c.
func readSyslog(t *testing.T, c net.PacketConn, n int) []string {
	t.Helper()
	var got []string
	buf := make([]byte, 64<<10)
	for len(got) < n {
		if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
		k, _, err := c.ReadFrom(buf)
		if err != nil {
			t.Fatalf("read syslog after %d records: %v", len(got), err)
		}
		got = append(got, string(buf[:k]))
	}
	return got
}

func TestSyslog(t *testing.T) {
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	// A short directory: socket paths are limited to about 100 bytes.
	dir, err := os.MkdirTemp("", "sl")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "log")
	ux, err := net.ListenPacket("unixgram", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ux.Close()

	m := testMessage()
	for _, tt := range []struct {
		name string
		c    SyslogConfig
		conn net.PacketConn
		// the priorities: facility*8 + severity
		pri []string
		tag string
	}{
		{"udp", SyslogConfig{Network: "udp", Address: udp.LocalAddr().String(), Facility: "local3", Tag: "alerts"}, udp,
			[]string{"<154>", "<156>", "<157>"}, "alerts["},
		{"unixgram", SyslogConfig{Network: "unixgram", Address: sock}, ux,
			[]string{"<26>", "<28>", "<29>"}, "steward["},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSyslog(tt.c)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Notify(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			got := readSyslog(t, tt.conn, 3)
			wantText := []string{
				"FIRING critical disk on /var: 93% used soon full service=db key=k-123",
				"FIRING warning cpu on web-01: 91% for 5m key=k-123",
				"RESOLVED critical mem on api: back to 40% key=k-123",
			}
			for i, rec := range got {
				if !strings.HasPrefix(rec, tt.pri[i]) || !strings.Contains(rec, tt.tag) || !strings.Contains(rec, wantText[i]) {
					t.Errorf("record %d = %q, want priority %s, tag %s and %q", i, rec, tt.pri[i], tt.tag, wantText[i])
				}
			}
			// A message without alerts still says something.
			if err := s.Notify(context.Background(), Message{Key: "k0", Status: StatusFiring}); err != nil {
				t.Fatal(err)
			}
			if rec := readSyslog(t, tt.conn, 1)[0]; !strings.Contains(rec, "[FIRING] key=k0") {
				t.Errorf("empty message record = %q", rec)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s, _ := NewSyslog(SyslogConfig{Network: "unixgram", Address: sock})
	if err := s.Notify(ctx, m); err == nil {
		t.Error("Notify with a canceled context succeeded")
	}
	bad, _ := NewSyslog(SyslogConfig{Network: "unixgram", Address: filepath.Join(dir, "none")})
	if err := bad.Notify(context.Background(), m); err == nil {
		t.Error("Notify to a missing socket succeeded")
	}
}

func TestSyslogValidate(t *testing.T) {
	for _, tt := range []struct {
		c    SyslogConfig
		errs []string
	}{
		{SyslogConfig{}, nil},
		{SyslogConfig{Network: "tcp", Address: "logs:514", Facility: "local7", Tag: "x"}, nil},
		{SyslogConfig{Address: "logs:514"}, []string{"network: is required with an address"}},
		{SyslogConfig{Network: "udp"}, []string{"address: is required with network udp"}},
		{SyslogConfig{Network: "http", Facility: "nope", Tag: "a b"}, []string{"network: unknown", "facility: unknown", "tag: must not"}},
	} {
		checkProblems(t, "syslog", tt.c.Validate(), tt.errs)
	}
	if _, err := NewSyslog(SyslogConfig{Network: "x"}); err == nil {
		t.Error("NewSyslog of an invalid config succeeded")
	}
}

// TestSyslogCheckpoint: the copy of a checkpoint is one syslog record of
// key=value pairs.
func TestSyslogCheckpoint(t *testing.T) {
	m, fields := checkpointMessage()
	lines := syslogLines(m)
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "audit checkpoint seq=42 hash=abc123 ") || !strings.HasSuffix(lines[0], " key=k1") {
		t.Fatalf("syslog lines %q, want one audit checkpoint record", lines)
	}
	for _, f := range fields {
		if !strings.Contains(lines[0], f) {
			t.Errorf("syslog record %q does not hold %q", lines[0], f)
		}
	}
}
