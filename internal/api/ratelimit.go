package api

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/stewardhq/steward"
)

// RateLimiter bounds the requests each principal makes over TCP: a token
// bucket per principal, refilled at perSecond and holding burst. A nil
// *RateLimiter lets everything through. It is safe for concurrent use.
type RateLimiter struct {
	limit rate.Limit
	burst int
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*rate.Limiter // by principal (Principal.Who)
}

// NewRateLimiter returns a limiter of perSecond requests a second with
// bursts of burst, or nil (no limit) when perSecond is 0.
func NewRateLimiter(perSecond float64, burst int) *RateLimiter {
	if perSecond <= 0 {
		return nil
	}
	return &RateLimiter{limit: rate.Limit(perSecond), burst: max(burst, 1), now: time.Now, buckets: map[string]*rate.Limiter{}}
}

// wait returns 0 when who may make a request now, and takes it from its
// bucket; else how long until it may, taking nothing. The buckets are as
// many as the principals that made requests: tokens and the bootstrap
// token, which are few.
func (l *RateLimiter) wait(who string) time.Duration {
	if l == nil {
		return 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[who]
	if !ok {
		b = rate.NewLimiter(l.limit, l.burst)
		l.buckets[who] = b
	}
	r := b.ReserveN(now, 1)
	d := r.DelayFrom(now)
	if d > 0 {
		r.CancelAt(now)
	}
	return d
}

// tooMany answers a request over the rate limit: a 429 with Retry-After in
// whole seconds (at least 1).
func (s *Server) tooMany(w http.ResponseWriter, r *http.Request, p steward.Principal, d time.Duration) {
	secs := max(int(math.Ceil(d.Seconds())), 1)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	s.writeError(w, r, steward.Errorf(steward.ETOOMANY, "%s made more requests than api.rate_limit allows; retry after %d s", p.Who, secs))
}
