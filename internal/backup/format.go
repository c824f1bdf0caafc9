package backup

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/stewardhq/steward/internal/config"
)

// maxTarget bounds a symlink's target read from a zip archive.
const maxTarget = 4096

// sink is an archive being written.
type sink interface {
	// add writes e; for a file, r gives exactly e.Size bytes.
	add(e Entry, r io.Reader) error
	// Close ends the archive format, not the stream below it.
	Close() error
}

// stack is the stream an archive is written through: its format over
// its compression over its encryption over the file.
type stack struct {
	sink    sink
	closers []io.Closer // innermost first: compression, then encryption
	buf     *bufio.Writer
	hash    hash.Hash
	size    int64
}

func (s *stack) Write(p []byte) (int, error) {
	n, err := s.buf.Write(p)
	s.size += int64(n)
	return n, err
}

// newStack starts an archive of format, encrypted to recipients if any,
// written to f.
func newStack(f *os.File, format string, recipients []age.Recipient) (*stack, error) {
	s := &stack{hash: sha256.New()}
	s.buf = bufio.NewWriterSize(io.MultiWriter(f, s.hash), 256<<10)
	var w io.Writer = s
	if len(recipients) > 0 {
		aw, err := age.Encrypt(w, recipients...)
		if err != nil {
			return nil, fmt.Errorf("encrypt: %w", err)
		}
		s.closers = append(s.closers, aw)
		w = aw
	}
	switch format {
	case config.FormatTarZstd:
		zw, err := zstd.NewWriter(w)
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, zw)
		s.sink = tarSink{tar.NewWriter(zw)}
	case config.FormatTarGzip:
		gw := gzip.NewWriter(w)
		s.closers = append(s.closers, gw)
		s.sink = tarSink{tar.NewWriter(gw)}
	case config.FormatZip:
		zw := zip.NewWriter(w)
		zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
			return flate.NewWriter(out, flate.DefaultCompression)
		})
		s.sink = zipSink{zw}
	default:
		return nil, fmt.Errorf("unknown archive format %q", format)
	}
	return s, nil
}

// close ends the archive and flushes it to the file; it returns the
// archive's SHA-256.
func (s *stack) close() (string, error) {
	if err := s.sink.Close(); err != nil {
		return "", err
	}
	for i := len(s.closers) - 1; i >= 0; i-- {
		if err := s.closers[i].Close(); err != nil {
			return "", err
		}
	}
	if err := s.buf.Flush(); err != nil {
		return "", err
	}
	return hex.EncodeToString(s.hash.Sum(nil)), nil
}

type tarSink struct{ w *tar.Writer }

func (t tarSink) add(e Entry, r io.Reader) error {
	h := &tar.Header{Name: e.Name, Mode: int64(e.Mode), ModTime: e.MTime, Format: tar.FormatPAX}
	switch e.Type {
	case typeDir:
		h.Typeflag, h.Name = tar.TypeDir, e.Name+"/"
	case typeSymlink:
		h.Typeflag, h.Linkname = tar.TypeSymlink, e.Target
	default:
		h.Typeflag, h.Size = tar.TypeReg, e.Size
	}
	if err := t.w.WriteHeader(h); err != nil {
		return err
	}
	if e.Type != typeFile {
		return nil
	}
	_, err := io.Copy(t.w, r)
	return err
}

func (t tarSink) Close() error { return t.w.Close() }

type zipSink struct{ w *zip.Writer }

func (z zipSink) add(e Entry, r io.Reader) error {
	h := &zip.FileHeader{Name: e.Name, Modified: e.MTime, Method: zip.Deflate}
	mode := fs.FileMode(e.Mode)
	switch e.Type {
	case typeDir:
		h.Name, h.Method, mode = e.Name+"/", zip.Store, mode|fs.ModeDir
	case typeSymlink:
		h.Method, mode, r = zip.Store, mode|fs.ModeSymlink, strings.NewReader(e.Target)
	}
	h.SetMode(mode)
	w, err := z.w.CreateHeader(h)
	if err != nil || e.Type == typeDir {
		return err
	}
	_, err = io.Copy(w, r)
	return err
}

func (z zipSink) Close() error { return z.w.Close() }

// source is an archive being read, entry by entry.
type source interface {
	// next returns the next entry and, for a file, its content; io.EOF
	// after the last. An entry of a type steward does not write has its
	// type described in Type.
	next() (Entry, io.Reader, error)
}

// reading is an open archive: its entries, and the digest of its file.
type reading struct {
	src     source
	content bool // false: encrypted and no identity; src is nil
	file    *os.File
	tee     io.Reader // tar: the file's bytes as they are read, hashed
	hash    hash.Hash
	closers []func()
}

// open opens the archive of in for reading, decrypting it with ids.
func open(in *Info, ids []age.Identity) (*reading, error) {
	f, err := os.Open(in.path())
	if err != nil {
		return nil, fmt.Errorf("open archive: %w", err)
	}
	rd := &reading{file: f, hash: sha256.New(), content: !in.Encrypted || len(ids) > 0}
	rd.tee = io.TeeReader(bufio.NewReaderSize(f, 256<<10), rd.hash)
	if !rd.content {
		return rd, nil
	}
	if in.Format == config.FormatZip {
		err = rd.openZip(in, ids)
	} else {
		err = rd.openTar(in, ids)
	}
	if err != nil {
		rd.close()
		return nil, err
	}
	return rd, nil
}

func (rd *reading) openTar(in *Info, ids []age.Identity) error {
	r := rd.tee
	if in.Encrypted {
		dr, err := age.Decrypt(r, ids...)
		if err != nil {
			return fmt.Errorf("decrypt: %w", err)
		}
		r = dr
	}
	switch in.Format {
	case config.FormatTarZstd:
		zr, err := zstd.NewReader(r)
		if err != nil {
			return fmt.Errorf("zstd: %w", err)
		}
		rd.closers = append(rd.closers, zr.Close)
		r = zr
	case config.FormatTarGzip:
		gr, err := gzip.NewReader(r)
		if err != nil {
			return err // "gzip: …"
		}
		r = gr
	default:
		return fmt.Errorf("unknown archive format %q", in.Format)
	}
	rd.src = &tarSource{r: tar.NewReader(r), under: r}
	return nil
}

func (rd *reading) openZip(in *Info, ids []age.Identity) error {
	st, err := rd.file.Stat()
	if err != nil {
		return err
	}
	var ra io.ReaderAt = rd.file
	size := st.Size()
	if in.Encrypted {
		if ra, size, err = age.DecryptReaderAt(rd.file, size, ids...); err != nil {
			return fmt.Errorf("decrypt: %w", err)
		}
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return err // "zip: …"
	}
	rd.src = &zipSource{files: zr.File}
	return nil
}

// digest reads what is left of the archive file and returns its SHA-256.
func (rd *reading) digest() (string, error) {
	if _, ok := rd.src.(*zipSource); ok {
		// A zip is read at offsets: hash the file from its start.
		if _, err := rd.file.Seek(0, io.SeekStart); err != nil {
			return "", err
		}
		rd.hash.Reset()
		rd.tee = io.TeeReader(rd.file, rd.hash)
	}
	if _, err := io.Copy(io.Discard, rd.tee); err != nil {
		return "", err
	}
	return hex.EncodeToString(rd.hash.Sum(nil)), nil
}

func (rd *reading) close() {
	for _, c := range rd.closers {
		c()
	}
	rd.file.Close()
}

// tarSource reads a tar stream; under is the decompressed stream, read
// to its end after the archive's last entry so that its checksum is
// checked.
type tarSource struct {
	r     *tar.Reader
	under io.Reader
}

func (t *tarSource) next() (Entry, io.Reader, error) {
	h, err := t.r.Next()
	if errors.Is(err, io.EOF) {
		if _, err := io.Copy(io.Discard, t.under); err != nil {
			return Entry{}, nil, err
		}
		return Entry{}, nil, io.EOF
	}
	if err != nil {
		return Entry{}, nil, err
	}
	e := Entry{Name: h.Name, Mode: uint32(h.Mode) & uint32(fs.ModePerm), MTime: h.ModTime.UTC()}
	switch h.Typeflag {
	case tar.TypeReg:
		e.Type, e.Size = typeFile, h.Size
		return e, t.r, nil
	case tar.TypeDir:
		e.Type, e.Name = typeDir, strings.TrimSuffix(h.Name, "/")
	case tar.TypeSymlink:
		e.Type, e.Target = typeSymlink, h.Linkname
	default:
		e.Type = fmt.Sprintf("tar type %q", h.Typeflag)
	}
	return e, nil, nil
}

type zipSource struct {
	files []*zip.File
	open  io.ReadCloser
}

func (z *zipSource) next() (Entry, io.Reader, error) {
	if z.open != nil {
		z.open.Close()
		z.open = nil
	}
	if len(z.files) == 0 {
		return Entry{}, nil, io.EOF
	}
	f := z.files[0]
	z.files = z.files[1:]
	m := f.Mode()
	e := Entry{Name: f.Name, Mode: uint32(m.Perm()), MTime: f.Modified.UTC().Truncate(time.Second)}
	switch {
	case m.IsDir():
		e.Type, e.Name = typeDir, strings.TrimSuffix(f.Name, "/")
		return e, nil, nil
	case m&fs.ModeSymlink != 0, m.IsRegular():
	default:
		e.Type = "zip mode " + m.Type().String()
		return e, nil, nil
	}
	r, err := f.Open()
	if err != nil {
		return e, nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	z.open = r
	if m&fs.ModeSymlink != 0 {
		b, err := io.ReadAll(io.LimitReader(r, maxTarget+1))
		switch {
		case err != nil:
			return e, nil, fmt.Errorf("%s: %w", f.Name, err)
		case len(b) > maxTarget:
			return e, nil, fmt.Errorf("%s: symlink target longer than %d bytes", f.Name, maxTarget)
		}
		e.Type, e.Target = typeSymlink, string(b)
		return e, nil, nil
	}
	e.Type, e.Size = typeFile, int64(f.UncompressedSize64)
	return e, r, nil
}
