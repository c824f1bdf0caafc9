package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"sync"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/events"
	"github.com/stewardhq/steward/internal/notify"
	"github.com/stewardhq/steward/internal/outbox"
	"github.com/stewardhq/steward/internal/store"
)

// notifyStopTimeout bounds the stop of the router and the outbox.
const notifyStopTimeout = 5 * time.Second

// notifications delivers alerts to the notifiers of the configuration:
// the alert engine hands it each transition (alert), the router groups
// them per route into messages, and the outbox stores and delivers those.
// The routes and the notifiers follow the configuration (apply); the
// outbox is made anew when the notifications: settings change, and takes
// over even when the old one does not stop in time (see replaceOutbox). It
// is safe for concurrent use.
type notifications struct {
	log    *slog.Logger
	st     *store.Store
	events *events.Recorder
	node   string
	// firing returns the alerts that are firing now, for a new router:
	// those an earlier run or router notified are known to it from the
	// store and not notified again; their resolution is.
	firing func(ctx context.Context) ([]steward.Alert, error)
	// stopTimeout bounds each stop of a router or an outbox:
	// notifyStopTimeout.
	stopTimeout time.Duration

	mu        sync.Mutex
	out       *outbox.Outbox
	settings  config.Notifications
	notifiers map[string]notify.Notifier
	router    *outbox.Router
	routes    outbox.RouterConfig
	started   bool
	ctx       context.Context // of start
}

var _ api.Notifications = (*notifications)(nil)

// newNotifications builds the notifiers, the outbox and the router of cfg;
// nothing runs until start. The notifiers' secrets are resolved here: a
// reference that cannot be resolved is a config.ErrorList.
func newNotifications(cfg *config.Config, st *store.Store, rec *events.Recorder, log *slog.Logger) (*notifications, error) {
	ns, err := notify.Build(cfg)
	if err != nil {
		return nil, err
	}
	n := &notifications{log: log, st: st, events: rec, node: cfg.Node, settings: cfg.Notifications, notifiers: ns,
		stopTimeout: notifyStopTimeout}
	if n.out, err = n.newOutbox(cfg.Notifications, ns); err != nil {
		return nil, err
	}
	n.routes = routerConfig(cfg.Alerts.Routes)
	if n.router, err = outbox.NewRouter(n.routes, n, outbox.RouterOptions{Delivered: st, Node: cfg.Node, Logger: log}); err != nil {
		return nil, fmt.Errorf("alert routes: %w", err)
	}
	return n, nil
}

func (n *notifications) newOutbox(s config.Notifications, ns map[string]notify.Notifier) (*outbox.Outbox, error) {
	return outbox.New(n.st, ns, outbox.Options{
		MaxAge:     s.MaxAge,
		MinBackoff: s.MinBackoff,
		MaxBackoff: s.MaxBackoff,
		Retention:  s.Keep,
		OnGiveUp:   n.gaveUp,
		Logger:     n.log,
	})
}

// routerConfig turns alerts.routes into the router's routes. A route's
// reminders are the alert engine's (which stop when an alert is
// acknowledged), so the router repeats nothing itself.
func routerConfig(routes []config.Route) outbox.RouterConfig {
	var rc outbox.RouterConfig
	for _, r := range routes {
		rt := outbox.Route{Name: r.Name, To: r.To, GroupWait: r.GroupWait, Continue: r.Continue}
		if r.GroupWait == 0 {
			rt.GroupWait = -1 // outbox: 0 is its default wait, negative none
		}
		for label, glob := range r.Match {
			switch label {
			case "severity":
				rt.Match.Severity = []string{glob}
			case "service":
				rt.Match.Service = []string{glob}
			case "rule":
				rt.Match.Rule = []string{glob}
			case "subject":
				rt.Match.Subject = []string{glob}
			}
		}
		rc.Routes = append(rc.Routes, rt)
	}
	return rc
}

// start starts the outbox, which delivers what an earlier run left
// pending, and the router, which is told of the alerts firing now.
func (n *notifications) start(ctx context.Context) {
	n.mu.Lock()
	n.started, n.ctx = true, context.WithoutCancel(ctx)
	out, router := n.out, n.router
	n.mu.Unlock()
	if err := out.Start(ctx); err != nil {
		n.log.Error("start notifications outbox", "err", err)
	}
	if err := router.Start(ctx); err != nil {
		n.log.Error("start alert router", "err", err)
	}
	n.refeed(ctx, router)
}

// refeed tells router of the alerts firing now.
func (n *notifications) refeed(ctx context.Context, router *outbox.Router) {
	if n.firing == nil {
		return
	}
	list, err := n.firing(ctx)
	if err != nil {
		n.log.Error("list firing alerts for the notifications", "err", err)
		return
	}
	for _, a := range list {
		if a.State == steward.AlertFiring && len(a.Silenced) == 0 {
			_ = router.Alert(ctx, toNotify(a, steward.AlertTransition{To: steward.AlertFiring, Message: a.Message}))
		}
	}
}

// stop stops the router, which enqueues what it still holds, then the
// outbox; what is not delivered yet is delivered after the next start.
func (n *notifications) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), n.stopTimeout)
	defer cancel()
	n.mu.Lock()
	out, router := n.out, n.router
	n.started = false
	n.mu.Unlock()
	if err := router.Stop(ctx); err != nil {
		n.log.Error("stop alert router", "err", err)
	}
	if err := out.Stop(ctx); err != nil {
		n.log.Error("stop notifications outbox", "err", err)
	}
}

// apply makes the notifiers, the routes and the delivery settings those of
// cfg, which Daemon.parse validated, its secrets included. Calls of apply
// are serialized by the daemon.
func (n *notifications) apply(cfg *config.Config) {
	ctx := context.Background()
	ns, err := notify.Build(cfg)
	if err != nil {
		// A secret file that went away since the config was validated.
		n.log.Error("notifiers not changed", "err", err)
	}
	n.mu.Lock()
	if ns != nil {
		n.notifiers = ns
	}
	notifiers, out, started, settings := n.notifiers, n.out, n.started, n.settings
	n.mu.Unlock()
	if ns != nil {
		out.SetNotifiers(ns)
	}
	// Neither lock is held while a router or an outbox stops: the router
	// enqueues through n.
	if cfg.Notifications != settings {
		if err := n.replaceOutbox(ctx, out, started, cfg.Notifications, notifiers); err != nil {
			n.log.Error("notifications settings not changed", "err", err)
		}
	}
	rc := routerConfig(cfg.Alerts.Routes)
	n.mu.Lock()
	same := reflect.DeepEqual(rc, n.routes)
	n.mu.Unlock()
	if same {
		return
	}
	router, err := outbox.NewRouter(rc, n, outbox.RouterOptions{Delivered: n.st, Node: n.node, Logger: n.log})
	if err != nil {
		n.log.Error("alert routes not changed", "err", err)
		return
	}
	n.mu.Lock()
	old := n.router
	n.router, n.routes = router, rc
	n.mu.Unlock()
	if !started {
		return
	}
	// The old router enqueues what it holds; the new one starts from the
	// alerts firing now.
	sctx, cancel := context.WithTimeout(ctx, n.stopTimeout)
	defer cancel()
	if err := old.Stop(sctx); err != nil {
		n.log.Error("stop alert router", "err", err)
	}
	if err := router.Start(n.ctx); err != nil {
		n.log.Error("start alert router", "err", err)
	}
	n.refeed(ctx, router)
}

// replaceOutbox replaces the outbox old with one with settings s; pending
// notifications wait in the store meanwhile. An old outbox that does not
// stop in time is canceled all the same and delivers nothing more, so the
// new one takes over: the attempts still under way in the old one finish on
// their own, the new one may make them again, and such a notification may
// then be delivered twice, under the same idempotency key.
func (n *notifications) replaceOutbox(ctx context.Context, old *outbox.Outbox, started bool, s config.Notifications, ns map[string]notify.Notifier) error {
	out, err := n.newOutbox(s, ns)
	if err != nil {
		return err
	}
	if started {
		sctx, cancel := context.WithTimeout(ctx, n.stopTimeout)
		defer cancel()
		if err := old.Stop(sctx); err != nil {
			n.log.Warn("the old notifications outbox did not stop in time; the new one takes over, and may deliver its attempts under way again", "err", err)
		}
	}
	n.mu.Lock()
	n.out, n.settings = out, s
	n.mu.Unlock()
	if started {
		return out.Start(n.ctx)
	}
	return nil
}

func (n *notifications) current() *outbox.Outbox {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.out
}

// Enqueue stores a message of the router in the current outbox.
func (n *notifications) Enqueue(ctx context.Context, notifier string, m notify.Message) (outbox.Notification, error) {
	return n.current().Enqueue(ctx, notifier, m)
}

// List, Get and Retry serve the API.
func (n *notifications) List(ctx context.Context, f outbox.Filter) ([]outbox.Notification, error) {
	return n.current().List(ctx, f)
}

func (n *notifications) Get(ctx context.Context, id int64) (outbox.Notification, error) {
	return n.current().Get(ctx, id)
}

func (n *notifications) Retry(ctx context.Context, id int64) (outbox.Notification, error) {
	return n.current().Retry(ctx, id)
}

// alert is the alert engine's Notify: it hands a transition to the router.
// Acknowledgements are not notified; reminders are, as changes.
func (n *notifications) alert(a steward.Alert, tr steward.AlertTransition) {
	if tr.To != steward.AlertFiring && tr.To != steward.AlertResolved {
		return
	}
	if tr.From == tr.To && !a.AckedAt.IsZero() && a.AckedAt.Equal(tr.Time) {
		return // an acknowledgement
	}
	n.mu.Lock()
	router := n.router
	n.mu.Unlock()
	if err := router.Alert(context.Background(), toNotify(a, tr)); err != nil {
		n.log.Error("route alert", "alert", a.ID, "err", err)
	}
}

// toNotify returns alert a after transition tr as notifications show it.
func toNotify(a steward.Alert, tr steward.AlertTransition) notify.Alert {
	na := notify.Alert{
		ID:       "alert-" + strconv.FormatInt(a.ID, 10),
		Status:   notify.StatusFiring,
		Severity: a.Severity,
		Rule:     a.Rule,
		Subject:  a.Subject,
		Service:  a.Service(),
		Summary:  tr.Message,
		Started:  a.Started,
	}
	if tr.To == steward.AlertResolved {
		na.Status, na.Ended = notify.StatusResolved, a.Resolved
	}
	return na
}

// gaveUp records that the outbox gave up on x; the outbox logs it too.
func (n *notifications) gaveUp(x outbox.Notification) {
	reason := fmt.Sprintf("notification %d to %s given up: %s: %s", x.ID, x.Notifier, x.Message.Title(), x.LastError)
	ev := steward.Event{Type: steward.EventNotification, Reason: reason}
	if _, err := n.events.Record(context.Background(), ev); err != nil {
		n.log.Error("record event", "err", err)
	}
}
