package metrics

import (
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stewardhq/steward"
)

// ExporterOptions configure NewExporter.
type ExporterOptions struct {
	// History gives the newest sample of every series: the machine (from
	// sysmon services), each service's process tree, and custom metrics.
	History *History
	// MaxAge leaves out series with no sample for that long (a removed
	// service); 0 means 5 minutes.
	MaxAge time.Duration
	// Services lists the services, for their state, health and restarts.
	Services func() []steward.ServiceStatus
	// Alerts counts the open alerts by state; nil leaves them out.
	Alerts        func() map[steward.AlertState]int
	Node, Version string
	// Collectors add figures of other parts (the logwatch kind's counters).
	Collectors []prometheus.Collector
}

// NewExporter returns the handler of GET /metrics: steward's figures in
// the Prometheus text exposition format.
func NewExporter(o ExporterOptions) http.Handler {
	if o.MaxAge <= 0 {
		o.MaxAge = 5 * time.Minute
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&collector{o: o},
	)
	reg.MustRegister(o.Collectors...)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// collector turns steward's state into metrics at each scrape.
type collector struct{ o ExporterOptions }

var (
	descInfo     = prometheus.NewDesc("steward_info", "The running steward.", []string{"node", "version"}, nil)
	descState    = prometheus.NewDesc("steward_service_state", "1 for the state each service is in, 0 for the others.", []string{"service", "kind", "state"}, nil)
	descHealth   = prometheus.NewDesc("steward_service_health", "1 for the health of each service, 0 for the others.", []string{"service", "health"}, nil)
	descRestarts = prometheus.NewDesc("steward_service_restarts_total", "Restarts of each service by its policy.", []string{"service"}, nil)
	descThreads  = prometheus.NewDesc("steward_service_threads", "Threads in each service's process tree, as last sampled.", []string{"service"}, nil)
	descFiles    = prometheus.NewDesc("steward_service_open_files", "Open files of each service's process tree, as last sampled.", []string{"service"}, nil)
	descAlerts   = prometheus.NewDesc("steward_alerts", "Open alerts by state.", []string{"state"}, nil)
	states       = []steward.State{steward.StateStopped, steward.StateStarting, steward.StateRunning,
		steward.StateStopping, steward.StateBackoff, steward.StateFailed, steward.StateExited}
	healths = []steward.Health{steward.HealthUnknown, steward.HealthHealthy, steward.HealthUnhealthy}
)

// Describe sends nothing: the metrics of the history are known only when
// collected, which makes this an unchecked collector.
func (c *collector) Describe(chan<- *prometheus.Desc) {}

// Collect sends the current figures.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descInfo, prometheus.GaugeValue, 1, c.o.Node, c.o.Version)
	if c.o.Services != nil {
		for _, s := range c.o.Services() {
			for _, st := range states {
				ch <- prometheus.MustNewConstMetric(descState, prometheus.GaugeValue, b2f(s.State == st), s.Name, s.Kind, string(st))
			}
			for _, h := range healths {
				ch <- prometheus.MustNewConstMetric(descHealth, prometheus.GaugeValue, b2f(s.Health == h), s.Name, string(h))
			}
			ch <- prometheus.MustNewConstMetric(descRestarts, prometheus.CounterValue, float64(s.Restarts), s.Name)
			if s.PID > 0 && s.Threads > 0 {
				ch <- prometheus.MustNewConstMetric(descThreads, prometheus.GaugeValue, float64(s.Threads), s.Name)
				ch <- prometheus.MustNewConstMetric(descFiles, prometheus.GaugeValue, float64(s.OpenFiles), s.Name)
			}
		}
	}
	if c.o.Alerts != nil {
		counts := c.o.Alerts()
		for _, st := range []steward.AlertState{steward.AlertPending, steward.AlertFiring} {
			ch <- prometheus.MustNewConstMetric(descAlerts, prometheus.GaugeValue, float64(counts[st]), string(st))
		}
	}
	if c.o.History != nil {
		c.collectHistory(ch)
	}
}

// collectHistory sends the newest sample of each series as a gauge. The
// series of one name may have different label keys (custom metrics): each
// gets the union of them, missing values empty, as the format requires.
func (c *collector) collectHistory(ch chan<- prometheus.Metric) {
	latest := c.o.History.Latest(c.o.MaxAge)
	keys := map[string][]string{}
	for _, s := range latest {
		for k := range s.Labels {
			if !slices.Contains(keys[s.Name], k) {
				keys[s.Name] = append(keys[s.Name], k)
			}
		}
	}
	descs := map[string]*prometheus.Desc{}
	for _, s := range latest {
		ks := keys[s.Name]
		d := descs[s.Name]
		if d == nil {
			slices.Sort(ks)
			d = prometheus.NewDesc(s.Name, help(s.Name), ks, nil)
			descs[s.Name] = d
		}
		vals := make([]string, len(ks))
		for i, k := range ks {
			vals[i] = s.Labels[k]
		}
		m, err := prometheus.NewConstMetric(d, prometheus.GaugeValue, s.Value, vals...)
		if err != nil {
			continue // an invalid label value (not UTF-8): leave it out
		}
		ch <- m
	}
}

// helps describes steward's own series.
var helps = map[string]string{
	SystemCPU:         "CPU used on the machine, percent of all cores.",
	SystemMemUsed:     "Memory used on the machine, bytes.",
	SystemMemPercent:  "Memory used on the machine, percent.",
	SystemSwapUsed:    "Swap used, bytes.",
	SystemSwapPercent: "Swap used, percent.",
	SystemLoad1:       "Load average over 1 minute.",
	SystemLoad5:       "Load average over 5 minutes.",
	SystemLoad15:      "Load average over 15 minutes.",
	SystemDiskUsed:    "Space used on a mounted filesystem, bytes.",
	SystemDiskPercent: "Space used on a mounted filesystem, percent.",
	SystemDiskRead:    "Bytes read from disks per second.",
	SystemDiskWrite:   "Bytes written to disks per second.",
	SystemNetRecv:     "Bytes received on network interfaces per second.",
	SystemNetSent:     "Bytes sent on network interfaces per second.",
	ServiceCPU:        "CPU used by a service's process tree, percent of one core.",
	ServiceRSS:        "Resident memory of a service's process tree, bytes.",
}

func help(name string) string {
	if h, ok := helps[name]; ok {
		return h
	}
	return "Custom metric " + name + "."
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
