package subject

import (
	"os"
	"runtime"
	"testing"
)

func TestReadMemory(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	m, err := ReadMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS <= 0 || m.Anon <= 0 || m.File <= 0 || m.Anon+m.File > m.RSS+(64<<10) {
		t.Errorf("ReadMemory = %+v: want positive parts that add up to about VmRSS", m)
	}
	if _, err := ReadMemory(-1); err == nil {
		t.Error("ReadMemory(-1) = nil error")
	}
}

func TestBinaryGiven(t *testing.T) {
	if got, err := Binary("/x/steward", t.TempDir()); got != "/x/steward" || err != nil {
		t.Errorf("Binary(given) = %q, %v", got, err)
	}
}

func TestCPUSeconds(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	if s, err := CPUSeconds(os.Getpid()); err != nil || s < 0 {
		t.Errorf("CPUSeconds = %v, %v", s, err)
	}
	if _, err := CPUSeconds(-1); err == nil {
		t.Error("CPUSeconds(-1) = nil error")
	}
}
