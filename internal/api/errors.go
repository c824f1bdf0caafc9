package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
)

// codeMethodNotAllowed is the error code of a 405: a route exists for the
// path, not for the method.
const codeMethodNotAllowed = "method_not_allowed"

// ErrorBody is the body of every error response, under the key "error".
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Details lists the problems of an invalid configuration.
	Details []Problem `json:"details,omitempty"`
}

// Problem is one problem in a configuration text, at a 1-based line and
// column of file.
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Message string `json:"message"`
}

// String returns "FILE:LINE:COL: message".
func (p Problem) String() string {
	return (&config.Error{File: p.File, Line: p.Line, Col: p.Col, Msg: p.Message}).Error()
}

var errUnauthorized = steward.Errorf(steward.EUNAUTHORIZED, "missing or invalid bearer token")

func errNoRoute(r *http.Request) error {
	return steward.Errorf(steward.ENOTFOUND, "no such endpoint: %s %s", r.Method, r.URL.Path)
}

// methodError is a request whose path has routes, none for its method.
type methodError struct{ method, path string }

func (e *methodError) Error() string {
	return fmt.Sprintf("method %s not allowed on %s", e.method, e.path)
}

// errorResponse is the one place an error becomes an HTTP status and the
// JSON error a client sees. An internal error's message is hidden.
func errorResponse(err error) (int, ErrorBody) {
	var (
		list config.ErrorList
		me   *methodError
		mbe  *http.MaxBytesError
	)
	switch {
	case errors.As(err, &list) && len(list) > 0:
		b := ErrorBody{Code: steward.EINVALID, Message: list[0].Error()}
		if len(list) > 1 {
			b.Message += fmt.Sprintf(" (and %d more)", len(list)-1)
		}
		for _, e := range list {
			b.Details = append(b.Details, Problem{File: e.File, Line: e.Line, Col: e.Col, Message: e.Msg})
		}
		return http.StatusUnprocessableEntity, b
	case errors.As(err, &me):
		return http.StatusMethodNotAllowed, ErrorBody{Code: codeMethodNotAllowed, Message: me.Error()}
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, ErrorBody{Code: steward.ETOOLARGE,
			Message: fmt.Sprintf("request body is larger than %d bytes", mbe.Limit)}
	}
	code := steward.ErrorCode(err)
	b := ErrorBody{Code: code, Message: steward.ErrorMessage(err)}
	switch code {
	case steward.EINVALID:
		return http.StatusBadRequest, b
	case steward.ENOTFOUND:
		return http.StatusNotFound, b
	case steward.ECONFLICT:
		return http.StatusConflict, b
	case steward.ETOOLARGE:
		return http.StatusRequestEntityTooLarge, b
	case steward.EUNAUTHORIZED:
		return http.StatusUnauthorized, b
	case steward.EFORBIDDEN:
		return http.StatusForbidden, b
	case steward.EUNAVAILABLE:
		return http.StatusServiceUnavailable, b
	}
	return http.StatusInternalServerError, ErrorBody{Code: steward.EINTERNAL, Message: steward.ErrorMessage(err)}
}

// writeError writes err as a JSON error response, logging internal errors.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := errorResponse(err)
	if status == http.StatusInternalServerError {
		s.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, status, struct {
		Error ErrorBody `json:"error"`
	}{body})
}

// writeJSON writes v as the JSON body of a response with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}
