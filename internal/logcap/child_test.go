package logcap

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/testwait"
)

func TestConcurrentStreams(t *testing.T) {
	testwait.NoLeak(t)
	l := open(t, Options{Ring: 100, MaxSize: 64 << 10, Keep: 100, Now: time.Now})
	lines, unsubscribe := l.Subscribe()
	var wg sync.WaitGroup
	const n = 5000
	received := 0 // lines received or reported missed
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ln := range lines {
			received += 1 + ln.Missed
		}
	}()
	var cwg sync.WaitGroup
	for _, stream := range []string{Stdout, Stderr} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cwg.Add(2)
		go func() {
			defer cwg.Done()
			if err := l.Capture(r, stream); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer cwg.Done()
			defer w.Close()
			for i := range n {
				fmt.Fprintf(w, "%s line %d of a concurrent test\n", stream, i)
			}
		}()
		go l.Tail(10) // readers run meanwhile
	}
	cwg.Wait()
	unsubscribe()
	wg.Wait()
	// Lines missed at the very end are never reported.
	if received == 0 || received > 2*n {
		t.Errorf("subscriber got %d lines, want up to %d", received, 2*n)
	}
	files, _ := filepath.Glob(l.Path() + "*")
	count := map[string]int{}
	for _, f := range files {
		for _, s := range fileTexts(t, f) {
			stream, _, _ := strings.Cut(s, " ")
			if !strings.HasSuffix(s, " of a concurrent test") {
				t.Fatalf("mixed line %q", s)
			}
			count[stream]++
		}
	}
	if count[Stdout] != n || count[Stderr] != n {
		t.Errorf("files hold %v lines, want %d of each", count, n)
	}
}

func TestChildProcess(t *testing.T) {
	for _, p := range []struct {
		name string
		pipe func() (r, w *os.File, err error)
	}{{"os.Pipe", os.Pipe}, {"Pipe", Pipe}} {
		t.Run(p.name, func(t *testing.T) {
			testwait.NoLeak(t)
			l := open(t, Options{Ring: 100})
			// Pauses make the capture wait for an idle stream.
			child(t, l, p.pipe, `echo one; sleep 0.05; printf 'two\nthr'; sleep 0.05; echo ee; echo err >&2; sleep 0.05; printf last`)
			got := texts(l.Tail(100))
			want := []string{"one", "two", "three", "err", "last"}
			if !equal(got, want) && !equal(got, []string{"one", "two", "err", "three", "last"}) {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func TestChildProcessManySmallWrites(t *testing.T) {
	for _, p := range []struct {
		name string
		pipe func() (r, w *os.File, err error)
	}{{"os.Pipe", os.Pipe}, {"Pipe", Pipe}} {
		t.Run(p.name, func(t *testing.T) {
			l := open(t, Options{Ring: 10, MaxSize: 1 << 20, Keep: 20})
			const fast, size = "a fast line of output from a busy child process", 4000000
			// Many small writes, then a fast stream, then quiet.
			child(t, l, p.pipe, `i=0; while [ $i -lt 2000 ]; do echo "small $i"; i=$((i+1)); done; `+
				`yes '`+fast+`' | head -c `+fmt.Sprint(size)+`; echo; sleep 0.02; echo end`)
			last := fast[:size%(len(fast)+1)]
			if got, want := texts(l.Tail(2)), []string{last, "end"}; !equal(got, want) {
				t.Errorf("Tail: got %q, want %q", got, want)
			}
			files, _ := filepath.Glob(l.Path() + "*")
			var n, small int
			for _, f := range files {
				for _, s := range fileTexts(t, f) {
					n++
					if strings.HasPrefix(s, "small ") {
						small++
					}
				}
			}
			if want := 2000 + (size+len(fast))/(len(fast)+1) + 1; n != want || small != 2000 {
				t.Errorf("files hold %d lines (%d small), want %d (2000 small)", n, small, want)
			}
		})
	}
}
