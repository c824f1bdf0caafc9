package logcap

import "bytes"

// ring holds the most recent formatted output of a Log. Lines are formatted
// straight into it and written to the file from it, so keeping them for Tail
// costs no copy on the capture path. It grows from a small size up to max as
// output arrives, then overwrites its oldest bytes.
type ring struct {
	buf  []byte
	max  int  // size limit of buf
	head int  // index in buf where the next byte goes
	n    int  // valid bytes, ending at head
	pend int  // bytes ending at head not yet written to the file
	lost bool // older output was overwritten: the oldest valid line may be cut
}

// ringStart is the size of a ring's first allocation.
const ringStart = 4 << 10

// reserve grows buf, while it is below max, so that m more bytes fit
// without overwriting valid bytes.
func (r *ring) reserve(m int) {
	if r.n+m > len(r.buf) && len(r.buf) < r.max {
		r.grow(m)
	}
}

func (r *ring) grow(m int) {
	size := min(max(2*len(r.buf), r.n+m, ringStart), r.max)
	nb := make([]byte, size)
	a, b := r.last(r.n)
	copy(nb[copy(nb, a):], b)
	r.buf = nb
	r.head = r.n % size
}

// putLine appends pre, text and a newline. The caller has made sure that
// pend stays within max.
func (r *ring) putLine(pre, text []byte) {
	size := len(pre) + len(text) + 1
	r.reserve(size)
	if h := r.head; h+size <= len(r.buf) {
		copy(r.buf[h:], pre)
		copy(r.buf[h+len(pre):], text)
		r.buf[h+size-1] = '\n'
		r.head = h + size
		if r.head == len(r.buf) {
			r.head = 0
		}
	} else {
		r.put(pre)
		r.put(text)
		r.put([]byte{'\n'})
	}
	r.n += size
	if r.n > len(r.buf) {
		r.n = len(r.buf)
		r.lost = true
	}
	r.pend += size
}

// putLines appends, like putLine, the whole lines at the start of p that
// fit in room bytes and before the end of buf, each after pre; it returns
// how many bytes of p it consumed. It is putLine's fast path.
func (r *ring) putLines(pre, p []byte, room int) int {
	buf := r.buf[r.head:]
	if len(r.buf) < r.max {
		room = min(room, len(r.buf)-r.n) // grow rather than overwrite
	}
	room = min(room, len(buf))
	var pre32 [32]byte
	fixed := len(pre) == len(pre32)
	if fixed {
		pre32 = [32]byte(pre)
	}
	w, c := 0, 0 // bytes written to buf, consumed from p
	for {
		q := p[c:]
		if len(q) > MaxLine {
			q = q[:MaxLine+1]
		}
		i := bytes.IndexByte(q, '\n')
		if i < 0 || w+len(pre)+i+1 > room {
			break
		}
		if fixed {
			*(*[32]byte)(buf[w:]) = pre32
		} else {
			copy(buf[w:], pre)
		}
		w += len(pre)
		w += copy(buf[w:], q[:i+1])
		c += i + 1
	}
	r.head += w
	if r.head == len(r.buf) {
		r.head = 0
	}
	r.n += w
	if r.n > len(r.buf) {
		r.n = len(r.buf)
		r.lost = true
	}
	r.pend += w
	return c
}

// put appends p, wrapping around the end of buf.
func (r *ring) put(p []byte) {
	c := copy(r.buf[r.head:], p)
	if c < len(p) {
		r.head = copy(r.buf, p[c:])
		return
	}
	r.head += c
	if r.head == len(r.buf) {
		r.head = 0
	}
}

// last returns the k bytes ending at head, as an older and a newer part.
func (r *ring) last(k int) (a, b []byte) {
	if k <= r.head {
		return r.buf[r.head-k : r.head], nil
	}
	return r.buf[len(r.buf)-(k-r.head):], r.buf[:r.head]
}

// tail returns a copy of the last n complete lines held, oldest first.
func (r *ring) tail(n int) []byte {
	a, b := r.last(r.n)
	total := len(a) + len(b)
	if total == 0 || n <= 0 {
		return nil
	}
	// The valid bytes end with a newline; the start of the n-th last line
	// follows the (n+1)-th last newline.
	start, pos := 0, total-1
	for range n {
		i := lastNewline(a, b, pos)
		if i < 0 {
			pos = -1
			break
		}
		pos = i
	}
	if pos >= 0 {
		start = pos + 1
	} else if r.lost {
		// Fewer than n newlines: the first line is complete only if
		// nothing was ever overwritten.
		start = firstNewline(a, b) + 1
	}
	out := make([]byte, 0, total-start)
	if start < len(a) {
		out = append(out, a[start:]...)
		return append(out, b...)
	}
	return append(out, b[start-len(a):]...)
}

// lastNewline returns the index in a|b of the last newline before pos, or -1.
func lastNewline(a, b []byte, pos int) int {
	if pos > len(a) {
		if i := bytes.LastIndexByte(b[:pos-len(a)], '\n'); i >= 0 {
			return len(a) + i
		}
		pos = len(a)
	}
	return bytes.LastIndexByte(a[:pos], '\n')
}

// firstNewline returns the index in a|b of the first newline; the valid
// bytes always end with one.
func firstNewline(a, b []byte) int {
	if i := bytes.IndexByte(a, '\n'); i >= 0 {
		return i
	}
	return len(a) + bytes.IndexByte(b, '\n')
}
