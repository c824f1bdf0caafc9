package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/logcap"
)

// Log defaults and bounds for GET /v1/services/{name}/logs.
const (
	defaultLogLines = 100
	maxLogLines     = 100000
	logBatch        = 256 // lines written between two flushes at most
)

func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, steward.HealthResponse{Status: "ok"})
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(openAPIDoc)
	return err
}

// currentVersioner is what a Configs may offer to name the applied version
// without listing every version.
type currentVersioner interface{ CurrentVersion() int }

func (s *Server) info(w http.ResponseWriter, r *http.Request) error {
	n, err := s.currentVersion(r.Context())
	if err != nil {
		return err
	}
	var info steward.Info
	if s.opts.Platform != nil {
		info = s.opts.Platform()
	}
	info.Version, info.Node, info.PID, info.Started, info.ConfigVersion = s.opts.Version, s.opts.Node, os.Getpid(), s.opts.Started, n
	return writeJSON(w, http.StatusOK, info)
}

// currentVersion returns the number of the applied config version.
func (s *Server) currentVersion(ctx context.Context) (int, error) {
	if cv, ok := s.opts.Configs.(currentVersioner); ok {
		return cv.CurrentVersion(), nil
	}
	vs, err := s.opts.Configs.Versions(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, v := range vs {
		n = max(n, v.N)
	}
	return n, nil
}

func (s *Server) listServices(w http.ResponseWriter, r *http.Request) error {
	list := s.opts.Services.List()
	if list == nil {
		list = []steward.ServiceStatus{}
	}
	return writeJSON(w, http.StatusOK, list)
}

func (s *Server) getService(w http.ResponseWriter, r *http.Request) error {
	st, err := s.opts.Services.Get(r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

// action returns the handler of POST /v1/services/{name}/ACTION, where the
// name "-" means the services the body names, or every service.
func (s *Server) action(verb string, act func(context.Context, []string) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		names := []string{r.PathValue("name")}
		if names[0] == "-" {
			body, err := readBody(r)
			if err != nil {
				return err
			}
			if names, err = decodeAction(body); err != nil {
				return err
			}
		}
		var target any = names
		if names == nil {
			target = "all"
		}
		s.log.Info("api action", "action", verb, "services", target, "who", s.who(r.Context()))
		if err := act(steward.WithActor(r.Context(), s.who(r.Context())), names); err != nil {
			return err
		}
		var out []steward.ServiceStatus
		if names == nil {
			out = s.opts.Services.List()
		}
		for _, n := range names {
			st, err := s.opts.Services.Get(n)
			if err != nil {
				return err
			}
			out = append(out, st)
		}
		if out == nil {
			out = []steward.ServiceStatus{}
		}
		return writeJSON(w, http.StatusOK, out)
	}
}

// rotateLog serves POST /v1/services/{name}/logs/rotate: the service's log
// file is renamed and a new one started, unless it is empty.
func (s *Server) rotateLog(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	src, err := s.opts.Services.Log(name)
	if err != nil {
		return err
	}
	s.log.Info("api action", "action", "rotate logs", "services", []string{name}, "who", s.who(r.Context()))
	file, err := src.Rotate()
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, steward.LogRotation{Service: name, File: file})
}

// rotateLogs serves POST /v1/logs/rotate: the log file of every service,
// as rotateLog does; a failure of one does not keep the others from it.
func (s *Server) rotateLogs(w http.ResponseWriter, r *http.Request) error {
	s.log.Info("api action", "action", "rotate logs", "services", "all", "who", s.who(r.Context()))
	out := []steward.LogRotation{}
	var errs []error
	for _, st := range s.opts.Services.List() {
		var file string
		src, err := s.opts.Services.Log(st.Name) // a service removed since List: ENOTFOUND
		if err == nil {
			file, err = src.Rotate()
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, steward.LogRotation{Service: st.Name, File: file})
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// logs serves GET /v1/services/{name}/logs?n=&follow=: the last n lines
// (default 100) as NDJSON, then, with follow=1, each new line as it comes,
// flushed per batch, until the client goes away.
func (s *Server) logs(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	n, err := intParam("n", q.Get("n"), 0, defaultLogLines)
	if err != nil {
		return err
	}
	n = min(n, maxLogLines)
	follow, err := boolParam("follow", q.Get("follow"))
	if err != nil {
		return err
	}
	src, err := s.opts.Services.Log(r.PathValue("name"))
	if err != nil {
		return err
	}
	var (
		ch     <-chan logcap.Line
		cancel = func() {}
	)
	if follow {
		// Subscribe before the tail is taken, so no line falls between them.
		ch, cancel = src.Subscribe()
	}
	defer cancel()
	var tail []logcap.Line
	if n > 0 {
		tail = src.Tail(n)
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	for _, l := range tail {
		if err := enc.Encode(logLine(l)); err != nil {
			return err
		}
	}
	if !follow {
		return nil
	}
	rc := http.NewResponseController(w)
	if err := rc.Flush(); err != nil {
		return err
	}
	// Lines sent in the tail may come again on ch: skip them.
	dup := map[lineKey]int{}
	for _, l := range tail {
		dup[keyOf(l)]++
	}
	for {
		select {
		case <-r.Context().Done():
			return nil
		case l, ok := <-ch:
			for batch := 1; ; batch++ {
				if !ok {
					return nil
				}
				if k := keyOf(l); dup[k] > 0 {
					dup[k]--
				} else {
					clear(dup)
					if err := enc.Encode(logLine(l)); err != nil {
						return err
					}
				}
				if batch == logBatch || !receive(ch, &l, &ok) {
					break
				}
			}
			if err := rc.Flush(); err != nil {
				return err
			}
		}
	}
}

// receive receives from ch into v and ok when a value or the close is
// ready, and reports whether one was.
func receive[T any](ch <-chan T, v *T, ok *bool) bool {
	select {
	case *v, *ok = <-ch:
		return true
	default:
		return false
	}
}

// lineKey identifies a line in the tail and on the live channel alike.
type lineKey struct {
	ms     int64
	stream string
	text   string
}

func keyOf(l logcap.Line) lineKey { return lineKey{l.Time.UnixMilli(), l.Stream, l.Text} }

func logLine(l logcap.Line) steward.LogLine {
	return steward.LogLine{Time: l.Time, Stream: l.Stream, Text: l.Text, Missed: l.Missed}
}
