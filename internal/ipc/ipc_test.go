package ipc_test

import (
	"crypto/tls"
	"net"
	"strings"
	"testing"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/ipc"
)

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := steward.ErrorCode(err); got != code {
		t.Fatalf("error %v has code %q, want %q", err, got, code)
	}
}

func TestListenTCP(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0", "localhost:0"} {
		l, err := ipc.ListenTCP(addr, nil)
		if err != nil {
			if strings.Contains(addr, "::1") {
				continue // no IPv6 here
			}
			t.Errorf("ListenTCP(%s) = %v", addr, err)
			continue
		}
		l.Close()
	}
	for _, addr := range []string{":0", "0.0.0.0:0", "[::]:0", "192.0.2.1:7070", "example.com:7070"} {
		_, err := ipc.ListenTCP(addr, nil)
		wantCode(t, err, steward.EINVALID)
		if !strings.Contains(err.Error(), "without TLS") {
			t.Errorf("ListenTCP(%s) error = %q", addr, err)
		}
	}
	_, err := ipc.ListenTCP("nonsense", nil)
	wantCode(t, err, steward.EINVALID)
	if _, err := ipc.ListenTCP("127.0.0.1:99999", nil); err == nil {
		t.Errorf("ListenTCP on port 99999 succeeded")
	}

	l, err := ipc.ListenTCP("0.0.0.0:0", &tls.Config{})
	if err != nil {
		t.Fatalf("ListenTCP with TLS: %v", err)
	}
	defer l.Close()
	if _, ok := l.Addr().(*net.TCPAddr); !ok {
		t.Errorf("TLS listener Addr = %T", l.Addr())
	}
}
