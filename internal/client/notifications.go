package client

import (
	"context"
	"strconv"

	"github.com/stewardhq/steward"
)

// Notifications returns the notifications in the outbox in the given
// states (pending, failed, delivered; none means all), newest first.
func (c *Client) Notifications(ctx context.Context, states ...string) ([]steward.Notification, error) {
	var out []steward.Notification
	q := steward.NotificationQuery{States: states}
	err := c.call(ctx, request{method: "GET", path: "/v1/notifications", query: q.Values()}, &out)
	return out, err
}

// Notification returns notification id.
func (c *Client) Notification(ctx context.Context, id int64) (steward.Notification, error) {
	var out steward.Notification
	err := c.call(ctx, request{method: "GET", path: "/v1/notifications/" + strconv.FormatInt(id, 10)}, &out)
	return out, err
}

// RetryNotification makes failed notification id pending again, with the
// same idempotency key.
func (c *Client) RetryNotification(ctx context.Context, id int64) (steward.Notification, error) {
	var out steward.Notification
	err := c.call(ctx, request{method: "POST", path: "/v1/notifications/" + strconv.FormatInt(id, 10) + "/retry"}, &out)
	return out, err
}
