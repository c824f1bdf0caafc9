package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
)

// codeMethodNotAllowed is the error code of a 405: a route exists for the
// path, not for the method.
const codeMethodNotAllowed = "method_not_allowed"

var errUnauthorized = steward.Errorf(steward.EUNAUTHORIZED, "missing or invalid bearer token")

func errNoRoute(r *http.Request) error {
	return steward.Errorf(steward.ENOTFOUND, "no such endpoint: %s %s", r.Method, r.URL.Path)
}

// errUncleanPath is the error for a path that is not clean: what the
// endpoint of its clean form would be is named, not served.
func errUncleanPath(r *http.Request, clean string) error {
	return steward.Errorf(steward.ENOTFOUND, "no such endpoint: %s %s (did you mean %s?)", r.Method, r.URL.Path, clean)
}

// methodError is a request whose path has routes, none for its method.
type methodError struct{ method, path string }

func (e *methodError) Error() string {
	return fmt.Sprintf("method %s not allowed on %s", e.method, e.path)
}

// causes are the codes that causes imply, for an error no *steward.Error
// of which names a code: the first whose target the chain matches wins.
var causes = []struct {
	target error
	code   string
}{
	{errAddrInUse, steward.ECONFLICT},
	{fs.ErrPermission, steward.EFORBIDDEN},
	{fs.ErrNotExist, steward.ENOTFOUND},
	{fs.ErrExist, steward.ECONFLICT},
	{context.DeadlineExceeded, steward.EUNAVAILABLE},
}

// errorCode returns the code of err: that of the first *steward.Error in
// its chain that names one, else the code its cause implies, else
// EINTERNAL. It reports whether the code came from the cause.
func errorCode(err error) (code string, fromCause bool) {
	if e := steward.Coded(err); e != nil {
		return e.Code, false
	}
	for _, c := range causes {
		if errors.Is(err, c.target) {
			return c.code, true
		}
	}
	return steward.EINTERNAL, false
}

// statuses maps the error codes to HTTP statuses.
var statuses = map[string]int{
	steward.EINVALID:      http.StatusBadRequest,
	steward.ENOTFOUND:     http.StatusNotFound,
	steward.ECONFLICT:     http.StatusConflict,
	steward.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	steward.EUNAUTHORIZED: http.StatusUnauthorized,
	steward.EFORBIDDEN:    http.StatusForbidden,
	steward.EUNAVAILABLE:  http.StatusServiceUnavailable,
	steward.ETOOMANY:      http.StatusTooManyRequests,
}

// ErrorStatus is errorResponse for the answers that are not HTTP: the
// errors of the workbook commands over the bus.
func ErrorStatus(err error) (int, steward.ErrorBody) { return errorResponse(err) }

// errorResponse is the one place an error becomes an HTTP status and the
// JSON error a client sees. An internal error's message is hidden.
func errorResponse(err error) (int, steward.ErrorBody) {
	var (
		list config.ErrorList
		me   *methodError
		mbe  *http.MaxBytesError
	)
	switch {
	case errors.As(err, &list) && len(list) > 0:
		b := steward.ErrorBody{Code: steward.EINVALID, Message: list[0].Error()}
		if len(list) > 1 {
			b.Message += fmt.Sprintf(" (and %d more)", len(list)-1)
		}
		for _, e := range list {
			b.Details = append(b.Details, steward.Problem{File: e.File, Line: e.Line, Col: e.Col, Message: e.Msg})
		}
		return http.StatusUnprocessableEntity, b
	case errors.As(err, &me):
		return http.StatusMethodNotAllowed, steward.ErrorBody{Code: codeMethodNotAllowed, Message: me.Error()}
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, steward.ErrorBody{Code: steward.ETOOLARGE,
			Message: fmt.Sprintf("request body is larger than %d bytes", mbe.Limit)}
	}
	code, fromCause := errorCode(err)
	status, ok := statuses[code]
	if !ok {
		return http.StatusInternalServerError, steward.ErrorBody{Code: steward.EINTERNAL, Message: steward.ErrorMessage(err)}
	}
	msg := steward.ErrorMessage(err)
	if fromCause {
		// The cause says what went wrong: the first *steward.Error's
		// message with it, or its own text.
		msg = err.Error()
		var e *steward.Error
		if errors.As(err, &e) {
			msg = e.Error()
		}
	}
	return status, steward.ErrorBody{Code: code, Message: msg}
}

// writeError writes err as a JSON error response. It logs internal errors,
// and the whole chain of an error that has a cause.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := errorResponse(err)
	switch {
	case status == http.StatusInternalServerError:
		s.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	case errors.Unwrap(err) != nil:
		s.log.Warn("api request failed", "method", r.Method, "path", r.URL.Path, "code", body.Code, "err", err)
	}
	writeJSON(w, status, steward.ErrorResponse{Error: body})
}

// writeJSON writes v as the JSON body of a response with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}
