//go:build linux

package main

import (
	"path/filepath"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestSmoke writes 1,000 rows as the benchmark does and checks the file;
// it measures nothing.
func TestSmoke(t *testing.T) {
	file := filepath.Join(t.TempDir(), "out.xlsx")
	if err := Write(1000, file); err != nil {
		t.Fatal(err)
	}
	wb, err := excelize.OpenFile(file)
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	rows, err := wb.GetRows("Data")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1000 || len(rows[999]) != 10 || rows[999][2] != "item-999" {
		t.Errorf("the file has %d rows, the last %v; want 1000 of 10 values ending in item-999", len(rows), rows[len(rows)-1])
	}
}
