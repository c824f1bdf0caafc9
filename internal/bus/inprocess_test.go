package bus

import (
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/testwait"
)

// TestReadAhead: the server's writes into the pipe complete before the
// client reads them, and come out in order; deadlines, a change of the
// deadline, the server's close and the client's close end a read.
func TestReadAhead(t *testing.T) {
	server, client := net.Pipe()
	r := newReadAhead(client)
	defer r.Close()
	var wrote atomic.Int32
	go func() {
		for _, s := range []string{"one ", "two ", "three"} {
			if _, err := server.Write([]byte(s)); err != nil {
				return
			}
			wrote.Add(1)
		}
	}()
	// A bare net.Pipe would hold the first write until a read.
	testwait.For(t, 5*time.Second, "3 writes done before any read", func() bool { return wrote.Load() == 3 })
	got := make([]byte, 0, 16)
	buf := make([]byte, 3)
	for len(got) < len("one two three") {
		n, err := r.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != "one two three" {
		t.Errorf("read %q", got)
	}

	r.SetReadDeadline(time.Now().Add(-time.Second))
	if _, err := r.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read after the deadline: %v", err)
	}
	r.SetDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := r.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read until the deadline: %v", err)
	}
	if _, err := r.Write([]byte("x")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("write after SetDeadline's deadline: %v", err)
	}
	r.SetDeadline(time.Time{})
	done := make(chan error, 1)
	go func() {
		_, err := r.Read(buf)
		done <- err
	}()
	r.SetReadDeadline(time.Now().Add(-time.Second)) // a waiting read sees it
	if err := <-done; !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("waiting read after a new deadline: %v", err)
	}
	r.SetReadDeadline(time.Time{})
	go func() {
		_, err := r.Read(buf)
		done <- err
	}()
	server.Close()
	if err := <-done; !errors.Is(err, io.EOF) {
		t.Errorf("read after the server closed: %v, want EOF", err)
	}
}

// TestReadAheadClose: closing the conn ends a waiting read, and the
// reader goroutine while it holds a chunk nobody takes.
func TestReadAheadClose(t *testing.T) {
	server, client := net.Pipe()
	defer server.Close()
	r := newReadAhead(client)
	go func() {
		for { // until the pipe closes
			if _, err := server.Write(make([]byte, 100)); err != nil {
				return
			}
		}
	}()
	testwait.For(t, 5*time.Second, "the read-ahead full", func() bool { return len(r.chunks) == readAheadChunks })
	r.Close()
	// The reader, blocked on a full read-ahead, ends; what it had read
	// still comes out, then the error.
	var err error
	for n := 0; err == nil; n++ {
		if n > readAheadChunks {
			t.Fatal("more chunks than the read-ahead holds")
		}
		_, err = r.Read(make([]byte, 100))
	}
	if !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("read after Close: %v, want the pipe closed", err)
	}
}
