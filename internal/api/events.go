package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/store"
)

// Event stream bounds.
const (
	replayPage = 1000 // events read from the store per query
	eventBatch = 256  // events written between two flushes at most
)

// events serves GET /v1/events?since=&after=&service=&limit=&follow=.
//
// Without follow it returns a JSON array of the matching events in
// ascending ID order: with neither since nor after, the newest limit
// (default 1000) of them.
//
// With follow=1 it answers with Server-Sent Events: each event is one
// message whose id is the event ID and whose data is the event as JSON. It
// first replays the matching stored events — after the Last-Event-ID
// header's ID when the client reconnects, else after the after parameter —
// then sends live events as they are recorded, without gaps or duplicates.
func (s *Server) events(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var eq steward.EventQuery
	var err error
	if eq.Since, err = timeParam("since", q.Get("since"), s.now()); err != nil {
		return err
	}
	after, err := intParam("after", q.Get("after"), 0, 0)
	if err != nil {
		return err
	}
	eq.After = int64(after)
	if eq.Limit, err = intParam("limit", q.Get("limit"), 0, 0); err != nil {
		return err
	}
	eq.Service = q.Get("service")
	f := store.EventFilter{AfterID: eq.After, Since: eq.Since, Service: eq.Service, Limit: min(eq.Limit, steward.MaxEventLimit)}
	follow, err := boolParam("follow", q.Get("follow"))
	if err != nil {
		return err
	}
	t := s.tenancy(r)
	if !follow {
		evs, err := s.opts.Events.List(r.Context(), f)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, visible(evs, t.event))
	}
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n < 0 {
			return steward.Errorf(steward.EINVALID, "Last-Event-ID %q: want an event ID", id)
		}
		f.AfterID = n
	}
	return s.followEvents(w, r, f, t)
}

// followEvents replays the stored events f selects, then streams live ones.
func (s *Server) followEvents(w http.ResponseWriter, r *http.Request, f store.EventFilter, t tenancy) error {
	ctx := r.Context()
	// Subscribe before replaying, so no event falls between the two.
	ch, cancel := s.opts.Events.Subscribe()
	defer cancel()
	if f.Limit == 0 {
		f.Limit = replayPage
	}
	st := &eventStream{w: w, rc: http.NewResponseController(w), filter: f, cursor: f.AfterID, visible: t.event}

	// Replay: the first page by the client's filter, then page on by ID.
	// The first page is read before the response starts, so that a failure
	// still gets its status.
	evs, err := s.opts.Events.List(ctx, f)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	page := f
	for {
		for _, ev := range evs {
			if err := st.send(ev); err != nil {
				return err
			}
		}
		if len(evs) < page.Limit || st.cursor == 0 {
			break
		}
		page = store.EventFilter{AfterID: st.cursor, Service: f.Service, Limit: replayPage}
		if evs, err = s.opts.Events.List(ctx, page); err != nil {
			return err
		}
	}
	if err := st.rc.Flush(); err != nil {
		return err
	}

	tick := time.NewTicker(s.keepalive)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": keepalive\n\n"); err != nil {
				return err
			}
		case ev, ok := <-ch:
			for batch := 1; ; batch++ {
				if !ok {
					return nil
				}
				if err := s.live(r, st, ev); err != nil {
					return err
				}
				if batch == eventBatch || !receive(ch, &ev, &ok) {
					break
				}
			}
		}
		if err := st.rc.Flush(); err != nil {
			return err
		}
	}
}

// live sends the live event ev, first filling from the store any events
// that were recorded before it but not yet sent: those published out of
// order, or dropped for a slow subscriber.
func (s *Server) live(r *http.Request, st *eventStream, ev steward.Event) error {
	if ev.ID <= st.cursor {
		return nil
	}
	if st.cursor > 0 && ev.ID > st.cursor+1 {
		for {
			evs, err := s.opts.Events.List(r.Context(), store.EventFilter{
				AfterID: st.cursor, Service: st.filter.Service, Limit: replayPage})
			if err != nil {
				return err
			}
			for _, m := range evs {
				if err := st.send(m); err != nil {
					return err
				}
			}
			if len(evs) < replayPage {
				break
			}
		}
	}
	if ev.ID <= st.cursor {
		return nil
	}
	if st.matches(ev) {
		return st.send(ev)
	}
	st.cursor = ev.ID
	return nil
}

// eventStream writes events as Server-Sent Events, each once, in ID order.
type eventStream struct {
	w      http.ResponseWriter
	rc     *http.ResponseController
	filter store.EventFilter
	cursor int64 // the ID of the last event sent or passed over
	// visible tells the events the principal may see; the others are
	// passed over.
	visible func(steward.Event) bool
}

func (st *eventStream) matches(ev steward.Event) bool {
	return (st.filter.Service == "" || ev.Service == st.filter.Service) && !ev.Time.Before(st.filter.Since)
}

// send writes ev unless an event at or after its ID was sent.
func (st *eventStream) send(ev steward.Event) error {
	if ev.ID <= st.cursor {
		return nil
	}
	if !st.visible(ev) {
		st.cursor = ev.ID
		return nil
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	st.cursor = ev.ID
	_, err = fmt.Fprintf(st.w, "id: %d\ndata: %s\n\n", ev.ID, data)
	return err
}
