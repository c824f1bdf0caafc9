package bus

import (
	"net"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// readAheadChunks is how many reads from the server may wait for steward's
// connection to take them.
const readAheadChunks = 64

// inProcess gives steward's connection its in-process pipe to the server,
// read ahead.
type inProcess struct{ ns *server.Server }

// InProcessConn implements nats.InProcessConnProvider.
func (p inProcess) InProcessConn() (net.Conn, error) {
	c, err := p.ns.InProcessConn()
	if err != nil {
		return nil, err
	}
	return newReadAhead(c), nil
}

// readAhead is a net.Conn whose reads are done ahead by a goroutine of its
// own. The server's in-process connection is a net.Pipe, which has no
// buffer: each write of the server waits until the client has read all of
// it, so the server stalls on every flush while the client parses what it
// got before. Reading ahead lets the server's writes complete at once, as
// a socket's buffer would, and publishing in-process gets faster than over
// loopback TCP instead of slower (bench/bus). Writes go to the pipe as
// they are; the client buffers them already.
type readAhead struct {
	net.Conn
	chunks chan []byte   // what was read, in order; closed when the pipe fails
	done   chan struct{} // closed by Close
	once   sync.Once
	err    error  // why the pipe failed; set before chunks closes
	rest   []byte // the part of a chunk not read yet

	mu       sync.Mutex
	deadline time.Time
	changed  chan struct{} // closed and replaced when the deadline changes
}

func newReadAhead(c net.Conn) *readAhead {
	r := &readAhead{Conn: c, chunks: make(chan []byte, readAheadChunks), done: make(chan struct{}), changed: make(chan struct{})}
	go r.fill()
	return r
}

// fill reads the pipe until it fails or the conn is closed.
func (r *readAhead) fill() {
	defer close(r.chunks)
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Conn.Read(buf)
		if n > 0 {
			select {
			case r.chunks <- append([]byte(nil), buf[:n]...):
			case <-r.done:
				r.err = net.ErrClosed
				return
			}
		}
		if err != nil {
			r.err = err
			return
		}
	}
}

// Read returns what was read ahead, waiting for it until the read
// deadline.
func (r *readAhead) Read(p []byte) (int, error) {
	for len(r.rest) == 0 {
		r.mu.Lock()
		deadline, changed := r.deadline, r.changed
		r.mu.Unlock()
		var expired <-chan time.Time
		if !deadline.IsZero() {
			d := time.Until(deadline)
			if d <= 0 {
				return 0, os.ErrDeadlineExceeded
			}
			t := time.NewTimer(d)
			defer t.Stop()
			expired = t.C
		}
		select {
		case c, ok := <-r.chunks:
			if !ok {
				return 0, r.err
			}
			r.rest = c
		case <-expired:
			return 0, os.ErrDeadlineExceeded
		case <-changed:
		}
	}
	n := copy(p, r.rest)
	r.rest = r.rest[n:]
	return n, nil
}

// SetReadDeadline sets the deadline of reads, those waiting included.
func (r *readAhead) SetReadDeadline(t time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deadline = t
	close(r.changed)
	r.changed = make(chan struct{})
	return nil
}

// SetDeadline sets the read and write deadlines.
func (r *readAhead) SetDeadline(t time.Time) error {
	r.SetReadDeadline(t)
	return r.Conn.SetWriteDeadline(t)
}

// Close closes the pipe; a Read waiting returns.
func (r *readAhead) Close() error {
	r.once.Do(func() { close(r.done) })
	return r.Conn.Close()
}
