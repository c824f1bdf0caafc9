package config

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseNotifications(t *testing.T) {
	c := mustParse(t, `
notify:
  ops-hook: {hook: {url: "https://h/?token=${env:T}"}}
  ops-mail: {page: {url: mailto}}
  pager: {hook: {url: pager}}
notifications: {max_age: 2h, min_backoff: 100ms, max_backoff: 1s, keep: 48h}
alerts:
  routes:
    - match: {severity: critical, service: "web*"}
      to: [ops-mail, ops-hook]
      group_wait: 0s
      repeat: 1h
    - {name: rest, to: [pager], continue: true}
`)
	if got, want := c.NotifyOrder, []string{"ops-hook", "ops-mail", "pager"}; !reflect.DeepEqual(got, want) {
		t.Errorf("NotifyOrder = %q, want %q", got, want)
	}
	if n := c.Notify["ops-mail"]; n.Name != "ops-mail" || n.Type != "page" || !reflect.DeepEqual(n.Spec, &hookSpec{URL: "mailto"}) {
		t.Errorf("ops-mail = %+v", n)
	}
	if n := c.Notifications; n != (Notifications{MaxAge: 2 * time.Hour, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, Keep: 48 * time.Hour}) {
		t.Errorf("notifications = %+v", n)
	}
	r := c.Alerts.Routes
	if len(r) != 2 || r[0].GroupWait != 0 || r[0].Repeat != time.Hour || r[0].Match["service"] != "web*" ||
		!reflect.DeepEqual(r[0].To, []string{"ops-mail", "ops-hook"}) {
		t.Errorf("route 0 = %+v", r[0])
	}
	if r[1].Name != "rest" || r[1].GroupWait != DefaultGroupWait || !r[1].Continue {
		t.Errorf("route 1 = %+v", r[1])
	}
	d := mustParse(t, "")
	if d.Notifications != defaultNotifications() || len(d.Notify) != 0 {
		t.Errorf("defaults: %+v %+v", d.Notifications, d.Notify)
	}
	if _, err := json.Marshal(c); err != nil {
		t.Errorf("config JSON: %v", err)
	}
}

func TestNotificationErrors(t *testing.T) {
	for _, tt := range []struct {
		name, src string
		want      []string
	}{
		{"routes", `notify:
  ops: {hook: {url: x}}
alerts:
  routes:
    - {to: [opz, ops, ops], match: {service: "["}}
    - {match: {severity: critical}}
    - {name: route-1, to: [], group_wait: -1s}
`, []string{
			`steward.yaml:5:13: route.to: no notifier "opz" in notify (did you mean "ops"?)`,
			`steward.yaml:5:23: route.to lists "ops" twice`,
			`steward.yaml:5:46: route.match.service: invalid pattern "["`,
			`steward.yaml:6:7: route needs to: the notifiers it sends to`,
			`steward.yaml:7:7: route "route-1" is already defined (at 5:7)`,
			`steward.yaml:7:43: route.group_wait: duration must not be negative`,
		}},
		{"notifications", "notifications: {max_age: 0, min_backoff: 2s, max_backoff: 1s, keeep: 1h}\n", []string{
			`steward.yaml:1:26: notifications.max_age must be more than 0`,
			`steward.yaml:1:59: notifications.max_backoff (1s) must not be less than notifications.min_backoff (2s)`,
			`steward.yaml:1:63: unknown key "keeep" (did you mean "keep"?)`,
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErrors(t, tt.src)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
