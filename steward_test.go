package steward_test

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/stewardhq/steward"
)

func TestError(t *testing.T) {
	cause := fmt.Errorf("open x: %w", fs.ErrPermission)
	for _, tt := range []struct {
		name      string
		err       error
		text      string // Error()
		code, msg string // ErrorCode, ErrorMessage
	}{
		{"nil", nil, "", "", ""},
		{"plain", errors.New("boom"), "boom", steward.EINTERNAL, "internal error"},
		{"coded", steward.Errorf(steward.ENOTFOUND, "no %s", "web"), "no web", steward.ENOTFOUND, "no web"},
		{"wrap", steward.Wrap(steward.EFORBIDDEN, cause, "reload"), "reload: open x: permission denied", steward.EFORBIDDEN, "reload: open x: permission denied"},
		{"wrap, no message", steward.Wrap(steward.EFORBIDDEN, cause, ""), "open x: permission denied", steward.EFORBIDDEN, "open x: permission denied"},
		{"wrap defers to a coded cause", fmt.Errorf("apply: %w", steward.Wrap("", steward.Errorf(steward.EINVALID, "bad"), "reload")),
			"apply: reload: bad", steward.EINVALID, "reload: bad"},
		{"wrap defers to an uncoded cause", steward.Wrap("", cause, "reload"), "reload: open x: permission denied", steward.EINTERNAL, "internal error"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			text := ""
			if tt.err != nil {
				text = tt.err.Error()
			}
			if text != tt.text || steward.ErrorCode(tt.err) != tt.code || steward.ErrorMessage(tt.err) != tt.msg {
				t.Errorf("got %q, %q, %q; want %q, %q, %q", text, steward.ErrorCode(tt.err), steward.ErrorMessage(tt.err), tt.text, tt.code, tt.msg)
			}
		})
	}
}

func TestWrapKeepsCause(t *testing.T) {
	err := fmt.Errorf("apply: %w", steward.Wrap(steward.ECONFLICT, fmt.Errorf("open: %w", fs.ErrPermission), "listen"))
	if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("errors.Is(%v, fs.ErrPermission) = false", err)
	}
	var e *steward.Error
	if !errors.As(err, &e) || e.Code != steward.ECONFLICT || e.Message != "listen" || e.Unwrap() == nil {
		t.Errorf("errors.As = %+v", e)
	}
	if steward.Coded(errors.New("x")) != nil || steward.Coded(steward.Wrap("", errors.New("x"), "y")) != nil {
		t.Errorf("Coded found a code where none is")
	}
}
