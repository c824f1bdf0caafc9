//go:build !unix

package logcap

import (
	"fmt"
	"io"
	"os"
)

// Pipe returns a pipe for a child's output; here it is os.Pipe.
func Pipe() (r, w *os.File, err error) {
	r, w, err = os.Pipe()
	if err != nil {
		return nil, nil, fmt.Errorf("logcap: pipe: %w", err)
	}
	return r, w, nil
}

// newSource returns the source for r: blocking reads, without pauses.
func newSource(r io.Reader) (source, error) { return readerSource{r}, nil }
