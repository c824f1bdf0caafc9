package logcap

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/testwait"
)

func TestTail(t *testing.T) {
	l := open(t, Options{Ring: 5})
	if got := l.Tail(3); got != nil {
		t.Errorf("Tail of empty log: got %q", texts(got))
	}
	l.Capture(strings.NewReader("1\n2\n3\n"), Stdout)
	for _, tc := range []struct {
		n    int
		want []string
	}{
		{-1, nil},
		{0, nil},
		{1, []string{"3"}},
		{2, []string{"2", "3"}},
		{3, []string{"1", "2", "3"}},
		{4, []string{"1", "2", "3"}},
	} {
		if got := texts(l.Tail(tc.n)); !equal(got, tc.want) {
			t.Errorf("Tail(%d): got %q, want %q", tc.n, got, tc.want)
		}
	}
	l.Capture(strings.NewReader("4\n5\n6\n7\n"), Stdout)
	if got, want := texts(l.Tail(10)), []string{"3", "4", "5", "6", "7"}; !equal(got, want) {
		t.Errorf("Tail(10) with Ring 5: got %q, want %q", got, want)
	}
	if got := (&Log{}).Tail(5); got != nil {
		t.Errorf("Tail with Ring 0: got %q", texts(got))
	}
}

func TestTailKeepsWhatFitsInRingBytes(t *testing.T) {
	l := open(t, Options{Ring: 100000, RingBytes: 1})
	var in strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&in, "line %05d\n", i)
	}
	l.Capture(strings.NewReader(in.String()), Stdout)
	got := l.Tail(100000)
	// minRing bytes, 43 bytes a line.
	if n := len(got); n < minRing/43-1 || n > minRing/43 {
		t.Fatalf("Tail: got %d lines, want about %d", n, minRing/43)
	}
	for i, ln := range got {
		if want := fmt.Sprintf("line %05d", 20000-len(got)+i); ln.Text != want {
			t.Fatalf("Tail[%d]: got %q, want %q", i, ln.Text, want)
		}
	}
}

func TestSubscribe(t *testing.T) {
	testwait.NoLeak(t)
	l := open(t, Options{})
	lines, unsubscribe := l.Subscribe()
	other, unsubscribeOther := l.Subscribe()
	defer unsubscribeOther()
	l.Capture(strings.NewReader("a\nb\n"), Stdout)
	l.Capture(strings.NewReader("c"), Stderr)
	want := []Line{
		{Time: t0.Truncate(time.Millisecond), Stream: Stdout, Text: "a"},
		{Time: t0.Truncate(time.Millisecond), Stream: Stdout, Text: "b"},
		{Time: t0.Truncate(time.Millisecond), Stream: Stderr, Text: "c"},
	}
	for _, ch := range []<-chan Line{lines, other} {
		for _, w := range want {
			if got := <-ch; !same(got, w) {
				t.Errorf("got %+v, want %+v", got, w)
			}
		}
	}
	unsubscribe()
	unsubscribe() // a second call does nothing
	if _, ok := <-lines; ok {
		t.Error("channel open after unsubscribe")
	}
	l.Capture(strings.NewReader("d\n"), Stdout)
	if got := <-other; got.Text != "d" {
		t.Errorf("other subscriber: got %q, want %q", got.Text, "d")
	}
}

func TestSlowSubscriberDoesNotBlock(t *testing.T) {
	l := open(t, Options{Ring: 10})
	lines, unsubscribe := l.Subscribe()
	defer unsubscribe()
	const n = 3000
	var in strings.Builder
	for i := range n {
		fmt.Fprintf(&in, "%d\n", i)
	}
	done := make(chan error)
	go func() { done <- l.Capture(strings.NewReader(in.String()), Stdout) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Capture blocked on a subscriber that does not read")
	}
	for i := range subscriberBuffer {
		if got, want := (<-lines).Text, fmt.Sprint(i); got != want {
			t.Fatalf("line %d: got %q, want %q", i, got, want)
		}
	}
	l.Capture(strings.NewReader("next\n"), Stdout)
	got := <-lines
	if got.Text != "next" || got.Missed != n-subscriberBuffer {
		t.Errorf("got %q missing %d, want %q missing %d", got.Text, got.Missed, "next", n-subscriberBuffer)
	}
}

func TestRing(t *testing.T) {
	r := ring{max: 32}
	pre := []byte("p ")
	for i := range 10 {
		r.putLine(pre, []byte(fmt.Sprint(i)))
		r.pend = 0
	}
	// 10 lines of 4 bytes in 32 bytes: the last 8, but whether the
	// oldest is whole cannot be known once output was overwritten.
	if got, want := string(r.tail(100)), "p 3\np 4\np 5\np 6\np 7\np 8\np 9\n"; got != want {
		t.Errorf("tail: got %q, want %q", got, want)
	}
	r.putLine(pre, []byte("long"))
	r.pend = 0
	// The oldest line, cut by the wrap, is left out.
	if got, want := string(r.tail(100)), "p 4\np 5\np 6\np 7\np 8\np 9\np long\n"; got != want {
		t.Errorf("tail after a wrap: got %q, want %q", got, want)
	}
	if got, want := string(r.tail(2)), "p 9\np long\n"; got != want {
		t.Errorf("tail(2): got %q, want %q", got, want)
	}
	a, b := r.last(r.n)
	if got := len(a) + len(b); got != 32 {
		t.Errorf("valid bytes: got %d, want 32", got)
	}
	if !bytes.HasSuffix(append(append([]byte{}, a...), b...), []byte("p long\n")) {
		t.Errorf("last: got %q %q", a, b)
	}
}
