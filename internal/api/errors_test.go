package api_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
)

// addrInUse returns the real error of listening on an address another
// listener holds, wrapped as the daemon wraps it.
func addrInUse(t *testing.T) error {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	l2, err := net.Listen("tcp", l.Addr().String())
	if err == nil {
		l2.Close()
		t.Fatal("a second listener took the address")
	}
	return fmt.Errorf("listen on %s: %w", l.Addr(), err)
}

func TestErrorResponse(t *testing.T) {
	_, notExist := os.Open(filepath.Join(t.TempDir(), "missing.yaml"))
	inUse := addrInUse(t)
	for _, tt := range []struct {
		name   string
		err    error
		status int
		code   string
		msg    string // a prefix of the message
	}{
		{"coded", steward.Errorf(steward.EINVALID, "bad"), 400, steward.EINVALID, "bad"},
		{"coded wrapped", fmt.Errorf("op: %w", steward.Errorf(steward.ECONFLICT, "taken")), 409, steward.ECONFLICT, "taken"},
		{"address in use", steward.Wrap("", inUse, "the API listens as before"), 409, steward.ECONFLICT, "the API listens as before: listen on 127.0.0.1:"},
		{"address in use, bare", inUse, 409, steward.ECONFLICT, "listen on 127.0.0.1:"},
		{"permission", steward.Wrap("", fmt.Errorf("open x: %w", fs.ErrPermission), "reload"), 403, steward.EFORBIDDEN, "reload: open x: permission denied"},
		{"os permission", fmt.Errorf("bind: %w", os.ErrPermission), 403, steward.EFORBIDDEN, "bind: permission denied"},
		{"not exist", steward.Wrap("", notExist, "reload"), 404, steward.ENOTFOUND, "reload: open "},
		{"exist", fmt.Errorf("create: %w", fs.ErrExist), 409, steward.ECONFLICT, "create: file already exists"},
		{"deadline", steward.Wrap("", context.DeadlineExceeded, "stop web"), 503, steward.EUNAVAILABLE, "stop web: context deadline exceeded"},
		{"code of the wrap wins", steward.Wrap(steward.EINVALID, notExist, "socket group"), 400, steward.EINVALID, "socket group: open "},
		{"code of a coded cause", steward.Wrap("", steward.Errorf(steward.EINVALID, "needs TLS"), "reload"), 400, steward.EINVALID, "reload: needs TLS"},
		{"coded cause before errno", steward.Wrap("", steward.Wrap(steward.EINVALID, inUse, "api.listen"), ""), 400, steward.EINVALID, "api.listen: listen on"},
		{"internal", errors.New("disk on fire"), 500, steward.EINTERNAL, "internal error"},
		{"internal wrap hides its cause", steward.Wrap("", errors.New("database is locked"), "store"), 500, steward.EINTERNAL, "internal error"},
		{"too large", fmt.Errorf("read body: %w", &http.MaxBytesError{Limit: 10}), 413, steward.ETOOLARGE, "request body is larger than 10 bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body := api.ErrorResponse(tt.err)
			if status != tt.status || body.Code != tt.code || !strings.HasPrefix(body.Message, tt.msg) {
				t.Errorf("ErrorResponse(%v) = %d %s %q, want %d %s %q…", tt.err, status, body.Code, body.Message, tt.status, tt.code, tt.msg)
			}
		})
	}
}

// TestErrorCauseLogged checks that the user gets the message and the log
// the whole chain of an error with a cause.
func TestErrorCauseLogged(t *testing.T) {
	f := newFixture(t)
	if err := os.Remove(f.configs.Current().File); err != nil {
		t.Fatal(err)
	}
	status, _, body := f.do(t, "POST", "/v1/reload", nil)
	if e := errorOf(t, body); status != 404 || e.Code != steward.ENOTFOUND || !strings.HasPrefix(e.Message, "reload: open ") {
		t.Errorf("POST /v1/reload without its file = %d %+v, want 404 not_found", status, e)
	}
	if log := f.serverLog(); !strings.Contains(log, "code=not_found") || !strings.Contains(log, "reload: open ") {
		t.Errorf("server log lacks the chain:\n%s", log)
	}
}
