package api_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/api/apitest"
	"github.com/stewardhq/steward/internal/client"
	"github.com/stewardhq/steward/internal/ipc"
	"github.com/stewardhq/steward/internal/notify"
	"github.com/stewardhq/steward/internal/outbox"
	"github.com/stewardhq/steward/internal/store"
)

func TestNotificationsAPI(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ob, err := outbox.New(st, nil, outbox.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	configs, err := apitest.NewConfigs(filepath.Join(t.TempDir(), "s.yaml"), []byte(configText))
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(apitest.Serve(t, api.New(api.Options{
		Services: apitest.NewServices(), Events: &apitest.Events{}, Configs: configs, Notifications: ob,
	}).Handler()))
	t.Cleanup(c.Close)

	m := notify.Message{Status: notify.StatusFiring, Alerts: []notify.Alert{{Status: notify.StatusFiring, Rule: "failed", Subject: "api"}}}
	first, err := ob.Enqueue(ctx, "hook", m)
	if err != nil {
		t.Fatal(err)
	}
	second, err := ob.Enqueue(ctx, "mail", m)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.NotificationGivenUp(ctx, second.ID, time.Now(), "not delivered within the max age"); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		states []string
		want   []int64
	}{
		{nil, []int64{second.ID, first.ID}},
		{[]string{"pending"}, []int64{first.ID}},
		{[]string{"failed", "delivered"}, []int64{second.ID}},
		{[]string{"delivered"}, nil},
		{[]string{"all"}, []int64{second.ID, first.ID}},
	} {
		list, err := c.Notifications(ctx, tt.states...)
		if err != nil {
			t.Fatalf("%v: %v", tt.states, err)
		}
		var got []int64
		for _, n := range list {
			got = append(got, n.ID)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%v: ids %v, want %v", tt.states, got, tt.want)
		}
	}
	if _, err := c.Notifications(ctx, "stuck"); steward.ErrorCode(err) != steward.EINVALID {
		t.Errorf("state=stuck: %v", err)
	}
	n, err := c.Notification(ctx, first.ID)
	if err != nil || n.Key != first.Key || n.Notifier != "hook" || n.State != steward.NotificationPending || n.Message.Alerts[0].Subject != "api" {
		t.Errorf("notification = %+v, %v", n, err)
	}
	if want := m.Title(); n.Message.Title != want || n.Message.Text != m.Text() || n.Message.Status != "firing" {
		t.Errorf("message title %q, text %q, status %q; want %q, the notifiers' text, firing", n.Message.Title, n.Message.Text, n.Message.Status, want)
	}
	if n.Message.Report != nil {
		t.Errorf("an alert's message has report %+v", n.Message.Report)
	}

	// A report job's message carries its file as the JSON webhook does.
	since := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	rm := notify.Message{Key: "report-7-hook", Status: notify.StatusResolved, Time: since.Add(7 * 24 * time.Hour),
		Report: &notify.Report{Job: "weekly", Path: "/var/lib/steward/reports/weekly-20261207T080000Z.xlsx",
			Name: "weekly-20261207T080000Z.xlsx", ContentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
			Size: 12345, SHA256: strings.Repeat("ab", 32), Since: since, Until: since.Add(7 * 24 * time.Hour),
			URL: "http://node:8080/v1/report?format=xlsx&since=2026-11-30T08%3A00%3A00Z"}}
	queued, err := ob.Enqueue(ctx, "hook", rm)
	if err != nil {
		t.Fatal(err)
	}
	n, err = c.Notification(ctx, queued.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(n.Message.Report)
	want, _ := json.Marshal(rm.Report)
	if string(got) != string(want) || n.Message.Title != rm.Title() {
		t.Errorf("report message: report %s, title %q; want %s (the webhook's) and %q", got, n.Message.Title, want, rm.Title())
	}

	if _, err := c.Notification(ctx, 99); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("notification 99: %v", err)
	}
	if _, err := c.RetryNotification(ctx, first.ID); steward.ErrorCode(err) != steward.ECONFLICT {
		t.Errorf("retry of a pending one: %v", err)
	}
	n, err = c.RetryNotification(ctx, second.ID)
	if err != nil || n.State != steward.NotificationPending || n.Key != second.Key || n.Attempts != 0 {
		t.Errorf("retry = %+v, %v", n, err)
	}
}

func TestNotificationsUnavailable(t *testing.T) {
	configs, err := apitest.NewConfigs(filepath.Join(t.TempDir(), "s.yaml"), []byte(configText))
	if err != nil {
		t.Fatal(err)
	}
	sock := apitest.Serve(t, api.New(api.Options{Services: apitest.NewServices(), Events: &apitest.Events{}, Configs: configs}).Handler())
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return ipc.Dial(ctx, sock)
	}}}
	t.Cleanup(hc.CloseIdleConnections)
	for _, rq := range []string{"GET /v1/notifications", "GET /v1/notifications/1", "POST /v1/notifications/1/retry"} {
		method, path, _ := strings.Cut(rq, " ")
		req, _ := http.NewRequest(method, "http://steward"+path, nil)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s: status %d, want 503", rq, resp.StatusCode)
		}
	}
}
