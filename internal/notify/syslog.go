package notify

import (
	"strings"
)

// SyslogConfig configures a Syslog notifier (Unix only).
type SyslogConfig struct {
	// Network is "" for the local syslog daemon (/dev/log and the like), or
	// "udp", "tcp", "unix" or "unixgram" to send to Address.
	Network  string `json:"network,omitempty"`
	Address  string `json:"address,omitempty"`  // host:port, or a socket path
	Facility string `json:"facility,omitempty"` // kern … local7; default daemon
	Tag      string `json:"tag,omitempty"`      // default steward
}

// facilities are the syslog facility names and their codes (RFC 5424).
var facilities = map[string]int{
	"kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6,
	"news": 7, "uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11,
	"local0": 16, "local1": 17, "local2": 18, "local3": 19,
	"local4": 20, "local5": 21, "local6": 22, "local7": 23,
}

// Validate reports every problem with c.
func (c SyslogConfig) Validate() error {
	var p Problems
	if !syslogSupported {
		p.Add("", "syslog is not available on this OS: use eventlog")
	}
	switch c.Network {
	case "":
		if c.Address != "" {
			p.Add("network", "is required with an address: udp, tcp, unix or unixgram")
		}
	case "udp", "tcp", "unix", "unixgram":
		if c.Address == "" {
			p.Add("address", "is required with network %s", c.Network)
		}
	default:
		p.Add("network", "unknown network %q, want udp, tcp, unix or unixgram", c.Network)
	}
	if _, ok := facilities[c.Facility]; c.Facility != "" && !ok {
		p.Add("facility", "unknown facility %q, want e.g. daemon, user or local0", c.Facility)
	}
	if strings.ContainsAny(c.Tag, " \t\r\n:[]") {
		p.Add("tag", "must not contain spaces, ':' or brackets")
	}
	return p.Err()
}
