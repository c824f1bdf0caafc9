package logcap

import (
	"bytes"
	"testing"
)

// BenchmarkWrite measures the formatting and file writing of 256 KiB
// batches of 100-byte lines, as Capture does for a busy stream.
func BenchmarkWrite(b *testing.B) {
	line := append(bytes.Repeat([]byte("x"), 99), '\n')
	batch := bytes.Repeat(line, bufSize/len(line))
	l, err := Open(Options{Dir: b.TempDir(), Name: "bench", MaxSize: 64 << 20, Keep: 1, Ring: 1000})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	for b.Loop() {
		if err := l.write(Stdout, batch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTail measures Tail of a full ring of 1000 lines.
func BenchmarkTail(b *testing.B) {
	line := append(bytes.Repeat([]byte("x"), 99), '\n')
	l, err := Open(Options{Dir: b.TempDir(), Name: "bench", MaxSize: 64 << 20, Ring: 1000})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	l.write(Stdout, bytes.Repeat(line, 3000))
	b.ReportAllocs()
	for b.Loop() {
		if n := len(l.Tail(1000)); n != 1000 {
			b.Fatalf("Tail: got %d lines, want 1000", n)
		}
	}
}
