// Package outbox provides steward's durable delivery of notifications and
// the routing that produces them.
//
// The Outbox writes every notification to the store before any attempt to
// deliver it, then delivers it with its notifier, retrying with exponential
// backoff while the receiver is down. Pending notifications survive a
// restart or a kill -9 of steward: Start picks them up. Delivery is at least
// once, with a stable idempotency key per notification (Message.Key); the
// Outbox gives up only when a notification is older than its max age, and
// says so in the log and through Options.OnGiveUp. List and Retry serve the
// API and the CLI.
//
// The Router turns alerts into notifications: it matches each alert to
// routes by severity, service and labels, groups the alerts a route gets
// within its group_wait into one message per notifier, repeats what is
// still firing every repeat, and sends resolved notifications. It stores
// what each route notified, so that a restart of steward notifies nothing
// twice.
//
// The daemon imports this package; it imports notify and store.
package outbox

import (
	"cmp"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/backoff"
	"github.com/stewardhq/steward/internal/notify"
	"github.com/stewardhq/steward/internal/store"
)

// Defaults of Options.
const (
	DefaultMaxAge         = 24 * time.Hour
	DefaultMinBackoff     = time.Second
	DefaultMaxBackoff     = 5 * time.Minute
	DefaultWorkers        = 4
	DefaultAttemptTimeout = time.Minute
	DefaultRetention      = 7 * 24 * time.Hour
)

// pruneEvery is how often the worker deletes old delivered and failed
// notifications.
const pruneEvery = time.Hour

// maxErrorText is the longest error text stored for an attempt.
const maxErrorText = 1000

// Options configure an Outbox. Zero values take the defaults.
type Options struct {
	// MaxAge is how long the Outbox keeps trying to deliver a notification
	// before it gives up on it.
	MaxAge time.Duration
	// MinBackoff is the wait after the first failed attempt; it doubles
	// after each further failure, up to MaxBackoff, plus up to 25% jitter.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// Workers is how many deliveries may run at once.
	Workers int
	// AttemptTimeout bounds one attempt, whatever the notifier's own
	// timeout.
	AttemptTimeout time.Duration
	// Retention is how long delivered and failed notifications are kept
	// for List before they are deleted; pending ones are never deleted.
	Retention time.Duration
	// OnGiveUp, when set, is called after a notification was given up, with
	// the notification as stored: the daemon records an event with it. It
	// runs on a delivery goroutine and must not block for long.
	OnGiveUp func(Notification)
	// OnDelivered, when set, is called after a notification was delivered.
	OnDelivered func(Notification)
	Logger      *slog.Logger     // nil means slog.Default()
	Now         func() time.Time // clock; nil means time.Now
}

// Notification is one notification in the outbox: a message for one
// notifier, with its delivery state.
type Notification struct {
	ID          int64          `json:"id"`
	Key         string         `json:"key"` // the idempotency key, also Message.Key
	Notifier    string         `json:"notifier"`
	State       string         `json:"state"` // pending, delivered or failed
	Created     time.Time      `json:"created"`
	Since       time.Time      `json:"since"` // start of the current run of attempts
	Attempts    int            `json:"attempts"`
	NextAttempt time.Time      `json:"next_attempt,omitzero"` // while pending
	LastAttempt time.Time      `json:"last_attempt,omitzero"`
	LastError   string         `json:"last_error,omitempty"` // or why it was given up
	Done        time.Time      `json:"done,omitzero"`        // when delivered or given up
	Message     notify.Message `json:"message"`
}

// Queue holds the notifications waiting to be delivered.
type Queue interface {
	AddNotification(ctx context.Context, n *store.Notification) error
	DueNotifications(ctx context.Context, now time.Time, limit int) ([]store.Notification, error)
	PruneNotifications(ctx context.Context, before time.Time) (int64, error)
}

// Attempts records the outcome of delivery attempts.
type Attempts interface {
	NotificationDelivered(ctx context.Context, id int64, at time.Time) error
	NotificationAttemptFailed(ctx context.Context, id int64, at, next time.Time, errText string) error
	NotificationGivenUp(ctx context.Context, id int64, at time.Time, reason string) error
}

// History lists notifications and retries failed ones, for List, Get and
// Retry.
type History interface {
	Notifications(ctx context.Context, f store.NotificationFilter) ([]store.Notification, error)
	Notification(ctx context.Context, id int64) (store.Notification, error)
	RetryNotification(ctx context.Context, id int64, now time.Time) (store.Notification, error)
}

// Store is what an Outbox keeps its notifications in: *store.Store.
type Store interface {
	Queue
	Attempts
	History
}

// Outbox delivers notifications durably. It is safe for concurrent use.
// Construct it with New, then Start it; Enqueue, List and Retry work before
// Start too (deliveries then wait for it).
type Outbox struct {
	st   Store
	opts Options
	log  *slog.Logger
	now  func() time.Time

	mu        sync.Mutex
	notifiers map[string]notify.Notifier
	inflight  map[int64]bool
	finished  uint64 // deliveries ended so far: dispatch's check for a stale read

	wake      chan struct{} // capacity 1: look for due notifications now
	cancel    context.CancelFunc
	done      chan struct{} // closed when the worker loop has returned
	wg        sync.WaitGroup
	started   bool
	lastPrune time.Time
}

// New returns an Outbox that keeps its notifications in st and delivers
// them with notifiers, by name. It has no side effects.
func New(st Store, notifiers map[string]notify.Notifier, opts Options) (*Outbox, error) {
	if st == nil {
		return nil, errors.New("outbox: no store")
	}
	if opts.MaxAge < 0 || opts.MinBackoff < 0 || opts.MaxBackoff < 0 || opts.Workers < 0 ||
		opts.AttemptTimeout < 0 || opts.Retention < 0 {
		return nil, steward.Errorf(steward.EINVALID, "outbox: negative option")
	}
	opts.MaxAge = cmp.Or(opts.MaxAge, DefaultMaxAge)
	opts.MinBackoff = cmp.Or(opts.MinBackoff, DefaultMinBackoff)
	opts.MaxBackoff = max(cmp.Or(opts.MaxBackoff, DefaultMaxBackoff), opts.MinBackoff)
	opts.Workers = cmp.Or(opts.Workers, DefaultWorkers)
	opts.AttemptTimeout = cmp.Or(opts.AttemptTimeout, DefaultAttemptTimeout)
	opts.Retention = cmp.Or(opts.Retention, DefaultRetention)
	o := &Outbox{
		st:       st,
		opts:     opts,
		log:      cmp.Or(opts.Logger, slog.Default()),
		now:      opts.Now,
		inflight: make(map[int64]bool),
		wake:     make(chan struct{}, 1),
	}
	if o.now == nil {
		o.now = time.Now
	}
	o.SetNotifiers(notifiers)
	return o, nil
}

// SetNotifiers replaces the notifiers, as after a reload. A pending
// notification whose notifier is gone fails its attempts until its max age,
// in case the notifier comes back.
func (o *Outbox) SetNotifiers(notifiers map[string]notify.Notifier) {
	o.mu.Lock()
	o.notifiers = maps.Clone(notifiers)
	o.mu.Unlock()
	o.Wake()
}

// Enqueue stores m for the notifier named notifier, due at once, and wakes
// the worker. m.Key is the idempotency key; an empty one is set to a new
// random key. Enqueueing a key that is already stored fails with code
// steward.ECONFLICT and stores nothing, so a caller may retry an Enqueue
// safely.
func (o *Outbox) Enqueue(ctx context.Context, notifier string, m notify.Message) (Notification, error) {
	if m.Key == "" {
		m.Key = NewKey()
	}
	if m.Time.IsZero() {
		m.Time = o.now().UTC()
	}
	body, err := json.Marshal(m)
	if err != nil {
		return Notification{}, fmt.Errorf("enqueue notification: %w", err)
	}
	row := store.Notification{Key: m.Key, Notifier: notifier, Body: body, Created: o.now().UTC()}
	if err := o.st.AddNotification(ctx, &row); err != nil {
		return Notification{}, fmt.Errorf("enqueue notification: %w", err)
	}
	o.Wake()
	return fromRow(row, m), nil
}

// NewKey returns a new random idempotency key: 32 hex digits.
func NewKey() string {
	var b [16]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Wake makes the worker look for due notifications now.
func (o *Outbox) Wake() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Start starts delivering: first what was pending when steward stopped,
// then each notification as it comes. It returns at once.
func (o *Outbox) Start(ctx context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.started {
		return errors.New("outbox: already started")
	}
	o.started = true
	ctx, o.cancel = context.WithCancel(context.WithoutCancel(ctx))
	o.done = make(chan struct{})
	go o.loop(ctx)
	return nil
}

// Stop stops delivering and waits, until ctx is done, for the attempts
// under way to end; they are canceled, and are made again after the next
// Start, as due. Stop is safe to call without Start and more than once.
func (o *Outbox) Stop(ctx context.Context) error {
	o.mu.Lock()
	cancel, done := o.cancel, o.done
	o.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	all := make(chan struct{})
	go func() {
		<-done
		o.wg.Wait()
		close(all)
	}()
	select {
	case <-all:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("outbox: stop: %w", ctx.Err())
	}
}

// loop dispatches due notifications until ctx is done.
func (o *Outbox) loop(ctx context.Context) {
	defer close(o.done)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		wait := o.dispatch(ctx)
		o.maybePrune(ctx)
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-o.wake:
		case <-timer.C:
		}
	}
}

// idleWait is the longest the worker sleeps: a guard against a clock that
// jumps.
const idleWait = time.Minute

// dispatch starts the deliveries that are due and have a free worker, and
// returns how long to wait before looking again (a finished delivery, an
// Enqueue or a Retry wakes the worker earlier).
func (o *Outbox) dispatch(ctx context.Context) time.Duration {
	o.mu.Lock()
	inflight, finished := len(o.inflight), o.finished
	o.mu.Unlock()
	// The earliest due, skipping those in flight.
	rows, err := o.st.DueNotifications(ctx, maxTime, inflight+o.opts.Workers)
	if err != nil {
		if ctx.Err() == nil {
			o.log.Error("outbox: list due notifications", "err", err)
		}
		return time.Second
	}
	now := o.now()
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.finished != finished {
		// A delivery ended, and left inflight, while rows were read: they
		// may show it as it was before, still due. Read them again.
		return 0
	}
	for _, row := range rows {
		if o.inflight[row.ID] {
			continue
		}
		if row.NextAttempt.After(now) {
			return min(row.NextAttempt.Sub(now), idleWait)
		}
		if len(o.inflight) >= o.opts.Workers {
			return idleWait // a finished delivery wakes the worker
		}
		o.inflight[row.ID] = true
		o.wg.Add(1)
		go o.deliver(ctx, row)
	}
	return idleWait
}

var maxTime = time.Unix(0, 1<<63-1)

// deliver makes one attempt at row and records its outcome.
func (o *Outbox) deliver(ctx context.Context, row store.Notification) {
	defer o.wg.Done()
	defer func() {
		o.mu.Lock()
		delete(o.inflight, row.ID)
		o.finished++
		o.mu.Unlock()
		o.Wake()
	}()
	var m notify.Message
	if err := json.Unmarshal(row.Body, &m); err != nil {
		o.giveUp(ctx, row, m, fmt.Sprintf("unreadable message: %v", err))
		return
	}
	deadline := row.Since.Add(o.opts.MaxAge)
	o.mu.Lock()
	n := o.notifiers[row.Notifier]
	o.mu.Unlock()
	var err error
	if n == nil {
		err = fmt.Errorf("notifier %q is not configured", row.Notifier)
	} else {
		actx, cancel := context.WithTimeout(ctx, o.opts.AttemptTimeout)
		err = n.Notify(actx, m)
		cancel()
	}
	if ctx.Err() != nil {
		// Shutdown, not failure: the attempt is made again after Start.
		return
	}
	// The attempt was made: its outcome is recorded even when Stop comes now.
	ctx = context.WithoutCancel(ctx)
	now := o.now()
	if err == nil {
		if err := o.st.NotificationDelivered(ctx, row.ID, now); err != nil {
			o.log.Error("outbox: record delivery", "id", row.ID, "err", err)
			return
		}
		row.State, row.Attempts, row.LastAttempt, row.Done, row.LastError = store.NotificationDelivered, row.Attempts+1, now, now, ""
		if o.opts.OnDelivered != nil {
			o.opts.OnDelivered(fromRow(row, m))
		}
		return
	}
	text := err.Error()
	if len(text) > maxErrorText {
		text = text[:maxErrorText] + "…"
	}
	attempts := row.Attempts + 1
	if !now.Before(deadline) {
		o.giveUp(ctx, row, m, o.reason(attempts, text))
		return
	}
	next := now.Add(o.backoff(attempts))
	var ra interface{ RetryAfter() time.Duration }
	if errors.As(err, &ra) && now.Add(ra.RetryAfter()).After(next) {
		next = now.Add(ra.RetryAfter())
	}
	if next.After(deadline) {
		next = deadline // one last attempt at the max age
	}
	if err := o.st.NotificationAttemptFailed(ctx, row.ID, now, next, text); err != nil {
		o.log.Error("outbox: record failed attempt", "id", row.ID, "err", err)
		return
	}
	o.log.Warn("notification not delivered; will retry", "id", row.ID, "notifier", row.Notifier,
		"key", row.Key, "attempt", attempts, "retry_in", next.Sub(now).Round(time.Millisecond), "err", text)
}

func (o *Outbox) reason(attempts int, last string) string {
	r := fmt.Sprintf("not delivered within the max age of %v after %d attempts", o.opts.MaxAge, attempts)
	if last != "" {
		r += "; last error: " + last
	}
	return r
}

// giveUp records the last attempt at row, which failed for reason, and
// marks row failed.
func (o *Outbox) giveUp(ctx context.Context, row store.Notification, m notify.Message, reason string) {
	now := o.now()
	if err := o.st.NotificationGivenUp(ctx, row.ID, now, reason); err != nil {
		o.log.Error("outbox: record give-up", "id", row.ID, "err", err)
		return
	}
	row.State, row.Attempts, row.LastAttempt, row.Done, row.LastError = store.NotificationFailed, row.Attempts+1, now, now, reason
	o.log.Error("notification given up", "id", row.ID, "notifier", row.Notifier, "key", row.Key,
		"attempts", row.Attempts, "reason", reason)
	if o.opts.OnGiveUp != nil {
		o.opts.OnGiveUp(fromRow(row, m))
	}
}

// backoff returns the wait after the attempts-th failed attempt.
func (o *Outbox) backoff(attempts int) time.Duration {
	return backoff.Policy{Min: o.opts.MinBackoff, Max: o.opts.MaxBackoff}.Delay(attempts)
}

func (o *Outbox) maybePrune(ctx context.Context) {
	now := o.now()
	if now.Sub(o.lastPrune) < pruneEvery {
		return
	}
	o.lastPrune = now
	if _, err := o.st.PruneNotifications(ctx, now.Add(-o.opts.Retention)); err != nil && ctx.Err() == nil {
		o.log.Error("outbox: prune", "err", err)
	}
}

// Filter selects notifications for List. Its zero value selects the newest
// store.DefaultNotificationLimit of any state.
type Filter struct {
	States   []string // store.NotificationPending, …Delivered, …Failed; none means all
	Notifier string
	Limit    int
}

// List returns the notifications f selects, newest first: what `steward
// notifications` shows.
func (o *Outbox) List(ctx context.Context, f Filter) ([]Notification, error) {
	rows, err := o.st.Notifications(ctx, store.NotificationFilter{States: f.States, Notifier: f.Notifier, Limit: f.Limit})
	if err != nil {
		return nil, err
	}
	out := make([]Notification, 0, len(rows))
	for _, row := range rows {
		out = append(out, decodeRow(row))
	}
	return out, nil
}

// Get returns one notification, or an error with code steward.ENOTFOUND.
func (o *Outbox) Get(ctx context.Context, id int64) (Notification, error) {
	row, err := o.st.Notification(ctx, id)
	if err != nil {
		return Notification{}, err
	}
	return decodeRow(row), nil
}

// Retry makes a failed notification pending again, with the same key and a
// new max age from now, and wakes the worker. It fails with code
// steward.ENOTFOUND for an unknown ID and steward.ECONFLICT for one that is
// not failed.
func (o *Outbox) Retry(ctx context.Context, id int64) (Notification, error) {
	row, err := o.st.RetryNotification(ctx, id, o.now().UTC())
	if err != nil {
		return Notification{}, err
	}
	o.log.Info("notification retried", "id", id, "notifier", row.Notifier, "key", row.Key)
	o.Wake()
	return decodeRow(row), nil
}

func decodeRow(row store.Notification) Notification {
	var m notify.Message
	_ = json.Unmarshal(row.Body, &m) // an unreadable body shows as an empty message
	return fromRow(row, m)
}

func fromRow(row store.Notification, m notify.Message) Notification {
	n := Notification{
		ID: row.ID, Key: row.Key, Notifier: row.Notifier, State: row.State,
		Created: row.Created, Since: row.Since, Attempts: row.Attempts,
		LastAttempt: row.LastAttempt, LastError: row.LastError, Done: row.Done,
		Message: m,
	}
	if row.State == store.NotificationPending {
		n.NextAttempt = row.NextAttempt
	}
	return n
}
