package main

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/stewardhq/steward"
)

// topHelp is the help screen.
var topHelp = []string{
	"keys",
	"  up down  j k   select a service",
	"  l  enter       show or hide the selected service's output",
	"  s  x  r        start, stop, restart the selected service",
	"  /              filter by name: type it, enter keeps it, esc clears it",
	"  esc            close this help, clear the filter",
	"  ?              this help",
	"  q  ctrl-c      quit",
}

func (m *topModel) View() string {
	w, h := cmp.Or(m.width, 80), cmp.Or(m.height, 24)
	lines := []string{m.header()}
	body := max(h-3, 2) // all but the header, the status line and the footer
	switch {
	case m.help:
		lines = append(lines, topHelp...)
		lines = append(lines, fmt.Sprintf("The services refresh every %v and on every event; a memory sparkline shows RSS over %v, a bar per %v.",
			m.every, topSamples*topStep, topStep))
		lines = pad(lines, 1+body)
	case m.logOn:
		logH := body / 2
		lines = append(lines, m.table(body-logH)...)
		lines = append(lines, m.logPane(logH, w)...)
	default:
		lines = append(lines, m.table(body)...)
	}
	lines = append(lines, m.status, m.footer())
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, w, "")
	}
	return strings.Join(lines, "\n")
}

// pad appends empty lines to lines up to n.
func pad(lines []string, n int) []string {
	for len(lines) < n {
		lines = append(lines, "")
	}
	return lines
}

func (m *topModel) header() string {
	vis := m.visible()
	count := fmt.Sprintf("%d services", len(m.list))
	if len(vis) != len(m.list) {
		count = fmt.Sprintf("%d of %d services", len(vis), len(m.list))
	}
	h := fmt.Sprintf("steward top  %s  %s  %s", m.addr, count, m.now().Format("15:04:05"))
	if m.listErr != nil {
		h += "  ! " + m.listErr.Error()
	}
	if m.historyErr != nil {
		h += "  ! memory history: " + m.historyErr.Error()
	}
	return h
}

func (m *topModel) footer() string {
	if m.filtering {
		return "filter: " + m.filter + "_   (enter keeps it, esc clears it)"
	}
	f := "j/k select  l logs  s start  x stop  r restart  / filter  ? help  q quit"
	if m.filter != "" {
		f += "   [filter: " + m.filter + "]"
	}
	return f
}

// table is the services table in n lines, its header first, scrolled to
// show the selected service.
func (m *topModel) table(n int) []string {
	vis := m.visible()
	nw := 4
	for _, s := range vis {
		nw = max(nw, min(len(s.Name), 20))
	}
	row := func(cursor, name, state, pid, up, cpu, rss, spark, restarts, health string) string {
		return strings.TrimRight(fmt.Sprintf("%s %-*s  %-8s  %7s  %8s  %6s  %6s  %-*s  %8s  %s", cursor, nw, name, state, pid, up, cpu, rss,
			topSamples, spark, restarts, health), " ")
	}
	lines := []string{row(" ", "NAME", "STATE", "PID", "UPTIME", "CPU", "RSS", "MEMORY", "RESTARTS", "HEALTH")}
	if len(vis) == 0 {
		lines = append(lines, "  no services")
		if len(m.list) > 0 {
			lines[1] = fmt.Sprintf("  no service matches %q", m.filter)
		}
		return pad(lines, n)
	}
	sel := max(0, slices.IndexFunc(vis, func(s steward.ServiceStatus) bool { return s.Name == m.selected }))
	room := max(n-1, 1)
	off := max(0, sel-room+1)
	now := m.now()
	for i := off; i < len(vis) && i < off+room; i++ {
		s := vis[i]
		pid, cpu, rss := "-", "-", "-"
		if s.PID > 0 {
			pid = strconv.Itoa(s.PID)
		}
		if s.PID > 0 && s.RSSBytes > 0 {
			cpu, rss = fmt.Sprintf("%.1f%%", s.CPUPercent), memText(s.RSSBytes)
		}
		health := string(s.Health)
		if s.Health == steward.HealthUnknown {
			health = ""
		}
		cursor := " "
		if i == sel {
			cursor = ">"
		}
		name := s.Name
		if len(name) > nw {
			name = name[:nw-1] + "…"
		}
		line := row(cursor, name, string(s.State), pid, since(s, now), cpu, rss, sparkline(m.history[s.Name]),
			strconv.Itoa(s.Restarts), health)
		if i == sel {
			line = "\x1b[7m" + line + "\x1b[0m"
		}
		lines = append(lines, line)
	}
	return pad(lines, n)
}

// logPane is the selected service's output in n lines, a title first.
func (m *topModel) logPane(n, w int) []string {
	title := "── output of " + m.logName + " "
	title += strings.Repeat("─", max(0, w-ansi.StringWidth(title)))
	var text []string
	for _, l := range m.logs {
		if l.Missed > 0 {
			text = append(text, fmt.Sprintf("… %d lines missed", l.Missed))
		}
		text = append(text, escapeControl(strings.ReplaceAll(l.Text, "\t", "    ")))
	}
	lines := append([]string{title}, text[max(0, len(text)-(n-1)):]...)
	return pad(lines, n)
}

// sparkline draws samples, the newest rightmost, scaled to their peak; a
// sample of 0 (no process) is blank.
func sparkline(samples []uint64) string {
	bars := []rune("▁▂▃▄▅▆▇█")
	peak := uint64(0)
	for _, v := range samples {
		peak = max(peak, v)
	}
	var b strings.Builder
	for _, v := range samples {
		switch {
		case v == 0:
			b.WriteByte(' ')
		default:
			b.WriteRune(bars[v*uint64(len(bars)-1)/peak])
		}
	}
	return b.String()
}
