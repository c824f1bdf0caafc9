package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/check"
	"github.com/stewardhq/steward/internal/metrics"
	"github.com/stewardhq/steward/internal/store"
)

// Alerts is the alert engine as the API drives it.
type Alerts interface {
	Alerts(ctx context.Context, f store.AlertFilter) ([]steward.Alert, error)
	Alert(ctx context.Context, id int64) (steward.Alert, error) // ENOTFOUND for an unknown id
	// Ack acknowledges an open alert; ECONFLICT when it is not open or
	// already acknowledged.
	Ack(ctx context.Context, id int64, who, comment string) (steward.Alert, error)
	Silences() []steward.Silence
	AddSilence(ctx context.Context, s steward.Silence) (steward.Silence, error) // EINVALID for a bad one
	DeleteSilence(ctx context.Context, id int64) error                          // ENOTFOUND for an unknown id
}

// Metrics is the metrics history.
type Metrics interface {
	Query(ctx context.Context, q metrics.Query) ([]metrics.Series, error)
	Record(ctx context.Context, samples ...metrics.Sample) error
}

// Checks are the standalone checks.
type Checks interface {
	States() []check.State
}

// maxPush is the most samples one POST /v1/metrics may carry.
const maxPush = 10000

var (
	errNoAlerts  = steward.Errorf(steward.EUNAVAILABLE, "alerts are not enabled on this steward")
	errNoMetrics = steward.Errorf(steward.EUNAVAILABLE, "metrics are not enabled on this steward")
)

// prometheus serves GET /metrics: the Prometheus text exposition.
func (s *Server) prometheus(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Prometheus == nil {
		return errNoMetrics
	}
	s.opts.Prometheus.ServeHTTP(w, r)
	return nil
}

// queryMetrics serves GET /v1/metrics/query?name=&from=&to=&step=&LABEL=VALUE:
// the series of the metric name whose labels have the given values
// (service=web, mount=/), from and to an RFC 3339 time or a duration
// before now, step a duration.
func (s *Server) queryMetrics(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Metrics == nil {
		return errNoMetrics
	}
	q := r.URL.Query()
	mq := steward.MetricQuery{Name: q.Get("name")}
	var err error
	now := s.now()
	if mq.From, err = timeParam("from", q.Get("from"), now); err != nil {
		return err
	}
	if mq.To, err = timeParam("to", q.Get("to"), now); err != nil {
		return err
	}
	if v := q.Get("step"); v != "" {
		if mq.Step, err = time.ParseDuration(v); err != nil || mq.Step <= 0 {
			return steward.Errorf(steward.EINVALID, "step=%q: want a duration like 1m", v)
		}
	}
	for k, vs := range q {
		switch k {
		case "name", "from", "to", "step":
			continue
		}
		if mq.Labels == nil {
			mq.Labels = map[string]string{}
		}
		mq.Labels[k] = vs[0]
	}
	t := s.tenancy(r)
	if name, ok := mq.Labels["service"]; ok && !t.service(name) {
		return steward.Errorf(steward.ENOTFOUND, "no service %q", name)
	}
	series, err := s.opts.Metrics.Query(r.Context(), metrics.Query(mq))
	if err != nil {
		return err
	}
	// A tenant's principal sees the series of its services only: not the
	// machine's, not another tenant's.
	series = visible(series, func(se metrics.Series) bool { return t.service(se.Labels["service"]) })
	out := steward.QueryResult{Series: make([]steward.MetricSeries, len(series))}
	for i, se := range series {
		out.Series[i] = steward.MetricSeries(se)
	}
	return writeJSON(w, http.StatusOK, out)
}

// pushMetrics serves POST /v1/metrics: custom samples to record.
func (s *Server) pushMetrics(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Metrics == nil {
		return errNoMetrics
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var req steward.PushRequest
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	switch {
	case len(req.Samples) == 0:
		return steward.Errorf(steward.EINVALID, "samples is empty")
	case len(req.Samples) > maxPush:
		return steward.Errorf(steward.ETOOLARGE, "more than %d samples in one request", maxPush)
	}
	samples := make([]metrics.Sample, len(req.Samples))
	for i, sm := range req.Samples {
		samples[i] = metrics.Sample(sm)
	}
	if err := s.opts.Metrics.Record(r.Context(), samples...); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, steward.PushResult{Recorded: len(samples)})
}

// listAlerts serves GET /v1/alerts?state=open|all&limit=: the open alerts
// (or all), newest first.
func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Alerts == nil {
		return errNoAlerts
	}
	q := r.URL.Query()
	var aq steward.AlertQuery
	switch v := q.Get("state"); v {
	case "", "open":
	case "all":
		aq.All = true
	default:
		return steward.Errorf(steward.EINVALID, "state=%q: want open or all", v)
	}
	var err error
	if aq.Limit, err = intParam("limit", q.Get("limit"), 0, 0); err != nil {
		return err
	}
	list, err := s.opts.Alerts.Alerts(r.Context(), store.AlertFilter{Open: !aq.All, Limit: aq.Limit})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, visible(list, s.tenancy(r).alert))
}

func idParam(r *http.Request, what string) (int64, error) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		return 0, steward.Errorf(steward.EINVALID, "%s id %q: want a positive integer", what, v)
	}
	return id, nil
}

func (s *Server) getAlert(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Alerts == nil {
		return errNoAlerts
	}
	id, err := idParam(r, "alert")
	if err != nil {
		return err
	}
	a, err := s.opts.Alerts.Alert(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, a)
}

func (s *Server) ackAlert(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Alerts == nil {
		return errNoAlerts
	}
	id, err := idParam(r, "alert")
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var req steward.AckRequest
	if len(body) > 0 {
		if err := decodeJSON(body, &req); err != nil {
			return err
		}
	}
	a, err := s.opts.Alerts.Ack(r.Context(), id, s.who(r.Context()), req.Comment)
	if err != nil {
		return err
	}
	s.log.Info("api alert acknowledged", "alert", id, "who", s.who(r.Context()))
	return writeJSON(w, http.StatusOK, a)
}

func (s *Server) listSilences(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Alerts == nil {
		return errNoAlerts
	}
	return writeJSON(w, http.StatusOK, s.opts.Alerts.Silences())
}

func (s *Server) addSilence(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Alerts == nil {
		return errNoAlerts
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var req steward.SilenceRequest
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	sl := steward.Silence{Matchers: req.Matchers, Ends: req.Ends, Comment: req.Comment, By: s.who(r.Context())}
	switch {
	case req.Duration != "" && !req.Ends.IsZero():
		return steward.Errorf(steward.EINVALID, "give ends or duration, not both")
	case req.Duration != "":
		d, err := time.ParseDuration(req.Duration)
		if err != nil || d <= 0 {
			return steward.Errorf(steward.EINVALID, "duration %q: want a positive duration like 2h", req.Duration)
		}
		sl.Starts = s.now()
		sl.Ends = sl.Starts.Add(d)
	case req.Ends.IsZero():
		return steward.Errorf(steward.EINVALID, "a silence needs ends or duration")
	}
	sl, err = s.opts.Alerts.AddSilence(r.Context(), sl)
	if err != nil {
		return err
	}
	s.log.Info("api silence added", "silence", sl.ID, "matchers", sl.Matchers, "ends", sl.Ends, "who", sl.By)
	return writeJSON(w, http.StatusCreated, sl)
}

func (s *Server) deleteSilence(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Alerts == nil {
		return errNoAlerts
	}
	id, err := idParam(r, "silence")
	if err != nil {
		return err
	}
	if err := s.opts.Alerts.DeleteSilence(r.Context(), id); err != nil {
		return err
	}
	s.log.Info("api silence removed", "silence", id, "who", s.who(r.Context()))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listChecks(w http.ResponseWriter, r *http.Request) error {
	list := []steward.CheckState{}
	if s.opts.Checks != nil {
		t := s.tenancy(r)
		for _, st := range s.opts.Checks.States() {
			if t.check(st.Name) {
				list = append(list, checkState(st))
			}
		}
	}
	return writeJSON(w, http.StatusOK, list)
}

func checkState(st check.State) steward.CheckState {
	out := steward.CheckState{Name: st.Name}
	if c := st.Check; c != nil {
		out.Check = steward.CheckConfig{Name: c.Name, HTTP: c.HTTP, TCP: c.TCP, Exec: c.Exec, File: c.File,
			Process: c.Process, OSService: c.OSService, MaxAge: c.MaxAge, MinSize: c.MinSize, MaxSize: c.MaxSize,
			Interval: c.Interval, Timeout: c.Timeout, For: c.For, Severity: c.Severity}
	}
	if l := st.Last; l != nil {
		out.Last = &steward.CheckResult{Status: l.Status.String(), Message: l.Message, Duration: l.Duration, Time: l.Time}
	}
	return out
}
