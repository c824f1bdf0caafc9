package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/stewardhq/steward/internal/notify"
	"github.com/stewardhq/steward/internal/store"
)

// load takes the alerts each route notified, as r.delivered kept them, as
// notified: an alert still firing that the engine feeds again is then no
// news, its resolution is, and a route's repeat is due its Repeat after the
// last message. The alerts of routes that no longer exist, or that cannot
// be read, are forgotten. r.mu is held.
func (r *Router) load(ctx context.Context) error {
	if r.delivered == nil {
		return nil
	}
	rows, err := r.delivered.RouteAlerts(ctx)
	if err != nil {
		return err
	}
	groups := make(map[string]*group, len(r.groups))
	for _, g := range r.groups {
		groups[g.name] = g
	}
	last := map[*group]time.Time{}
	forget := map[string][]string{}
	for _, row := range rows {
		g := groups[row.Route]
		var a notify.Alert
		if g == nil || json.Unmarshal(row.Alert, &a) != nil || a.Status != notify.StatusFiring {
			forget[row.Route] = append(forget[row.Route], row.Fingerprint)
			continue
		}
		g.alerts[row.Fingerprint] = &entry{alert: a, notified: true}
		if row.Notified.After(last[g]) {
			last[g] = row.Notified
		}
	}
	for g, t := range last {
		if g.route.Repeat > 0 {
			g.repeatAt = t.Add(g.route.Repeat)
		}
	}
	var errs []error
	for route, fps := range forget {
		errs = append(errs, r.delivered.SaveRouteAlerts(ctx, route, nil, fps))
	}
	return errors.Join(errs...)
}

// saveNotified stores, after g's message was enqueued at now, its firing
// alerts as notified at now and forgets its resolved ones. A failure is
// logged: the message is out, and only a restart before the next message
// would notify these alerts again.
func (r *Router) saveNotified(ctx context.Context, g *group, now time.Time) {
	if r.delivered == nil {
		return
	}
	var (
		notified []store.RouteAlert
		forget   []string
	)
	for fp, e := range g.alerts {
		if e.alert.Status == notify.StatusResolved {
			forget = append(forget, fp)
			continue
		}
		b, err := json.Marshal(e.alert)
		if err != nil {
			r.log.Error("router: encode notified alert", "route", g.name, "alert", fp, "err", err)
			continue
		}
		notified = append(notified, store.RouteAlert{Route: g.name, Fingerprint: fp, Alert: b, Notified: now.UTC()})
	}
	if err := r.delivered.SaveRouteAlerts(context.WithoutCancel(ctx), g.name, notified, forget); err != nil {
		r.log.Error("router: save notified alerts", "route", g.name, "notified", len(notified), "resolved", len(forget), "err", err)
	}
}
