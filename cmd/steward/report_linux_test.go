package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestReportXLSXToATerminal: a binary workbook is not written to a
// terminal; the command says to use --out or a redirection.
func TestReportXLSXToATerminal(t *testing.T) {
	_, slave := openPTY(t)
	var stderr bytes.Buffer
	code := execute([]string{"--socket", "/nonexistent.sock", "report", "-o", "xlsx"}, slave, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "use --out FILE, or redirect standard output") {
		t.Errorf("report -o xlsx to a terminal: exit %d, stderr %q; want 2 and a hint", code, stderr.String())
	}
}
