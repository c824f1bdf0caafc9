package web

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/metrics"
)

// view is what a page template gets: the layout's parts and the page's Data.
type view struct {
	Template string // the page's template set
	Title    string
	Nav      string // the navigation entry to highlight
	Status   int    // 0 means 200
	// LiveTypes are the event types that refresh the page ("*": all), for
	// the events of LiveService only when set.
	LiveTypes   string
	LiveService string
	// Refresh, when set, also refreshes the page every that many seconds
	// while it is visible: resource figures are samples, not events.
	Refresh int
	Data    any

	CSRF string
	// Role is the session's role: the layout hides the buttons of actions
	// it may not take (data-needs), the API refuses them anyway.
	Role string
	// Tenant is the session's tenant: the layout leaves out the pages of
	// the whole steward (config, bus), which the API refuses it.
	Tenant    string
	Info      steward.Info
	Firing    int // firing alerts; -1 when alerts are not enabled
	LastEvent int64
	Now       time.Time
	Asset     func(string) string
}

// layout fills the parts every page shows.
func (h *Handler) layout(r *http.Request, s *session, v *view) error {
	v.CSRF, v.Role, v.Tenant = s.csrf, s.role, s.tenant
	v.Now = h.now()
	v.Asset = h.assetURL
	var last []steward.Event
	if err := h.call(r, s, "GET", "/v1/events?limit=1", &last); err != nil {
		return err
	}
	if len(last) > 0 {
		v.LastEvent = last[len(last)-1].ID
	}
	if err := h.call(r, s, "GET", "/v1/info", &v.Info); err != nil {
		return err
	}
	var open []steward.Alert
	switch err := h.call(r, s, "GET", "/v1/alerts", &open); {
	case unavailable(err):
		v.Firing = -1
	case err != nil:
		return err
	}
	for _, a := range open {
		if a.State == steward.AlertFiring {
			v.Firing++
		}
	}
	return nil
}

// stateOrder is the order states are counted and listed in: the ones that
// need a look first.
var stateOrder = []steward.State{
	steward.StateFailed, steward.StateBackoff, steward.StateStarting, steward.StateStopping,
	steward.StateRunning, steward.StateExited, steward.StateStopped,
}

type stateCount struct {
	State steward.State
	N     int
	Share float64 // of all services, in percent
	X     float64 // the sum of the shares before it
}

type overviewData struct {
	Total     int
	Counts    []stateCount
	Attention []steward.ServiceStatus
	Alerts    []steward.Alert
	AlertsOff bool
	Machine   machine
	Events    []steward.Event
	Checks    []steward.CheckState
	Range     timeRange
}

func (h *Handler) overview(r *http.Request, s *session, v *view) error {
	v.Template, v.Title, v.Nav = "overview", "Overview", "overview"
	v.LiveTypes, v.Refresh = "state,health,alert,config,system", 15
	d := &overviewData{Range: rangeParam(r)}
	v.Data = d
	var list []steward.ServiceStatus
	if err := h.call(r, s, "GET", "/v1/services", &list); err != nil {
		return err
	}
	d.Total = len(list)
	n := map[steward.State]int{}
	for _, st := range list {
		n[st.State]++
		if (st.State != steward.StateRunning && st.State != steward.StateExited && st.State != steward.StateStopped) ||
			st.Health == steward.HealthUnhealthy {
			d.Attention = append(d.Attention, st)
		}
	}
	x := 0.0
	for _, st := range stateOrder {
		if n[st] > 0 {
			share := 100 * float64(n[st]) / float64(d.Total)
			d.Counts = append(d.Counts, stateCount{State: st, N: n[st], Share: share, X: x})
			x += share
		}
	}
	switch err := h.call(r, s, "GET", "/v1/alerts", &d.Alerts); {
	case unavailable(err):
		d.AlertsOff = true
	case err != nil:
		return err
	}
	sortAlerts(d.Alerts)
	if err := h.call(r, s, "GET", "/v1/checks", &d.Checks); err != nil && !unavailable(err) {
		return err
	}
	var evs []steward.Event
	if err := h.call(r, s, "GET", "/v1/events?limit=8", &evs); err != nil {
		return err
	}
	slices.Reverse(evs)
	d.Events = evs
	if s.tenant != "" {
		d.Machine = machine{Note: "The machine's figures are the whole steward's: a principal of a tenant does not see them."}
		return nil
	}
	var err error
	d.Machine, err = h.machine(r, s, d.Range)
	return err
}

// sortAlerts orders alerts firing first, then by severity, newest first.
func sortAlerts(as []steward.Alert) {
	rank := map[string]int{steward.SeverityCritical: 0, steward.SeverityWarning: 1, steward.SeverityInfo: 2}
	slices.SortStableFunc(as, func(a, b steward.Alert) int {
		return cmp.Or(
			cmp.Compare(b2i(a.State != steward.AlertFiring), b2i(b.State != steward.AlertFiring)),
			cmp.Compare(rank[a.Severity], rank[b.Severity]),
			b.Updated.Compare(a.Updated))
	})
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// timeRange is the span of the charts, chosen by ?range=.
type timeRange struct {
	Name string
	Span time.Duration
	Step time.Duration
}

var timeRanges = []timeRange{
	{"15m", 15 * time.Minute, 10 * time.Second},
	{"1h", time.Hour, 30 * time.Second},
	{"6h", 6 * time.Hour, 3 * time.Minute},
	{"24h", 24 * time.Hour, 10 * time.Minute},
	{"7d", 7 * 24 * time.Hour, time.Hour},
}

// Ranges lists the choices.
func (timeRange) Ranges() []timeRange { return timeRanges }

func rangeParam(r *http.Request) timeRange {
	for _, tr := range timeRanges {
		if tr.Name == r.URL.Query().Get("range") {
			return tr
		}
	}
	return timeRanges[0]
}

// machine is what the overview shows of the machine's figures.
type machine struct {
	Off    bool   // metrics are not enabled
	Note   string // why there is nothing to show
	Gauges []gauge
	Charts []chart
	Load   string
}

// query returns the series of the metric name (with the labels in extra,
// "key=value&..."), over tr.
func (h *Handler) query(r *http.Request, s *session, name, extra string, tr timeRange) ([]steward.MetricSeries, error) {
	q := url.Values{"name": {name}, "from": {tr.Span.String()}, "step": {tr.Step.String()}}
	path := "/v1/metrics/query?" + q.Encode()
	if extra != "" {
		path += "&" + extra
	}
	var res steward.QueryResult
	err := h.call(r, s, "GET", path, &res)
	return res.Series, err
}

func (h *Handler) machine(r *http.Request, s *session, tr timeRange) (machine, error) {
	var m machine
	cpu, err := h.query(r, s, metrics.SystemCPU, "", tr)
	if unavailable(err) {
		return machine{Off: true, Note: "Metrics are not enabled on this steward."}, nil
	}
	if err != nil {
		return m, err
	}
	mem, err := h.query(r, s, metrics.SystemMemPercent, "", tr)
	if err != nil {
		return m, err
	}
	disk, err := h.query(r, s, metrics.SystemDiskPercent, "", tr)
	if err != nil {
		return m, err
	}
	load, err := h.query(r, s, metrics.SystemLoad1, "", tr)
	if err != nil {
		return m, err
	}
	if len(cpu) == 0 && len(mem) == 0 {
		m.Note = "No machine figures recorded in the last " + tr.Name + ". Add a service of kind sysmon to the config " +
			"(machine: {kind: sysmon, every: 10s}) to record CPU, memory and disk."
		return m, nil
	}
	to := h.now()
	from := to.Add(-tr.Span)
	if g, ok := lastGauge("CPU", cpu); ok {
		m.Gauges = append(m.Gauges, g)
	}
	if g, ok := lastGauge("Memory", mem); ok {
		m.Gauges = append(m.Gauges, g)
	}
	for _, se := range disk {
		if g, ok := lastGauge("Disk "+se.Labels["mount"], []steward.MetricSeries{se}); ok {
			m.Gauges = append(m.Gauges, g)
		}
	}
	if len(load) > 0 && len(load[0].Points) > 0 {
		m.Load = strconv.FormatFloat(load[0].Points[len(load[0].Points)-1][1], 'f', 2, 64)
	}
	m.Charts = append(m.Charts,
		newChart("CPU", "%", cpu, from, to),
		newChart("Memory", "%", mem, from, to))
	return m, nil
}

// servicesData is the services page's.
type servicesData struct {
	Services []steward.ServiceStatus
	Query    string
	Counts   []stateCount
}

func (h *Handler) servicesPage(r *http.Request, s *session, v *view) error {
	v.Template, v.Title, v.Nav = "services", "Services", "services"
	v.LiveTypes, v.Refresh = "state,health,config", 15
	d := &servicesData{Query: r.URL.Query().Get("q")}
	v.Data = d
	if err := h.call(r, s, "GET", "/v1/services", &d.Services); err != nil {
		return err
	}
	n := map[steward.State]int{}
	for _, st := range d.Services {
		n[st.State]++
	}
	for _, st := range stateOrder {
		if n[st] > 0 {
			d.Counts = append(d.Counts, stateCount{State: st, N: n[st]})
		}
	}
	return nil
}

// serviceData is the service detail page's.
type serviceData struct {
	Service    steward.ServiceStatus
	Dependents []string
	Events     []steward.Event
	Config     string // the service's block of the config file
	// ConfigHidden: the session's principal, of a tenant, may not read
	// the config.
	ConfigHidden bool
	Alerts       []steward.Alert
	Charts       []chart
	MetricsOff   bool
	Range        timeRange
}

func (h *Handler) servicePage(r *http.Request, s *session, v *view) error {
	name := r.PathValue("name")
	v.Template, v.Title, v.Nav = "service", name, "services"
	v.LiveTypes, v.LiveService, v.Refresh = "*", name, 15
	d := &serviceData{Range: rangeParam(r)}
	v.Data = d
	esc := url.PathEscape(name)
	if err := h.call(r, s, "GET", "/v1/services/"+esc, &d.Service); err != nil {
		return err
	}
	var list []steward.ServiceStatus
	if err := h.call(r, s, "GET", "/v1/services", &list); err != nil {
		return err
	}
	for _, o := range list {
		if slices.Contains(o.DependsOn, name) {
			d.Dependents = append(d.Dependents, o.Name)
		}
	}
	if err := h.call(r, s, "GET", "/v1/events?limit=50&service="+url.QueryEscape(name), &d.Events); err != nil {
		return err
	}
	slices.Reverse(d.Events)
	var ct steward.ConfigText
	if s.tenant != "" {
		d.ConfigHidden = true // the config is the whole steward's
	} else if err := h.call(r, s, "GET", "/v1/config", &ct); err != nil && !unavailable(err) {
		return err
	}
	d.Config = serviceBlock([]byte(ct.Text), name)
	var open []steward.Alert
	if err := h.call(r, s, "GET", "/v1/alerts", &open); err != nil && !unavailable(err) {
		return err
	}
	for _, a := range open {
		if a.Subject == name {
			d.Alerts = append(d.Alerts, a)
		}
	}
	label := "service=" + url.QueryEscape(name)
	cpu, err := h.query(r, s, metrics.ServiceCPU, label, d.Range)
	if unavailable(err) {
		d.MetricsOff = true
		return nil
	}
	if err != nil {
		return err
	}
	rss, err := h.query(r, s, metrics.ServiceRSS, label, d.Range)
	if err != nil {
		return err
	}
	to := h.now()
	from := to.Add(-d.Range.Span)
	d.Charts = []chart{newChart("CPU", "%", cpu, from, to), newChart("Memory (RSS)", "B", rss, from, to)}
	return nil
}

// alertsData is the alerts page's.
type alertsData struct {
	Off      bool
	Open     []steward.Alert
	Resolved []steward.Alert
	Silences []steward.Silence
	Checks   []steward.CheckState
}

func (h *Handler) alertsPage(r *http.Request, s *session, v *view) error {
	v.Template, v.Title, v.Nav = "alerts", "Alerts", "alerts"
	v.LiveTypes = "alert"
	d := &alertsData{}
	v.Data = d
	if err := h.call(r, s, "GET", "/v1/checks", &d.Checks); err != nil && !unavailable(err) {
		return err
	}
	var all []steward.Alert
	switch err := h.call(r, s, "GET", "/v1/alerts?state=all&limit=200", &all); {
	case unavailable(err):
		d.Off = true
		return nil
	case err != nil:
		return err
	}
	for _, a := range all {
		if a.Open() {
			d.Open = append(d.Open, a)
		} else {
			d.Resolved = append(d.Resolved, a)
		}
	}
	sortAlerts(d.Open)
	if s.tenant != "" {
		return nil // silences are the whole steward's: the API refuses them a tenant
	}
	if err := h.call(r, s, "GET", "/v1/silences", &d.Silences); err != nil {
		return err
	}
	now := h.now()
	d.Silences = slices.DeleteFunc(d.Silences, func(sl steward.Silence) bool { return !sl.Ends.After(now) })
	return nil
}

// eventsData is the events page's.
type eventsData struct {
	Events   []steward.Event
	Service  string
	Type     string
	Services []string
	Types    []string
}

func (h *Handler) eventsPage(r *http.Request, s *session, v *view) error {
	q := r.URL.Query()
	v.Template, v.Title, v.Nav = "events", "Events", "events"
	d := &eventsData{Service: q.Get("service"), Type: q.Get("type"), Types: steward.EventTypes}
	v.Data = d
	v.LiveTypes, v.LiveService = "*", d.Service
	if d.Type != "" {
		v.LiveTypes = d.Type
	}
	var list []steward.ServiceStatus
	if err := h.call(r, s, "GET", "/v1/services", &list); err != nil {
		return err
	}
	for _, st := range list {
		d.Services = append(d.Services, st.Name)
	}
	path := "/v1/events?limit=300"
	if d.Service != "" {
		path += "&service=" + url.QueryEscape(d.Service)
	}
	var evs []steward.Event
	if err := h.call(r, s, "GET", path, &evs); err != nil {
		return err
	}
	for i := len(evs) - 1; i >= 0; i-- {
		if d.Type == "" || evs[i].Type == d.Type {
			d.Events = append(d.Events, evs[i])
		}
	}
	return nil
}

// configData is the config page's.
type configData struct {
	Current  steward.ConfigText
	Lines    []string
	Versions []steward.ConfigVersion
	View     *steward.ConfigVersion // a version asked for with ?view=N
	From, To int
	Diff     []diffLine
}

func (h *Handler) configPage(r *http.Request, s *session, v *view) error {
	v.Template, v.Title, v.Nav = "config", "Configuration", "config"
	v.LiveTypes = "config"
	d := &configData{}
	v.Data = d
	if err := h.call(r, s, "GET", "/v1/config", &d.Current); err != nil {
		return err
	}
	if err := h.call(r, s, "GET", "/v1/config/versions", &d.Versions); err != nil {
		return err
	}
	slices.SortFunc(d.Versions, func(a, b steward.ConfigVersion) int { return cmp.Compare(b.N, a.N) })
	q := r.URL.Query()
	text := d.Current.Text
	if n, err := strconv.Atoi(q.Get("view")); err == nil && n != d.Current.Version {
		var cv steward.ConfigVersion
		if err := h.call(r, s, "GET", "/v1/config/versions/"+strconv.Itoa(n), &cv); err != nil {
			return err
		}
		d.View, text = &cv, cv.Text
	}
	d.Lines = strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	d.From, _ = strconv.Atoi(q.Get("from"))
	d.To, _ = strconv.Atoi(q.Get("to"))
	if d.From == 0 && d.To == 0 && d.Current.Version > 1 {
		d.From, d.To = d.Current.Version-1, d.Current.Version
	}
	if d.From > 0 && d.To > 0 {
		var diff string
		if err := h.call(r, s, "GET", "/v1/config/diff?from="+strconv.Itoa(d.From)+"&to="+strconv.Itoa(d.To), &diff); err != nil {
			return err
		}
		d.Diff = parseDiff(diff)
	}
	return nil
}

func (h *Handler) notFound(r *http.Request, s *session, v *view) error {
	v.Template, v.Title, v.Status = "error", "Not found", http.StatusNotFound
	v.Data = "There is no page at " + r.URL.Path + "."
	return nil
}
