package events

import (
	"fmt"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/store"
)

// The journal is the one goroutine that writes recorded events to the store
// and then publishes them. It runs while events are queued and ends when
// the queue is empty. Each turn it takes up to maxBatch events from the
// head of the queue, stores them in one transaction, so that a burst of
// crashes costs few commits, and publishes them before it takes more, so
// that a subscriber that keeps up is not overrun. A batch the store
// refuses because another connection holds its write lock (store.IsBusy)
// or because its file system is full (store.IsFull) is tried again, with
// backoff, until it is stored or Close gives up: meanwhile events wait in
// memory, bounded as below. A batch refused for any other reason (a closed
// store) is logged and given up: it is not published, and Close counts it.
//
// The queue is bounded. While the store is busy, events queue up; once
// QueueLimit are queued, a new event is merged into the last queued event
// of the same type and service instead of taking a place of its own: the
// merged event keeps the From of the first (the state the service left)
// and takes everything else from the last (the state it is in now, its
// PID, reason and time), and its reason says how many events it stands
// for. The batch being written is never merged into. An event with no
// queued event of its type and service still takes a place, so the queue
// holds at most QueueLimit events plus one per type and service, and
// Record never blocks.

// QueueLimit is how many events may wait to be stored before new ones are
// merged into those waiting.
const QueueLimit = 4096

// maxBatch is the most events stored in one transaction and published at
// once: half a subscriber's buffer.
const maxBatch = SubscriberBuffer / 2

// journal holds the journal's settings; tests shorten them.
type journal struct {
	limit              int
	retryMin, retryMax time.Duration
	busyReport         int // a busy store is logged after this many tries in a row
}

var defaultJournal = journal{
	limit:      QueueLimit,
	retryMin:   10 * time.Millisecond,
	retryMax:   time.Second,
	busyReport: 3,
}

// entry is a queued event and how many later events were merged into it.
type entry struct {
	ev     steward.Event
	seq    uint64 // the Record call that queued it
	merged int
}

// enqueue adds ev to the queue, or merges it when the queue is full; r.mu
// is held.
func (r *Recorder) enqueue(ev steward.Event) {
	if len(r.queue) >= r.j.limit {
		for i := len(r.queue) - 1; i >= 0; i-- {
			e := &r.queue[i]
			if e.ev.Type == ev.Type && e.ev.Service == ev.Service {
				e.ev.To, e.ev.PID, e.ev.Reason, e.ev.Time = ev.To, ev.PID, ev.Reason, ev.Time
				e.merged++
				return
			}
		}
	}
	r.queue = append(r.queue, entry{ev: ev, seq: r.seq})
}

// run is the journal goroutine: it stores and publishes batches until the
// queue is empty.
func (r *Recorder) run() {
	for {
		r.mu.Lock()
		if len(r.queue) == 0 {
			r.active = false
			r.mu.Unlock()
			return
		}
		k := min(len(r.queue), maxBatch)
		batch := r.queue[:k:k]
		r.queue = r.queue[k:]
		r.mu.Unlock()

		evs := make([]steward.Event, len(batch))
		n := 0 // events the batch stands for
		for i, e := range batch {
			evs[i] = e.ev
			if e.merged > 0 {
				evs[i].Reason += fmt.Sprintf(" [and %d earlier %s events of this kind, merged while the store could not be written]", e.merged, e.ev.Type)
			}
			n += 1 + e.merged
		}
		stored := r.write(evs, n)

		r.mu.Lock()
		if stored {
			r.publish(evs)
		} else {
			r.dropped += uint64(n)
		}
		// Every event recorded before the first still queued is stored now
		// or given up: events are merged only into queued ones.
		r.done = r.seq
		if len(r.queue) > 0 {
			r.done = r.queue[0].seq - 1
		}
		close(r.moved)
		r.moved = make(chan struct{})
		r.mu.Unlock()
	}
}

// write stores evs, which stand for n recorded events, trying again while
// the store is busy, and reports whether they were stored.
func (r *Recorder) write(evs []steward.Event, n int) bool {
	wait := r.j.retryMin
	for try := 1; ; try++ {
		err := r.store.AppendEvents(r.ctx, evs)
		switch {
		case err == nil:
			if try > r.j.busyReport {
				r.log.Info("event store writable again", "tries", try)
			}
			return true
		case r.ctx.Err() != nil:
			r.log.Error("events not stored: the recorder was closed first", "events", n, "err", err)
			return false
		case !store.IsBusy(err) && !store.IsFull(err):
			r.log.Error("events not stored", "events", n, "err", err)
			return false
		case try == r.j.busyReport && store.IsFull(err):
			r.log.Error("event store's disk is full; events wait in memory", "events", n, "err", err)
		case try == r.j.busyReport:
			r.log.Warn("event store busy; events wait in memory", "events", n, "err", err)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-r.ctx.Done():
			t.Stop()
		}
		wait = min(2*wait, r.j.retryMax)
	}
}
