package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/stewardhq/steward"
)

// bucketTimeout bounds one write into a bucket.
const bucketTimeout = 2 * time.Second

// buckets writes this node's entry into the nodes bucket and its instances
// into the registry bucket, from a goroutine of its own, so that a
// JetStream without a leader never delays a heartbeat: a write that cannot
// keep up is replaced by the next.
type buckets struct {
	f     *Fleet
	in    chan write
	nodes jetstream.KeyValue
	reg   jetstream.KeyValue
	// written holds the registry keys this node wrote and their values.
	written   map[string][]byte
	refreshed time.Time
}

// write is one heartbeat to store.
type write struct {
	e       entry
	leaving bool
}

func newBuckets(f *Fleet) *buckets {
	return &buckets{f: f, in: make(chan write, 1), written: map[string][]byte{}}
}

// put hands a heartbeat over, replacing one not yet written.
func (b *buckets) put(e entry) {
	w := write{e: e, leaving: e.Leaving}
	for {
		select {
		case b.in <- w:
			return
		default:
		}
		select {
		case old := <-b.in:
			if old.leaving {
				w = old
			}
		default:
		}
	}
}

// leave ends run once it wrote the last heartbeat.
func (b *buckets) leave() { close(b.in) }

// run makes the buckets, retrying, and writes what put hands over until
// leave.
func (b *buckets) run(ctx context.Context) {
	js := b.f.opts.JetStream
	if js == nil {
		for range b.in {
		}
		return
	}
	for b.nodes == nil {
		if err := b.open(ctx, js); err != nil {
			b.f.log.Warn("fleet buckets not ready; retrying", "err", err)
			select {
			case <-ctx.Done():
				for range b.in {
				}
				return
			case <-time.After(time.Second):
				continue
			}
		}
	}
	for w := range b.in {
		b.write(w)
	}
}

// open makes (or opens) both buckets.
func (b *buckets) open(ctx context.Context, js jetstream.JetStream) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	nodes, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: NodesBucket, Description: "steward's nodes: one heartbeat each, kept for the TTL",
		TTL: b.f.opts.TTL, History: 1, Storage: jetstream.MemoryStorage, Replicas: b.f.opts.Replicas,
	})
	if err != nil {
		return err
	}
	reg, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: RegistryBucket, Description: "steward's service registry: NODE.ID → instance",
		TTL: registryTTL, History: 1, Storage: jetstream.MemoryStorage, Replicas: b.f.opts.Replicas,
	})
	if err != nil {
		return err
	}
	b.nodes, b.reg = nodes, reg
	return nil
}

// write stores one heartbeat: the node's entry (without its instances,
// which have their own keys) and the instances that changed.
func (b *buckets) write(w write) {
	ctx, cancel := context.WithTimeout(context.Background(), bucketTimeout)
	defer cancel()
	key := token(b.f.opts.Node)
	if w.leaving {
		b.nodes.Delete(ctx, key)
	} else {
		e := w.e
		e.Instances = nil
		raw, _ := json.Marshal(e)
		if _, err := b.nodes.Put(ctx, key, raw); err != nil {
			b.f.log.Debug("fleet: write the nodes bucket", "err", err)
		}
	}
	now := b.f.opts.Now()
	refresh := now.Sub(b.refreshed) >= registryRefresh
	if refresh {
		b.refreshed = now
	}
	want := map[string][]byte{}
	for _, in := range w.e.Instances {
		raw, _ := json.Marshal(in)
		want[instanceKey(in)] = raw
	}
	for k, raw := range want {
		if !refresh && bytes.Equal(b.written[k], raw) {
			continue
		}
		if _, err := b.reg.Put(ctx, k, raw); err != nil {
			b.f.log.Debug("fleet: write the registry bucket", "err", err)
			continue
		}
		b.written[k] = raw
	}
	for k := range b.written {
		if _, ok := want[k]; !ok {
			if err := b.reg.Delete(ctx, k); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
				b.f.log.Debug("fleet: delete from the registry bucket", "err", err)
				continue
			}
			delete(b.written, k)
		}
	}
}

// instanceKey is the key of in in the registry bucket: NODE.SOURCE.ID.
func instanceKey(in steward.Instance) string {
	return token(in.Node) + "." + in.Source + "." + in.ID
}
