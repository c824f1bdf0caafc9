package supervise

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/logcap"
	"github.com/stewardhq/steward/internal/testfs"
	"github.com/stewardhq/steward/internal/testwait"
)

// TestFullDiskIsLoud runs a service whose log is on a small tmpfs that
// fills up: the outage is an event and a condition at once, the service
// runs on, its recent lines stay in memory, and once there is space again
// a second event and a marker in the file say what was dropped, with no
// line glued to another.
func TestFullDiskIsLoud(t *testing.T) {
	logs := testfs.Tmpfs(t, "64k")
	filler := filepath.Join(logs, "filler")
	if err := os.WriteFile(filler, make([]byte, 16<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	script := `i=0; while [ $i -lt 2000 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done; ` +
		`while [ ! -f ` + dir + `/go ]; do sleep 0.02; done; echo after-0; echo after-1; exec sleep 1000`
	cfg, err := config.Parse(filepath.Join(dir, "steward.yaml"), []byte("data_dir: "+dir+"\nservices:\n  a: {command: [sh, -c, '"+script+"']}\n"), config.Registry{})
	if err != nil {
		t.Fatal(err)
	}
	rec, mon := &memRecorder{}, &conditions{}
	sup, err := New(cfg, Options{Events: rec, LogDir: logs, Tag: "t" + strconv.Itoa(os.Getpid()), Monitor: mon})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := sup.Shutdown(c); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		sup.Close()
	})
	if err := sup.Start(ctx(t), nil); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(logs, "a.log")
	down := "log of a is not being written: write " + logPath + ": no space left on device"
	waitEvents := func(want ...string) {
		t.Helper()
		testwait.NoError(t, 10*time.Second, func() error {
			if got := rec.reasons("a", steward.EventLog); !slices.Equal(got, want) {
				return fmt.Errorf("log events %q, want %q", got, want)
			}
			return nil
		})
	}
	waitEvents(down)
	waitCount(t, mon, "a logfile true: "+down, 1)
	lg, _ := sup.Log("a")
	testwait.NoError(t, 10*time.Second, func() error {
		if tail := lg.Tail(1); len(tail) != 1 || !strings.HasPrefix(tail[0].Text, "line-1999-") {
			return fmt.Errorf("last line in memory %+v, want line-1999", tail)
		}
		return nil
	})
	if st, _ := sup.Get("a"); st.State != steward.StateRunning || st.Restarts != 0 {
		t.Errorf("a during the outage: %s with %d restarts, want running", st.State, st.Restarts)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var up string
	testwait.NoError(t, 10*time.Second, func() error {
		got := rec.reasons("a", steward.EventLog)
		if len(got) != 2 || got[0] != down || !strings.HasPrefix(got[1], "log of a is being written again: ") {
			return fmt.Errorf("log events %q, want the outage and its end", got)
		}
		up = got[1]
		return nil
	})
	waitCount(t, mon, "a logfile false: "+up, 1)

	content, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, s := range strings.SplitAfter(string(content), "\n") {
		if s == "" {
			continue
		}
		ln, err := logcap.ParseLine(s) // a line glued to another does not parse
		if err != nil {
			t.Fatalf("line %q of the file: %v", s, err)
		}
		texts = append(texts, ln.Text)
	}
	kept := slices.IndexFunc(texts, func(s string) bool { return strings.HasPrefix(s, "[steward] ") })
	if kept <= 0 || !slices.Equal(texts[kept+1:], []string{"after-0", "after-1"}) {
		t.Fatalf("file: got %d lines, want lines, a marker and the 2 after it; from the marker on: %q", len(texts), texts[max(kept, 0):])
	}
	for i, s := range texts[:kept] {
		if want := fmt.Sprintf("line-%d-", i); !strings.HasPrefix(s, want) {
			t.Fatalf("line %d of the file: %q, want %s…", i, s, want)
		}
	}
	dropped := 2000 - kept
	if want := fmt.Sprintf("[steward] %d lines (", dropped); !strings.HasPrefix(texts[kept], want) {
		t.Errorf("marker %q, want it to start with %q", texts[kept], want)
	}
	if want := fmt.Sprintf("log of a is being written again: %d lines (", dropped); !strings.HasPrefix(up, want) {
		t.Errorf("event %q, want it to start with %q", up, want)
	}
}
