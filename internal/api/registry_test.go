package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/fleet"
)

func (f *fakeFleet) Register(g fleet.Registration) (steward.Instance, error) {
	if g.ID == "taken" {
		return steward.Instance{}, steward.Errorf(steward.ECONFLICT, "id %q is taken", g.ID)
	}
	f.regs = append(f.regs, g)
	return steward.Instance{ID: g.ID, Name: g.Name, Port: g.Port, Healthy: true, Tenant: g.Tenant, TTL: g.TTL.String()}, nil
}

// Heartbeat and Deregister know the instance i1 only.
func (f *fakeFleet) Heartbeat(name, id, tenant string, passing bool, note string) (steward.Instance, error) {
	if id != "i1" {
		return steward.Instance{}, steward.Errorf(steward.ENOTFOUND, "no instance %q of %q registered on this node", id, name)
	}
	return steward.Instance{ID: id, Name: name, Healthy: passing, Note: note, Tenant: tenant}, nil
}

func (f *fakeFleet) Deregister(name, id, tenant string) error {
	if id != "i1" {
		return steward.Errorf(steward.ENOTFOUND, "no instance %q of %q registered on this node", id, name)
	}
	f.gone = append(f.gone, name+"/"+id+"/"+tenant)
	return nil
}

func (f *fakeFleet) Pick(q fleet.Filter) (steward.Instance, error) {
	if q.Name == "none" {
		return steward.Instance{}, steward.Errorf(steward.ENOTFOUND, "no healthy instance of %q", q.Name)
	}
	return steward.Instance{Name: q.Name + "|" + q.Tag + "|" + q.Node, Healthy: q.Healthy, Tenant: q.Tenant}, nil
}

// tenantFleet holds one instance, web/1, of acme's.
type tenantFleet struct{ fakeFleet }

func (f *tenantFleet) Instances(q fleet.Filter) ([]steward.Instance, error) {
	if (q.Tenant != "" && q.Tenant != "acme") || (q.Name != "" && q.Name != "web") {
		return nil, nil
	}
	return []steward.Instance{{ID: "1", Name: "web", Tenant: "acme", Healthy: true}}, nil
}

func (f *tenantFleet) Pick(q fleet.Filter) (steward.Instance, error) {
	if list, _ := f.Instances(q); len(list) > 0 {
		return list[0], nil
	}
	return steward.Instance{}, steward.Errorf(steward.ENOTFOUND, "no healthy instance of %q", q.Name)
}

func (f *tenantFleet) Heartbeat(name, id, tenant string, passing bool, note string) (steward.Instance, error) {
	if name != "web" || id != "1" || (tenant != "" && tenant != "acme") {
		return steward.Instance{}, steward.Errorf(steward.ENOTFOUND, "no instance %q of %q registered on this node", id, name)
	}
	return steward.Instance{ID: id, Name: name, Tenant: "acme"}, nil
}

func (f *tenantFleet) Deregister(name, id, tenant string) error {
	_, err := f.Heartbeat(name, id, tenant, true, "")
	return err
}

// errMessage is the message of an API error body.
func errMessage(body []byte) string {
	var e steward.ErrorResponse
	json.Unmarshal(body, &e)
	return e.Error.Message
}

// TestRegister: POST /v1/registry hands the fleet the registration with
// its defaults applied and the caller's tenant, and answers 201 with the
// instance; a bad body is a 400 and registers nothing.
func TestRegister(t *testing.T) {
	ff := &fakeFleet{}
	f := newFixture(t, func(o *api.Options) { o.Fleet = ff })
	status, _, body := f.do(t, "POST", "/v1/registry", strings.NewReader(`{"name":"shop","port":8080,"tags":["v1"],"meta":{"zone":"a"}}`))
	var in steward.Instance
	if status != http.StatusCreated || json.Unmarshal(body, &in) != nil || len(ff.regs) != 1 || !strings.HasPrefix(in.ID, "shop-") || len(in.ID) != len("shop-")+8 {
		t.Fatalf("register: %d %s %+v", status, body, ff.regs)
	}
	g := ff.regs[0]
	if g.ID != in.ID || g.Name != "shop" || g.Port != 8080 || g.TTL != 30*time.Second || g.DeregisterAfter != 5*time.Minute ||
		g.SuccessBeforePassing != 1 || g.FailuresBeforeCritical != 1 || g.Tags[0] != "v1" || g.Meta["zone"] != "a" || g.Tenant != "" {
		t.Errorf("registration: %+v", g)
	}
	status, _, body = f.do(t, "POST", "/v1/registry", strings.NewReader(`{"name":"db","id":"db-1","address":"10.0.0.5","port":5432,"ttl":"2s",
		"success_before_passing":3,"failures_before_critical":2}`))
	if status != http.StatusCreated || len(ff.regs) != 2 {
		t.Fatalf("register db: %d %s", status, body)
	}
	if g := ff.regs[1]; g.ID != "db-1" || g.Address != "10.0.0.5" || g.TTL != 2*time.Second || g.DeregisterAfter != time.Minute ||
		g.SuccessBeforePassing != 3 || g.FailuresBeforeCritical != 2 {
		t.Errorf("db registration: %+v", g)
	}
	if status, _, _ := f.do(t, "POST", "/v1/registry", strings.NewReader(`{"name":"db","port":1,"ttl":"10m"}`)); status != 201 || ff.regs[2].DeregisterAfter != 100*time.Minute {
		t.Errorf("10×ttl: %d %+v", status, ff.regs[2])
	}
	for body, want := range map[string]string{
		``:                                   "empty",
		`{"name":"shop","port":1}x`:          "more than one value",
		`{"name":"shop","port":1,"extra":1}`: "unknown field",
		`{"name":"shop","port":"80"}`:        "wrong type",
		`{"port":80}`:                        `name ""`,
		`{"name":"a b","port":80}`:           `name "a b"`,
		`{"name":"` + strings.Repeat("a", 129) + `","port":80}`:         "128",
		`{"name":"shop","id":"x/y","port":80}`:                          `id "x/y"`,
		`{"name":"shop"}`:                                               "port 0",
		`{"name":"shop","port":65536}`:                                  "port 65536",
		`{"name":"shop","port":-1}`:                                     "port -1",
		`{"name":"shop","port":80,"address":"a b"}`:                     "address",
		`{"name":"shop","port":80,"address":"a\u0001"}`:                 "address",
		`{"name":"shop","port":80,"tags":[""]}`:                         "tag",
		`{"name":"shop","port":80,"tags":["\u0000"]}`:                   "tag",
		`{"name":"shop","port":80,"meta":{"":"x"}}`:                     "meta",
		`{"name":"shop","port":80,"meta":{"k":"\n"}}`:                   "meta",
		`{"name":"shop","port":80,"ttl":"10"}`:                          `ttl "10"`,
		`{"name":"shop","port":80,"ttl":"10ms"}`:                        `ttl "10ms"`,
		`{"name":"shop","port":80,"ttl":"25h"}`:                         `ttl "25h"`,
		`{"name":"shop","port":80,"ttl":"10s","deregister_after":"5s"}`: "deregister_after",
		`{"name":"shop","port":80,"success_before_passing":-1}`:         "success_before_passing",
		`{"name":"shop","port":80,"failures_before_critical":101}`:      "failures_before_critical",
		`{"name":"shop","id":"taken","port":80}`:                        "taken",
	} {
		status, _, got := f.do(t, "POST", "/v1/registry", strings.NewReader(body))
		want4xx := http.StatusBadRequest
		if strings.Contains(body, "taken") {
			want4xx = http.StatusConflict
		}
		if status != want4xx || !strings.Contains(errMessage(got), want) {
			t.Errorf("%s: %d %s, want %d with %q", body, status, got, want4xx, want)
		}
	}
	tags := `[` + strings.Repeat(`"t",`, 64) + `"t"]`
	meta := `{` + strings.Repeat(`"k":"v",`, 0)
	for i := range 65 {
		meta += `"k` + strings.Repeat("x", i) + `":"v",`
	}
	meta = strings.TrimSuffix(meta, ",") + "}"
	for _, body := range []string{`{"name":"shop","port":80,"tags":` + tags + `}`, `{"name":"shop","port":80,"meta":` + meta + `}`} {
		if status, _, got := f.do(t, "POST", "/v1/registry", strings.NewReader(body)); status != 400 {
			t.Errorf("too many: %d %s", status, got)
		}
	}
	if len(ff.regs) != 3 {
		t.Errorf("a bad body registered: %+v", ff.regs[3:])
	}
}

// TestRegistryHeartbeatPick: the heartbeat hands its status and note to
// the fleet, DELETE removes, pick answers one instance of the filter; an
// unknown instance is a 404, a bad body or query a 400, and without a
// fleet each route is a 409.
func TestRegistryHeartbeatPick(t *testing.T) {
	ff := &fakeFleet{}
	f := newFixture(t, func(o *api.Options) { o.Fleet = ff })
	for body, want := range map[string]string{
		``:                     `"healthy":true`,
		`{}`:                   `"healthy":true`,
		`{"status":"passing"}`: `"healthy":true`,
		`{"status":"failing","note":"disk full"}`: `"healthy":false,"tags":null,"service":"","since":"0001-01-01T00:00:00Z","note":"disk full"`,
	} {
		if status, _, got := f.do(t, "PUT", "/v1/registry/shop/i1/heartbeat", strings.NewReader(body)); status != 200 || !strings.Contains(string(got), want) {
			t.Errorf("heartbeat %s: %d %s, want %s", body, status, got, want)
		}
	}
	for body, want := range map[string]string{
		`{"status":"warning"}`:                        `status "warning"`,
		`{"note":"` + strings.Repeat("n", 257) + `"}`: "note",
		`{"x":1}`: "unknown field",
	} {
		if status, _, got := f.do(t, "PUT", "/v1/registry/shop/i1/heartbeat", strings.NewReader(body)); status != 400 || !strings.Contains(errMessage(got), want) {
			t.Errorf("heartbeat %s: %d %s, want 400 %s", body, status, got, want)
		}
	}
	if status, _, got := f.do(t, "PUT", "/v1/registry/shop/i2/heartbeat", nil); status != 404 || !strings.Contains(errMessage(got), `no instance "i2"`) {
		t.Errorf("heartbeat of an unknown instance: %d %s", status, got)
	}
	if status, _, got := f.do(t, "DELETE", "/v1/registry/shop/i2", nil); status != 404 || len(ff.gone) != 0 {
		t.Errorf("deregister an unknown instance: %d %s", status, got)
	}
	if status, _, got := f.do(t, "DELETE", "/v1/registry/shop/i1", nil); status != 204 || len(ff.gone) != 1 || ff.gone[0] != "shop/i1/" {
		t.Errorf("deregister: %d %s %v", status, got, ff.gone)
	}
	if status, _, got := f.do(t, "GET", "/v1/registry/shop/pick?tag=v1&node=nb", nil); status != 200 || !strings.HasPrefix(string(got), `{"id":"","name":"shop|v1|nb"`) {
		t.Errorf("pick: %d %s", status, got)
	}
	if status, _, got := f.do(t, "GET", "/v1/registry/none/pick", nil); status != 404 || !strings.Contains(string(got), "no healthy instance") {
		t.Errorf("pick of none: %d %s", status, got)
	}
	if status, _, got := f.do(t, "GET", "/v1/registry/shop?healthy=1", nil); status != 200 || !strings.Contains(string(got), `"healthy":true`) {
		t.Errorf("healthy=1: %d %s", status, got)
	}
	for _, p := range []string{"/v1/registry?healthy=yes", "/v1/registry/shop?healthy=2", "/v1/registry/shop/pick?healthy=x"} {
		if status, _, got := f.do(t, "GET", p, nil); status != 400 || !strings.Contains(string(got), "healthy=") {
			t.Errorf("%s: %d %s", p, status, got)
		}
	}

	none := newFixture(t)
	for _, c := range [][2]string{{"POST", "/v1/registry"}, {"PUT", "/v1/registry/a/b/heartbeat"}, {"DELETE", "/v1/registry/a/b"}, {"GET", "/v1/registry/a/pick"}} {
		if status, _, body := none.do(t, c[0], c[1], strings.NewReader(`{"name":"a","port":1}`)); status != http.StatusConflict || !strings.Contains(string(body), "no fleet") {
			t.Errorf("%s %s without a fleet: %d %s", c[0], c[1], status, body)
		}
	}
}

// TestRegistryTenant: a principal scoped to a tenant registers for it,
// and lists, picks, heartbeats and deregisters its tenant's instances
// only.
func TestRegistryTenant(t *testing.T) {
	ff := &fakeFleet{}
	p := steward.Principal{Who: "token:acme", Role: steward.RoleOperator, Tenant: "acme"}
	f := newFixture(t, func(o *api.Options) { o.Fleet = ff; o.Local = asPrincipal(p) })
	if status, _, got := f.do(t, "POST", "/v1/registry", strings.NewReader(`{"name":"shop","port":80}`)); status != 201 || len(ff.regs) != 1 || ff.regs[0].Tenant != "acme" {
		t.Errorf("register as acme: %d %s %+v", status, got, ff.regs)
	}
	for _, c := range [][2]string{{"GET", "/v1/registry"}, {"GET", "/v1/registry/shop"}, {"GET", "/v1/registry/shop/pick"}, {"PUT", "/v1/registry/shop/i1/heartbeat"}} {
		if status, _, got := f.do(t, c[0], c[1], nil); status != 200 || !strings.Contains(string(got), `"tenant":"acme"`) {
			t.Errorf("%s %s as acme: %d %s", c[0], c[1], status, got)
		}
	}
	if status, _, got := f.do(t, "DELETE", "/v1/registry/shop/i1", nil); status != 204 || ff.gone[0] != "shop/i1/acme" {
		t.Errorf("deregister as acme: %d %s %v", status, got, ff.gone)
	}
}

// FuzzRegistration: any body is a registration that passes the checks
// or a 400, never a panic.
func FuzzRegistration(f *testing.F) {
	for _, seed := range []string{
		`{"name":"shop","port":8080}`,
		`{"name":"shop","id":"shop-1","address":"10.0.0.5","port":8080,"tags":["v1"],"meta":{"zone":"a"},"ttl":"10s","deregister_after":"1m","success_before_passing":2,"failures_before_critical":3}`,
		`{"name":"shop","port":0}`, `{"name":"","port":1}`, `{"name":"a","port":1,"ttl":"-1s"}`, `[]`, `null`, `{"name":"a","port":1e9}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		g, err := api.DecodeRegistration(body)
		if err != nil {
			if steward.ErrorCode(err) != steward.EINVALID {
				t.Fatalf("%q: %v is not invalid", body, err)
			}
			return
		}
		if g.Name == "" || g.ID == "" || g.Port < 1 || g.Port > 65535 || g.TTL < time.Second || g.DeregisterAfter < g.TTL ||
			g.SuccessBeforePassing < 1 || g.FailuresBeforeCritical < 1 || strings.ContainsAny(g.ID+g.Name, "/ ?#%") {
			t.Fatalf("%q passed as %+v", body, g)
		}
	})
}
