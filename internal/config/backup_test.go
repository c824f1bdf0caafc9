package config

import (
	"reflect"
	"testing"
	"time"
)

const testRecipient = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"

func TestParseBackup(t *testing.T) {
	c := mustParse(t, `
jobs:
  nightly:
    schedule: "0 3 * * *"
    backup:
      paths: [/srv/data, /etc/app]
      include: ["*.sql", "conf/**"]
      exclude: [cache, "**/*.tmp"]
      to: /backups
      format: zip
      keep: {last: 3, hourly: 1, daily: 7, weekly: 4, monthly: 12, yearly: 2, within: 48h}
      encrypt: {recipients: [`+testRecipient+`]}
  plain: {backup: {paths: /srv, to: /b}}
`)
	want := &JobBackup{Paths: []string{"/srv/data", "/etc/app"}, Include: []string{"*.sql", "conf/**"},
		Exclude: []string{"cache", "**/*.tmp"}, To: "/backups", Format: FormatZip,
		Keep:       Keep{Last: 3, Hourly: 1, Daily: 7, Weekly: 4, Monthly: 12, Yearly: 2, Within: 48 * time.Hour},
		Recipients: []string{testRecipient}}
	if got := c.Jobs["nightly"].Backup; !reflect.DeepEqual(got, want) {
		t.Errorf("backup = %+v\nwant %+v", got, want)
	}
	p := c.Jobs["plain"].Backup
	if p.Format != FormatTarZstd || !p.Keep.IsZero() || len(p.Paths) != 1 {
		t.Errorf("defaults = %+v", p)
	}
}

func TestBackupErrors(t *testing.T) {
	for _, tt := range []struct {
		name, src string
		want      []string
	}{
		{"needs paths and to", "jobs:\n  a: {backup: {}}\n",
			[]string{`steward.yaml:2:15: backup needs paths: the files and directories to archive`}},
		{"needs to", "jobs:\n  a: {backup: {paths: /srv}}\n",
			[]string{`steward.yaml:2:15: backup needs to: the directory the archives go to`}},
		{"empty paths", "jobs:\n  a: {backup: {paths: [], to: /b}}\n",
			[]string{`steward.yaml:2:23: backup.paths needs at least one path`}},
		{"to inside paths", "jobs:\n  a: {backup: {paths: /srv, to: /srv/backups}}\n",
			[]string{`steward.yaml:2:33: backup.to /srv/backups is inside backup.paths /srv`}},
		{"format", "jobs:\n  a: {backup: {paths: /s, to: /b, format: rar}}\n",
			[]string{`steward.yaml:2:43: backup.format "rar" is not one of tar.zst, tar.gz, zip`}},
		{"globs", "jobs:\n  a: {backup: {paths: /s, to: /b, include: ['[a-'], exclude: ['/abs']}}\n",
			[]string{`steward.yaml:2:45: backup.include "[a-": invalid pattern: `,
				`steward.yaml:2:63: backup.exclude "/abs": a glob must be a relative, non-empty pattern`}},
		{"keep", "jobs:\n  a: {backup: {paths: /s, to: /b, keep: {last: -1, daily: x, within: 0s, forever: 1}}}\n",
			[]string{`steward.yaml:2:48: backup.keep.last must not be negative`,
				`steward.yaml:2:59: backup.keep.daily must be a whole number`,
				`steward.yaml:2:70: backup.keep.within must be more than 0`,
				`steward.yaml:2:74: unknown key "forever"`}},
		{"recipient", "jobs:\n  a: {backup: {paths: /s, to: /b, encrypt: {recipients: [age1nope]}}}\n",
			[]string{`steward.yaml:2:58: backup.encrypt.recipients: "age1nope" is not an age public key (age1…)`}},
		{"two actions", "jobs:\n  a: {command: x, backup: {paths: /s, to: /b}}\n",
			[]string{`steward.yaml:2:19: job "a" has two actions, command (at 2:7) and backup: give it one`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErrors(t, tt.src)
			if len(got) != len(tt.want) {
				t.Fatalf("errors:\n%s\nwant:\n%s", join(got), join(tt.want))
			}
			for i := range got {
				if len(got[i]) < len(tt.want[i]) || got[i][:len(tt.want[i])] != tt.want[i] {
					t.Errorf("error %d:\n got %s\nwant %s…", i, got[i], tt.want[i])
				}
			}
		})
	}
}
