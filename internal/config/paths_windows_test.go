package config

import "testing"

func TestSocketPathWindows(t *testing.T) {
	tests := []struct {
		in, want, wantErr string
	}{
		{`\\.\pipe\steward`, `\\.\pipe\steward`, ""},
		{`\\.\PIPE\other`, `\\.\PIPE\other`, ""},
		{`\\.\pipe\`, "", `"\\\\.\\pipe\\" is not a named pipe, want e.g. \\.\pipe\steward`},
		{`C:\steward.sock`, "", `"C:\\steward.sock" is not a named pipe, want e.g. \\.\pipe\steward`},
	}
	for _, tt := range tests {
		got, err := socketPath(`C:\cfg`, tt.in)
		if gotErr := errString(err); got != tt.want || gotErr != tt.wantErr {
			t.Errorf("socketPath(%q): got %q, %q; want %q, %q", tt.in, got, gotErr, tt.want, tt.wantErr)
		}
	}
	if got, want := defaultSocket(`C:\ProgramData\steward`), `\\.\pipe\steward`; got != want {
		t.Errorf("defaultSocket: got %q, want %q", got, want)
	}
}

func TestDefaultDataDirWindows(t *testing.T) {
	t.Setenv("ProgramData", `D:\Data`)
	if got, want := defaultDataDir(), `D:\Data\steward`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	t.Setenv("ProgramData", "")
	if got, want := defaultDataDir(), `C:\ProgramData\steward`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
