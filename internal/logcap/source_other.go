//go:build !unix

package logcap

import "io"

// newSource returns the source for r: blocking reads, without pauses.
func newSource(r io.Reader) (source, error) { return readerSource{r}, nil }
