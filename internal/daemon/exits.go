package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/store"
	"github.com/stewardhq/steward/internal/supervise"
)

// Exit journal bounds: records queued at most (more are dropped and
// logged), written per transaction at most, and the time the last ones
// may take to be stored when steward stops.
const (
	exitQueue        = 1024
	exitBatch        = 64
	exitDrainTimeout = 5 * time.Second
)

// exitJournal stores the supervisor's exit records from a goroutine of its
// own, so that a slow or locked store never delays a restart.
type exitJournal struct {
	st   *store.Store
	log  *slog.Logger
	q    chan steward.Exit
	done chan struct{}
}

var _ supervise.ExitSink = (*exitJournal)(nil)

func newExitJournal(st *store.Store, log *slog.Logger) *exitJournal {
	j := &exitJournal{st: st, log: log, q: make(chan steward.Exit, exitQueue), done: make(chan struct{})}
	go j.run()
	return j
}

// RecordExit queues e and returns at once; a full queue drops it.
func (j *exitJournal) RecordExit(e steward.Exit) {
	select {
	case j.q <- e:
	default:
		j.log.Warn("exit record dropped: the store is behind", "service", e.Service, "pid", e.PID)
	}
}

func (j *exitJournal) run() {
	defer close(j.done)
	for e := range j.q {
		batch := []steward.Exit{e}
	more:
		for len(batch) < exitBatch {
			select {
			case e, ok := <-j.q:
				if !ok {
					break more
				}
				batch = append(batch, e)
			default:
				break more
			}
		}
		if err := j.write(batch); err != nil {
			j.log.Error("store exit records", "n", len(batch), "err", err)
		}
	}
}

// write stores batch, trying again a few times while the store is busy.
func (j *exitJournal) write(batch []steward.Exit) error {
	var err error
	for try := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), exitDrainTimeout)
		err = j.st.AppendExits(ctx, batch)
		cancel()
		if err == nil || !store.IsBusy(err) {
			return err
		}
		time.Sleep(time.Duration(try+1) * 100 * time.Millisecond)
	}
	return fmt.Errorf("store busy: %w", err)
}

// close stores what is queued, within exitDrainTimeout. Nothing may call
// RecordExit any more: the supervisor is closed.
func (j *exitJournal) close() {
	close(j.q)
	t := time.NewTimer(exitDrainTimeout)
	defer t.Stop()
	select {
	case <-j.done:
	case <-t.C:
		j.log.Error("exit records not stored in time", "left", len(j.q))
	}
}

// ExitStatus is the error Run returns when a service with on_exit: exit
// ended: steward is to exit with Code.
type ExitStatus struct {
	Service string
	Code    int
}

func (e *ExitStatus) Error() string {
	return fmt.Sprintf("%s ended (on_exit: exit): exit status %d", e.Service, e.Code)
}
