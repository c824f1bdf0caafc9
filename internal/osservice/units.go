package osservice

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"strings"
	"sync"
	"text/template"
	"time"
)

// systemdTemplate is the systemd unit of steward. Type=notify: steward
// tells systemd it runs once its API serves. KillMode=mixed: a stop sends
// SIGTERM to steward alone, which stops its services in dependency order;
// whatever is left after TimeoutStopSec is killed with the whole cgroup.
// It is parsed when first used, so that commands that never write a unit
// do not pay for it at start-up.
var systemdTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("unit").Parse(systemdUnit))
})

const systemdUnit = `# steward as a service: "steward service install" writes this file and "steward service unit" prints it.
[Unit]
Description={{.Description}}
Documentation=https://github.com/stewardhq/steward
Wants=network-online.target
After=network-online.target

[Service]
Type=notify
NotifyAccess=main
ExecStart={{.ExecStart}}
ExecReload=/bin/kill -HUP $MAINPID
KillMode=mixed
TimeoutStartSec=90
TimeoutStopSec={{.StopTimeout}}
Restart=on-failure
RestartSec=2
LimitNOFILE=65536
SyslogIdentifier={{.Name}}

[Install]
WantedBy=multi-user.target
`

// SystemdUnit returns the systemd unit file of spec.
func SystemdUnit(spec Spec) (string, error) {
	if err := spec.check(); err != nil {
		return "", err
	}
	if strings.ContainsAny(spec.Description, "\n\r") {
		return "", fmt.Errorf("service spec: description %q has a line break", spec.Description)
	}
	words := append([]string{spec.Executable}, spec.Args()...)
	for i, w := range words {
		words[i] = systemdQuote(w)
	}
	return render(systemdTemplate(), map[string]any{
		"Name":        spec.Name,
		"Description": spec.Description,
		"ExecStart":   strings.Join(words, " "),
		"StopTimeout": seconds(spec.StopTimeout),
	})
}

// systemdQuote quotes a word of a systemd command line: specifiers (%) and
// variables ($) are escaped, and a word with spaces, quotes or backslashes
// is put in double quotes with C escapes.
func systemdQuote(w string) string {
	w = strings.NewReplacer("%", "%%", "$", "$$").Replace(w)
	if w != "" && !strings.ContainsAny(w, " \t\"'\\;") {
		return w
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(w) + `"`
}

// launchdTemplate is the launchd job of steward: started at boot, started
// again when it exits with a failure, and given ExitTimeOut seconds after
// SIGTERM before launchd kills it. It is parsed when first used.
var launchdTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("plist").Funcs(template.FuncMap{"xml": xmlEscape}).Parse(launchdPlist))
})

const launchdPlist = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- steward as a service: "steward service install" writes this file and "steward service unit" prints it. -->
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>{{xml .Name}}</string>
	<key>ProgramArguments</key>
	<array>
{{- range .Args}}
		<string>{{xml .}}</string>
{{- end}}
	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>KeepAlive</key>
	<dict>
		<key>SuccessfulExit</key>
		<false/>
	</dict>
	<key>ThrottleInterval</key>
	<integer>2</integer>
	<key>ExitTimeOut</key>
	<integer>{{.StopTimeout}}</integer>
	<key>ProcessType</key>
	<string>Standard</string>
{{- if .LogFile}}
	<key>StandardOutPath</key>
	<string>{{xml .LogFile}}</string>
	<key>StandardErrorPath</key>
	<string>{{xml .LogFile}}</string>
{{- end}}
</dict>
</plist>
`

// LaunchdPlist returns the launchd property list of spec.
func LaunchdPlist(spec Spec) (string, error) {
	if err := spec.check(); err != nil {
		return "", err
	}
	return render(launchdTemplate(), map[string]any{
		"Name":        spec.Name,
		"Args":        append([]string{spec.Executable}, spec.Args()...),
		"StopTimeout": seconds(spec.StopTimeout),
		"LogFile":     spec.LogFile,
	})
}

func xmlEscape(s string) (string, error) {
	var b strings.Builder
	if err := xml.EscapeText(&b, []byte(s)); err != nil {
		return "", err
	}
	return b.String(), nil
}

// render executes t. kardianos/service passes the result through its own
// template engine, which would take "{{" for an action: refuse it.
func render(t *template.Template, data map[string]any) (string, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("render %s: %w", t.Name(), err)
	}
	if bytes.Contains(b.Bytes(), []byte("{{")) {
		return "", fmt.Errorf("render %s: a path or description contains \"{{\"", t.Name())
	}
	return b.String(), nil
}

// seconds rounds d up to whole seconds.
func seconds(d time.Duration) int64 {
	return int64(math.Ceil(d.Seconds()))
}
