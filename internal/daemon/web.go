package daemon

import (
	"net"
	"net/http"

	"github.com/stewardhq/steward/internal/api"
	"github.com/stewardhq/steward/internal/web"
)

// dashboard returns the handler of the TCP listener l: the web dashboard at
// / in front of the API, whose paths keep needing the token (or, from the
// dashboard, its session); authn accepts the tokens and limit bounds each
// principal's requests. It logs where to open the dashboard and where the
// token to log in with is.
func (d *Daemon) dashboard(l net.Listener, tls bool, authn api.Authenticator, limit *api.RateLimiter, tokenFile string) http.Handler {
	scheme := "http"
	if tls {
		scheme = "https"
	}
	d.opts.Logger.Info("dashboard: open url and log in with the API token in token_file",
		"url", scheme+"://"+l.Addr().String()+"/", "token_file", tokenFile)
	return web.New(web.Options{API: d.api.TCPHandler(authn, limit), Tokens: authn, Logger: d.opts.Logger})
}
