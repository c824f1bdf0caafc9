package api

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/outbox"
)

// Notifications is the outbox of notifications as the API drives it.
type Notifications interface {
	List(ctx context.Context, f outbox.Filter) ([]outbox.Notification, error)
	Get(ctx context.Context, id int64) (outbox.Notification, error) // ENOTFOUND for an unknown id
	// Retry makes a failed notification pending again: ENOTFOUND for an
	// unknown id, ECONFLICT for one that is not failed.
	Retry(ctx context.Context, id int64) (outbox.Notification, error)
}

var errNoNotifications = steward.Errorf(steward.EUNAVAILABLE, "notifications are not enabled on this steward")

// notificationStates are the states GET /v1/notifications may select.
var notificationStates = []string{steward.NotificationPending, steward.NotificationDelivered, steward.NotificationFailed}

// listNotifications serves GET /v1/notifications?state=&notifier=&limit=:
// the notifications in the given states (comma-separated; none or "all"
// for every state), newest first.
func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Notifications == nil {
		return errNoNotifications
	}
	q := r.URL.Query()
	nq := steward.NotificationQuery{Notifier: q.Get("notifier")}
	for _, v := range q["state"] {
		for st := range strings.SplitSeq(v, ",") {
			switch {
			case st == "" || st == "all":
			case !slices.Contains(notificationStates, st):
				return steward.Errorf(steward.EINVALID, "state=%q: want pending, failed, delivered or all", st)
			case !slices.Contains(nq.States, st):
				nq.States = append(nq.States, st)
			}
		}
	}
	if slices.Contains(q["state"], "all") {
		nq.States = nil
	}
	var err error
	if nq.Limit, err = intParam("limit", q.Get("limit"), 0, 0); err != nil {
		return err
	}
	list, err := s.opts.Notifications.List(r.Context(), outbox.Filter(nq))
	if err != nil {
		return err
	}
	out := make([]steward.Notification, len(list))
	for i, n := range list {
		out[i] = notification(n)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getNotification(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Notifications == nil {
		return errNoNotifications
	}
	id, err := idParam(r, "notification")
	if err != nil {
		return err
	}
	n, err := s.opts.Notifications.Get(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, notification(n))
}

// retryNotification serves POST /v1/notifications/{id}/retry.
func (s *Server) retryNotification(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Notifications == nil {
		return errNoNotifications
	}
	id, err := idParam(r, "notification")
	if err != nil {
		return err
	}
	n, err := s.opts.Notifications.Retry(r.Context(), id)
	if err != nil {
		return err
	}
	s.log.Info("api notification retried", "notification", id, "notifier", n.Notifier, "who", s.who(r.Context()))
	return writeJSON(w, http.StatusOK, notification(n))
}

// notification is n on the wire, with the title and text its notifiers
// render.
func notification(n outbox.Notification) steward.Notification {
	m := n.Message
	wm := steward.NotificationMessage{Key: m.Key, Status: string(m.Status), Severity: m.Severity, Route: m.Route,
		Node: m.Node, Time: m.Time, Repeat: m.Repeat, Alerts: make([]steward.NotificationAlert, len(m.Alerts)),
		Title: m.Title(), Text: m.Text()}
	for i, a := range m.Alerts {
		wm.Alerts[i] = steward.NotificationAlert{ID: a.ID, Status: string(a.Status), Severity: a.Severity, Rule: a.Rule,
			Subject: a.Subject, Service: a.Service, Labels: a.Labels, Summary: a.Summary, Started: a.Started, Ended: a.Ended}
	}
	return steward.Notification{ID: n.ID, Key: n.Key, Notifier: n.Notifier, State: n.State, Created: n.Created,
		Since: n.Since, Attempts: n.Attempts, NextAttempt: n.NextAttempt, LastAttempt: n.LastAttempt,
		LastError: n.LastError, Done: n.Done, Message: wm}
}
