package api

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/fleet"
)

// Limits of a registration's fields.
const (
	maxRegName   = 128 // a name or an id
	maxRegTags   = 64
	maxRegMeta   = 64
	maxRegText   = 512 // a tag, a meta key or value, an address
	maxTTL       = 24 * time.Hour
	minTTL       = time.Second
	maxThreshold = 100
)

// validRegName reports whether s may be a registration's name or id: 1 to
// maxRegName letters, digits, '.', '_' and '-', so that it is one path
// segment as it is.
func validRegName(s string) bool {
	if s == "" || len(s) > maxRegName {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// validText reports whether s is printable UTF-8 of at most maxRegText
// bytes.
func validText(s string) bool {
	if len(s) > maxRegText || !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, func(c rune) bool { return c < ' ' || c == 0x7f })
}

// regDuration parses the duration v of the field name: def when "", else
// within [least, maxTTL].
func regDuration(name, v string, least, def time.Duration) (time.Duration, error) {
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < least || d > maxTTL {
		return 0, steward.Errorf(steward.EINVALID, "%s %q: want a duration from %s to %s, like 10s", name, v, least, maxTTL)
	}
	return d, nil
}

func threshold(name string, n int) (int, error) {
	if n < 0 || n > maxThreshold {
		return 0, steward.Errorf(steward.EINVALID, "%s %d: want 1 to %d (0 for 1)", name, n, maxThreshold)
	}
	return max(n, 1), nil
}

// decodeRegistration decodes and checks the body of POST /v1/registry,
// with its defaults applied: a generated id, a TTL of
// fleet.DefaultRegistrationTTL, deregister_after 10×TTL (at least
// fleet.MinDeregisterAfter), thresholds of 1.
func decodeRegistration(body []byte) (fleet.Registration, error) {
	var req steward.Registration
	if err := decodeJSON(body, &req); err != nil {
		return fleet.Registration{}, err
	}
	bad := func(format string, args ...any) (fleet.Registration, error) {
		return fleet.Registration{}, steward.Errorf(steward.EINVALID, format, args...)
	}
	if !validRegName(req.Name) {
		return bad("name %q: want 1 to %d letters, digits, '.', '_' or '-'", req.Name, maxRegName)
	}
	if req.ID != "" && !validRegName(req.ID) {
		return bad("id %q: want 1 to %d letters, digits, '.', '_' or '-'", req.ID, maxRegName)
	}
	if req.Port < 1 || req.Port > 65535 {
		return bad("port %d: want 1 to 65535", req.Port)
	}
	if !validText(req.Address) || strings.ContainsAny(req.Address, " /") {
		return bad("address %q: want a host name or an IP address", req.Address)
	}
	if len(req.Tags) > maxRegTags {
		return bad("%d tags: at most %d", len(req.Tags), maxRegTags)
	}
	for _, t := range req.Tags {
		if t == "" || !validText(t) {
			return bad("tag %q: want 1 to %d printable characters", t, maxRegText)
		}
	}
	if len(req.Meta) > maxRegMeta {
		return bad("%d meta keys: at most %d", len(req.Meta), maxRegMeta)
	}
	for k, v := range req.Meta {
		if k == "" || !validText(k) || !validText(v) {
			return bad("meta %q: want a key of 1 to %d printable characters, and a value of at most %[2]d", k, maxRegText)
		}
	}
	g := fleet.Registration{Name: req.Name, ID: req.ID, Address: req.Address, Port: req.Port,
		Tags: req.Tags, Meta: req.Meta}
	var err error
	if g.TTL, err = regDuration("ttl", req.TTL, minTTL, fleet.DefaultRegistrationTTL); err != nil {
		return fleet.Registration{}, err
	}
	if g.DeregisterAfter, err = regDuration("deregister_after", req.DeregisterAfter, g.TTL, max(10*g.TTL, fleet.MinDeregisterAfter)); err != nil {
		return fleet.Registration{}, err
	}
	if g.SuccessBeforePassing, err = threshold("success_before_passing", req.SuccessBeforePassing); err != nil {
		return fleet.Registration{}, err
	}
	if g.FailuresBeforeCritical, err = threshold("failures_before_critical", req.FailuresBeforeCritical); err != nil {
		return fleet.Registration{}, err
	}
	if g.ID == "" {
		b := make([]byte, 4)
		rand.Read(b)
		g.ID = g.Name + "-" + hex.EncodeToString(b)
	}
	return g, nil
}

// decodeHeartbeat decodes the optional body of a heartbeat: whether it
// reports passing, and its note.
func decodeHeartbeat(r *http.Request) (passing bool, note string, err error) {
	var hb steward.Heartbeat
	if err := decodeOptional(r, &hb); err != nil {
		return false, "", err
	}
	if hb.Status != "" && hb.Status != steward.CheckPassing && hb.Status != steward.CheckFailing {
		return false, "", steward.Errorf(steward.EINVALID, "status %q: want %s or %s", hb.Status, steward.CheckPassing, steward.CheckFailing)
	}
	if len(hb.Note) > fleet.MaxNote || !validText(hb.Note) {
		return false, "", steward.Errorf(steward.EINVALID, "note: want at most %d bytes of printable characters", fleet.MaxNote)
	}
	return hb.Status != steward.CheckFailing, hb.Note, nil
}

// register serves POST /v1/registry: the instance registered on this
// node, for the caller's tenant.
func (s *Server) register(w http.ResponseWriter, r *http.Request) error {
	f, err := s.fleet()
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	g, err := decodeRegistration(body)
	if err != nil {
		return err
	}
	g.Tenant = s.tenancy(r).tenant
	in, err := f.Register(g)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, in)
}

// heartbeat serves PUT /v1/registry/{name}/{id}/heartbeat.
func (s *Server) heartbeat(w http.ResponseWriter, r *http.Request) error {
	f, err := s.fleet()
	if err != nil {
		return err
	}
	passing, note, err := decodeHeartbeat(r)
	if err != nil {
		return err
	}
	in, err := f.Heartbeat(r.PathValue("name"), r.PathValue("id"), s.tenancy(r).tenant, passing, note)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, in)
}

// deregister serves DELETE /v1/registry/{name}/{id}.
func (s *Server) deregister(w http.ResponseWriter, r *http.Request) error {
	f, err := s.fleet()
	if err != nil {
		return err
	}
	if err := f.Deregister(r.PathValue("name"), r.PathValue("id"), s.tenancy(r).tenant); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// pick serves GET /v1/registry/{name}/pick?tag=&node=: one healthy
// instance, each in turn.
func (s *Server) pick(w http.ResponseWriter, r *http.Request) error {
	f, err := s.fleet()
	if err != nil {
		return err
	}
	q, err := s.registryFilter(r)
	if err != nil {
		return err
	}
	q.Name = r.PathValue("name")
	in, err := f.Pick(q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, in)
}
