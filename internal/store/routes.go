package store

import (
	"context"
	"fmt"
	"time"

	"github.com/stewardhq/steward"
)

// RouteAlert is an alert whose firing a route of the alert router
// notified.
type RouteAlert struct {
	Route       string
	Fingerprint string    // the alert's identity
	Alert       []byte    // the alert as last notified, as its owner encoded it
	Notified    time.Time // when its last message was enqueued
}

// RouteAlerts returns the notified alerts of every route, by route and
// fingerprint.
func (s *Store) RouteAlerts(ctx context.Context) ([]RouteAlert, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT route, fingerprint, alert, notified FROM route_alerts
ORDER BY route, fingerprint`)
	if err != nil {
		return nil, fmt.Errorf("list route alerts: %w", err)
	}
	defer rows.Close()
	var out []RouteAlert
	for rows.Next() {
		var (
			ra RouteAlert
			ns int64
		)
		if err := rows.Scan(&ra.Route, &ra.Fingerprint, &ra.Alert, &ns); err != nil {
			return nil, fmt.Errorf("list route alerts: %w", err)
		}
		ra.Notified = time.Unix(0, ns).UTC()
		out = append(out, ra)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list route alerts: %w", err)
	}
	return out, nil
}

// SaveRouteAlerts stores notified, alerts of route, replacing those of the
// same fingerprints, and deletes route's alerts whose fingerprints are in
// forget, in one transaction.
func (s *Store) SaveRouteAlerts(ctx context.Context, route string, notified []RouteAlert, forget []string) (err error) {
	for _, ra := range notified {
		if ra.Route != route || ra.Fingerprint == "" {
			return fmt.Errorf("save route alerts: %w", steward.Errorf(steward.EINVALID,
				"invalid route alert %q/%q for route %q", ra.Route, ra.Fingerprint, route))
		}
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("save route alerts: %w", err)
		}
	}()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, ra := range notified {
		alert := ra.Alert
		if alert == nil {
			alert = []byte{}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO route_alerts (route, fingerprint, alert, notified) VALUES (?, ?, ?, ?)
ON CONFLICT (route, fingerprint) DO UPDATE SET alert = excluded.alert, notified = excluded.notified`,
			route, ra.Fingerprint, alert, unixNano(ra.Notified)); err != nil {
			return err
		}
	}
	for _, fp := range forget {
		if _, err := tx.ExecContext(ctx, `DELETE FROM route_alerts WHERE route = ? AND fingerprint = ?`, route, fp); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.wrote()
	return nil
}
