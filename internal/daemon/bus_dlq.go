package daemon

import (
	"context"

	"github.com/stewardhq/steward/internal/bus"
)

// DeadLetters lists the DLQ of the running bus.
func (h *busHost) DeadLetters(ctx context.Context, stream string, after uint64, limit int) ([]bus.DeadLetter, error) {
	srv, err := h.server()
	if err != nil {
		return nil, err
	}
	return srv.DeadLetters(ctx, stream, after, limit)
}

// DeadLetter returns one entry of the DLQ.
func (h *busHost) DeadLetter(ctx context.Context, id uint64) (bus.DeadLetter, error) {
	srv, err := h.server()
	if err != nil {
		return bus.DeadLetter{}, err
	}
	return srv.DeadLetter(ctx, id)
}

// ReplayDeadLetter replays one entry of the DLQ.
func (h *busHost) ReplayDeadLetter(ctx context.Context, id uint64) (bus.Published, error) {
	srv, err := h.server()
	if err != nil {
		return bus.Published{}, err
	}
	return srv.ReplayDeadLetter(ctx, id)
}

// ReplayDeadLetters replays the entries of the DLQ (of one stream).
func (h *busHost) ReplayDeadLetters(ctx context.Context, stream string) (int, error) {
	srv, err := h.server()
	if err != nil {
		return 0, err
	}
	return srv.ReplayDeadLetters(ctx, stream)
}

// PurgeDeadLetters removes the entries of the DLQ (of one stream).
func (h *busHost) PurgeDeadLetters(ctx context.Context, stream string) (uint64, error) {
	srv, err := h.server()
	if err != nil {
		return 0, err
	}
	return srv.PurgeDeadLetters(ctx, stream)
}

// Services discovers the NATS micro services on the running bus.
func (h *busHost) Services(ctx context.Context) ([]bus.Service, error) {
	srv, err := h.server()
	if err != nil {
		return nil, err
	}
	return srv.Services(ctx)
}
