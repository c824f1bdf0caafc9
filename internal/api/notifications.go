package api

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/outbox"
	"github.com/stewardhq/steward/internal/store"
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
var notificationStates = []string{store.NotificationPending, store.NotificationDelivered, store.NotificationFailed}

// listNotifications serves GET /v1/notifications?state=&notifier=&limit=:
// the notifications in the given states (comma-separated; none or "all"
// for every state), newest first.
func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Notifications == nil {
		return errNoNotifications
	}
	q := r.URL.Query()
	f := outbox.Filter{Notifier: q.Get("notifier")}
	for _, v := range q["state"] {
		for st := range strings.SplitSeq(v, ",") {
			switch {
			case st == "" || st == "all":
			case !slices.Contains(notificationStates, st):
				return steward.Errorf(steward.EINVALID, "state=%q: want pending, failed, delivered or all", st)
			case !slices.Contains(f.States, st):
				f.States = append(f.States, st)
			}
		}
	}
	if slices.Contains(q["state"], "all") {
		f.States = nil
	}
	var err error
	if f.Limit, err = intParam("limit", q.Get("limit"), 0, 0); err != nil {
		return err
	}
	list, err := s.opts.Notifications.List(r.Context(), f)
	if err != nil {
		return err
	}
	if list == nil {
		list = []outbox.Notification{}
	}
	return writeJSON(w, http.StatusOK, list)
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
	return writeJSON(w, http.StatusOK, n)
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
	s.log.Info("api notification retried", "notification", id, "notifier", n.Notifier, "who", who(r.Context()))
	return writeJSON(w, http.StatusOK, n)
}
