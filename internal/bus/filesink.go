package bus

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/stewardhq/steward/internal/config"
)

// sinkRetry is how long a message a sink could not write waits before
// JetStream delivers it again.
const sinkRetry = 5 * time.Second

// tmpPrefix starts the name of a file a sink is still writing.
const tmpPrefix = ".tmp-"

// SinkName returns the name of the durable consumer of the sink k, the
// same across restarts of steward for the same subject and directory.
func SinkName(k config.BusSink) string {
	sum := sha256.Sum256([]byte(k.Subject + "\x00" + k.Dir))
	return "steward_sink_" + hex.EncodeToString(sum[:8])
}

// SinkFiles runs the sink k until ctx ends: a durable consumer of the
// stream that holds k.Subject (from the messages published after it was
// first made) writes each message to a file of its own in k.Dir — written
// to a temporary file, synced and renamed, so a reader never sees half a
// message — and acknowledges it after the rename. A message is written at
// least once: after a crash between the rename and the ack it is written
// again under the same name, SinkFileName's. It returns an error when it
// cannot make the directory or the consumer.
func (s *Server) SinkFiles(ctx context.Context, k config.BusSink) error {
	if err := os.MkdirAll(k.Dir, 0o750); err != nil {
		return fmt.Errorf("sink %s: %w", k.Dir, err)
	}
	root, err := os.OpenRoot(k.Dir)
	if err != nil {
		return fmt.Errorf("sink %s: %w", k.Dir, err)
	}
	defer root.Close()
	removeTemps(root)
	stream, err := s.js.StreamNameBySubject(ctx, k.Subject)
	if err != nil {
		return fmt.Errorf("sink %s: the stream of %s: %w", k.Dir, k.Subject, err)
	}
	cons, err := s.js.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{
		Durable:       SinkName(k),
		Description:   "steward's sink of " + k.Subject + " into " + k.Dir,
		FilterSubject: k.Subject,
		DeliverPolicy: jetstream.DeliverNewPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		MaxAckPending: 256,
	})
	if err != nil {
		return fmt.Errorf("sink %s: consumer: %w", k.Dir, err)
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("sink %s: %w", k.Dir, err)
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	defer it.Stop()
	for {
		jm, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			s.log.Warn("bus: sink", "dir", k.Dir, "err", err)
			continue
		}
		md, err := jm.Metadata()
		if err != nil {
			s.log.Warn("bus: sink: a message without metadata", "dir", k.Dir, "err", err)
			jm.Term()
			continue
		}
		name := SinkFileName(md.Stream, md.Sequence.Stream, jm.Headers().Get(HeaderID))
		if err := writeFile(root, name, jm.Data()); err != nil {
			s.log.Error("bus: sink write; retrying", "dir", k.Dir, "file", name, "err", err)
			jm.NakWithDelay(sinkRetry)
			continue
		}
		if err := jm.Ack(); err != nil {
			s.log.Warn("bus: sink ack", "dir", k.Dir, "file", name, "err", err)
		}
	}
}

// SinkFileName is the name a sink gives the message seq of stream: the
// stream and the sequence, then the message's id when it is one a file
// name can carry (letters, digits, '-', '_' and '.', at most 128).
func SinkFileName(stream string, seq uint64, id string) string {
	name := fmt.Sprintf("%s-%012d", stream, seq)
	if safeName(id) {
		name += "-" + id
	}
	return name
}

func safeName(s string) bool {
	if s == "" || len(s) > maxID {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// writeFile writes data to name in root atomically: a temporary file,
// synced, renamed over name, and the directory synced.
func writeFile(root *os.Root, name string, data []byte) error {
	tmp := tmpPrefix + name
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmp, name)
	}
	if err != nil {
		root.Remove(tmp)
		return err
	}
	return syncDir(root)
}

// removeTemps removes the temporary files a sink left when steward
// stopped in the middle of a write.
func removeTemps(root *os.Root) {
	entries, _ := fs.ReadDir(root.FS(), ".")
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tmpPrefix) && e.Type().IsRegular() {
			root.Remove(e.Name())
		}
	}
}
