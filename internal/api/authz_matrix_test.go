package api_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/ipc"
	"github.com/stewardhq/steward/internal/web"
)

// leastRole is, for every route, the least role that may call it ("" for
// a public route). It is written out by hand, apart from the authorizer's
// table, so that a route added without an entry here, or whose action
// gives it to another role, fails TestAuthorizationMatrix.
var leastRole = map[string]string{
	"GET /healthz": "",

	"GET /metrics":                                   steward.RoleViewer,
	"GET /v1/alerts":                                 steward.RoleViewer,
	"GET /v1/alerts/{id}":                            steward.RoleViewer,
	"GET /v1/backups":                                steward.RoleViewer,
	"GET /v1/backups/{id}":                           steward.RoleViewer,
	"GET /v1/bus/dlq":                                steward.RoleViewer,
	"GET /v1/bus/dlq/{id}":                           steward.RoleViewer,
	"GET /v1/bus/services":                           steward.RoleViewer,
	"GET /v1/bus/streams":                            steward.RoleViewer,
	"GET /v1/bus/subscribe":                          steward.RoleViewer,
	"GET /v1/checks":                                 steward.RoleViewer,
	"GET /v1/config":                                 steward.RoleViewer,
	"GET /v1/config/diff":                            steward.RoleViewer,
	"GET /v1/config/versions":                        steward.RoleViewer,
	"GET /v1/config/versions/{n}":                    steward.RoleViewer,
	"GET /v1/events":                                 steward.RoleViewer,
	"GET /v1/info":                                   steward.RoleViewer,
	"GET /v1/jobs":                                   steward.RoleViewer,
	"GET /v1/jobs/{name}/next":                       steward.RoleViewer,
	"GET /v1/metrics/query":                          steward.RoleViewer,
	"GET /v1/nodes":                                  steward.RoleViewer,
	"GET /v1/nodes/{node}/proxy/{path...}":           steward.RoleViewer,
	"POST /v1/nodes/{node}/proxy/{path...}":          steward.RoleViewer,
	"PUT /v1/nodes/{node}/proxy/{path...}":           steward.RoleViewer,
	"DELETE /v1/nodes/{node}/proxy/{path...}":        steward.RoleViewer,
	"GET /v1/fleet/{path...}":                        steward.RoleViewer,
	"GET /v1/registry":                               steward.RoleViewer,
	"GET /v1/registry/{name}":                        steward.RoleViewer,
	"GET /v1/registry/{name}/pick":                   steward.RoleViewer,
	"GET /v1/notifications":                          steward.RoleViewer,
	"GET /v1/notifications/{id}":                     steward.RoleViewer,
	"GET /v1/openapi.json":                           steward.RoleViewer,
	"GET /v1/os-services":                            steward.RoleViewer,
	"GET /v1/os-services/{name}":                     steward.RoleViewer,
	"GET /v1/report":                                 steward.RoleViewer,
	"GET /v1/runs":                                   steward.RoleViewer,
	"GET /v1/runs/{id}":                              steward.RoleViewer,
	"GET /v1/runs/{id}/logs":                         steward.RoleViewer,
	"GET /v1/workflows":                              steward.RoleViewer,
	"GET /v1/services":                               steward.RoleViewer,
	"GET /v1/services/{name}":                        steward.RoleViewer,
	"GET /v1/services/{name}/exits":                  steward.RoleViewer,
	"GET /v1/services/{name}/logs":                   steward.RoleViewer,
	"GET /v1/services/{name}/why":                    steward.RoleViewer,
	"GET /v1/silences":                               steward.RoleViewer,
	"POST /v1/config/validate":                       steward.RoleViewer,
	"GET /v1/workbooks/{service}/sessions":           steward.RoleViewer,
	"GET /v1/workbooks/{service}/sessions/{id}/read": steward.RoleViewer,

	"DELETE /v1/bus/dlq":                               steward.RoleOperator,
	"DELETE /v1/silences/{id}":                         steward.RoleOperator,
	"DELETE /v1/workbooks/{service}/sessions/{id}":     steward.RoleOperator,
	"POST /v1/registry":                                steward.RoleOperator,
	"PUT /v1/registry/{name}/{id}/heartbeat":           steward.RoleOperator,
	"DELETE /v1/registry/{name}/{id}":                  steward.RoleOperator,
	"POST /v1/alerts/{id}/ack":                         steward.RoleOperator,
	"POST /v1/backups/forget":                          steward.RoleOperator,
	"POST /v1/backups/{id}/verify":                     steward.RoleOperator,
	"POST /v1/bus/dlq/replay":                          steward.RoleOperator,
	"POST /v1/bus/dlq/{id}/replay":                     steward.RoleOperator,
	"POST /v1/bus/publish":                             steward.RoleOperator,
	"POST /v1/bus/request":                             steward.RoleOperator,
	"POST /v1/jobs/{name}/run":                         steward.RoleOperator,
	"POST /v1/logs/rotate":                             steward.RoleOperator,
	"POST /v1/metrics":                                 steward.RoleOperator,
	"POST /v1/notifications/{id}/retry":                steward.RoleOperator,
	"POST /v1/reload":                                  steward.RoleOperator,
	"POST /v1/runs/{id}/cancel":                        steward.RoleOperator,
	"POST /v1/workflows/{name}/run":                    steward.RoleOperator,
	"POST /v1/services/{name}/logs/rotate":             steward.RoleOperator,
	"POST /v1/services/{name}/restart":                 steward.RoleOperator,
	"POST /v1/services/{name}/start":                   steward.RoleOperator,
	"POST /v1/services/{name}/stop":                    steward.RoleOperator,
	"POST /v1/silences":                                steward.RoleOperator,
	"POST /v1/workbooks/{service}/sessions":            steward.RoleOperator,
	"POST /v1/workbooks/{service}/sessions/{id}/save":  steward.RoleOperator,
	"POST /v1/workbooks/{service}/sessions/{id}/write": steward.RoleOperator,

	"DELETE /v1/tokens/{accessor}":        steward.RoleAdmin,
	"GET /v1/audit":                       steward.RoleAdmin,
	"GET /v1/tokens":                      steward.RoleAdmin,
	"POST /v1/audit/checkpoint":           steward.RoleAdmin,
	"POST /v1/audit/verify":               steward.RoleAdmin,
	"POST /v1/backups/{id}/restore":       steward.RoleAdmin,
	"POST /v1/config/rollback/{n}":        steward.RoleAdmin,
	"POST /v1/os-services/{name}/restart": steward.RoleAdmin,
	"POST /v1/os-services/{name}/start":   steward.RoleAdmin,
	"POST /v1/os-services/{name}/stop":    steward.RoleAdmin,
	"POST /v1/tokens":                     steward.RoleAdmin,
	"PUT /v1/config":                      steward.RoleAdmin,
}

var (
	csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	csrfMeta  = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)
)

// rank orders the roles; a role not in it (a principal with none) ranks
// below viewer.
var rank = map[string]int{steward.RoleViewer: 1, steward.RoleOperator: 2, steward.RoleAdmin: 3}

// localRole gives every caller of the local endpoint one role.
type localRole string

func (r localRole) LocalPrincipal(string) steward.Principal {
	return steward.Principal{Who: "uid:1000:matrix", Role: string(r), Via: "socket"}
}

// caller makes requests as one principal over one transport.
type caller struct {
	transport, role string
	do              func(ctx context.Context, method, path string) (int, error)
}

// TestAuthorizationMatrix: every route × role (none, viewer, operator,
// admin) × transport (socket, TCP, dashboard) answers as leastRole says:
// 401 without a principal where one is needed, 403 below the route's
// role, and something else (the handler's own answer) from it up.
func TestAuthorizationMatrix(t *testing.T) {
	routes := api.RouteActions(newFixture(t).server)
	for route := range routes {
		if _, ok := leastRole[route]; !ok {
			t.Errorf("%s is not in the authorization matrix: add it to leastRole with the least role that may call it", route)
		}
	}
	for route := range leastRole {
		if _, ok := routes[route]; !ok {
			t.Errorf("leastRole has %s, which is not a route", route)
		}
	}
	var callers []caller
	for _, role := range []string{"", steward.RoleViewer, steward.RoleOperator, steward.RoleAdmin} {
		callers = append(callers, socketCaller(t, role))
	}
	callers = append(callers, tcpCallers(t)...)
	for route, least := range leastRole {
		if _, ok := routes[route]; !ok {
			continue
		}
		method, path, _ := strings.Cut(route, " ")
		path = fillPath(path)
		for _, c := range callers {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			status, err := c.do(ctx, method, path)
			cancel()
			if err != nil {
				t.Errorf("%s as %q over %s: %v", route, c.role, c.transport, err)
				continue
			}
			switch {
			case least == "":
				if status == http.StatusUnauthorized || status == http.StatusForbidden {
					t.Errorf("%s (public) as %q over %s: %d", route, c.role, c.transport, status)
				}
			case c.role == "" && c.transport != "socket":
				if status != http.StatusUnauthorized {
					t.Errorf("%s without a principal over %s: %d, want 401", route, c.transport, status)
				}
			case rank[c.role] < rank[least]:
				if status != http.StatusForbidden {
					t.Errorf("%s as %q over %s: %d, want 403 (it needs %s)", route, c.role, c.transport, status, least)
				}
			default:
				if status == http.StatusUnauthorized || status == http.StatusForbidden {
					t.Errorf("%s as %q over %s: %d, want the handler's answer (it needs %s)", route, c.role, c.transport, status, least)
				}
			}
		}
	}
}

// fillPath puts a value in each of path's wildcards.
func fillPath(path string) string {
	r := strings.NewReplacer("{name}", "web", "{id}", "1", "{n}", "1", "{service}", "books", "{accessor}", "nobody", "{node}", "b", "{path...}", "v1/info")
	return r.Replace(path)
}

// request makes one request with c and returns its status, reading no
// more than the headers (a stream stays open otherwise).
func request(ctx context.Context, c *http.Client, req *http.Request) (int, error) {
	resp, err := c.Do(req.WithContext(ctx))
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// newRequest is method path with an empty JSON body when the method sends
// one.
func newRequest(method, url string) *http.Request {
	var body io.Reader = http.NoBody
	if method != http.MethodGet {
		body = strings.NewReader("{}")
	}
	req, _ := http.NewRequest(method, url, body)
	if method != http.MethodGet {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// socketCaller calls the local endpoint as a caller whose peer
// credentials give role.
func socketCaller(t *testing.T, role string) caller {
	f := newFixture(t, func(o *api.Options) { o.Local = localRole(role) })
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return ipc.Dial(ctx, f.socket)
	}}}
	t.Cleanup(c.CloseIdleConnections)
	return caller{"socket", role, func(ctx context.Context, method, path string) (int, error) {
		return request(ctx, c, newRequest(method, "http://steward"+path))
	}}
}

// tcpCallers call the TCP endpoint and the dashboard in front of it with
// no token and with a token of each role.
func tcpCallers(t *testing.T) []caller {
	f := newTCPFixture(t)
	dash := httptest.NewServer(web.New(web.Options{API: f.server.TCPHandler(f.tokens, nil), Tokens: f.tokens}))
	t.Cleanup(dash.Close)
	out := []caller{
		{"tcp", "", func(ctx context.Context, method, path string) (int, error) {
			return request(ctx, http.DefaultClient, newRequest(method, f.url+path))
		}},
		{"dashboard", "", func(ctx context.Context, method, path string) (int, error) {
			return request(ctx, http.DefaultClient, newRequest(method, dash.URL+path))
		}},
	}
	for _, role := range []string{steward.RoleViewer, steward.RoleOperator, steward.RoleAdmin} {
		secret := f.create(t, "matrix-"+role, role).Secret
		out = append(out, caller{"tcp", role, func(ctx context.Context, method, path string) (int, error) {
			req := newRequest(method, f.url+path)
			req.Header.Set("Authorization", "Bearer "+secret)
			return request(ctx, http.DefaultClient, req)
		}})
		sid, csrf := dashboardLogin(t, dash.URL, secret)
		out = append(out, caller{"dashboard", role, func(ctx context.Context, method, path string) (int, error) {
			req := newRequest(method, dash.URL+path)
			req.AddCookie(&http.Cookie{Name: "steward_session", Value: sid})
			req.Header.Set("X-CSRF-Token", csrf)
			req.Header.Set("Origin", dash.URL)
			return request(ctx, http.DefaultClient, req)
		}})
	}
	return out
}

// dashboardLogin logs in to the dashboard at base with token through its
// form and returns the session cookie and the session's CSRF token.
func dashboardLogin(t *testing.T, base, token string) (string, string) {
	t.Helper()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindStringSubmatch(string(page))
	if m == nil {
		t.Fatalf("no CSRF field in the login page:\n%s", page)
	}
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{"csrf": {m[1]}, "token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	for _, c := range resp.Cookies() {
		req.AddCookie(c)
	}
	resp, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var sid string
	for _, c := range resp.Cookies() {
		if c.Name == "steward_session" {
			sid = c.Value
		}
	}
	if resp.StatusCode != http.StatusSeeOther || sid == "" {
		t.Fatalf("login: %d, session %q", resp.StatusCode, sid)
	}
	// The session's CSRF token is in every page's meta tag.
	req, _ = http.NewRequest("GET", base+"/", nil)
	req.AddCookie(&http.Cookie{Name: "steward_session", Value: sid})
	resp, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	m = csrfMeta.FindStringSubmatch(string(page))
	if m == nil {
		t.Fatalf("no CSRF token in the dashboard's page (%d):\n%s", resp.StatusCode, page)
	}
	return sid, m[1]
}
