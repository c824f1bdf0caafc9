package report

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/notify"
)

type sent struct {
	notifier string
	m        notify.Message
}

func TestRunJob(t *testing.T) {
	st := openStore(t)
	appendEvents(t, st,
		system(0, "steward started (pid 1)"),
		state(h, "api", starting, running, 10, ""),
		state(2*h, "db", starting, running, 11, ""))
	dir := t.TempDir()
	j := &config.Job{Name: "weekly", Report: &config.JobReport{Since: 24 * h, Services: []string{"api"}, Format: steward.ReportCSV,
		Out: filepath.Join(dir, "reports"), Notify: []string{"mail", "hook"}}}
	var got []sent
	o := JobOptions{Options: Options{Node: "web-01", Now: func() time.Time { return at(48 * h) }}, Link: "http://127.0.0.1:8080",
		Send: func(_ context.Context, n string, m notify.Message) error {
			got = append(got, sent{n, m})
			if n == "hook" {
				return errors.New("outbox full")
			}
			return nil
		}}
	out, err := RunJob(context.Background(), st, j, steward.Run{ID: 7, Scheduled: at(24 * h), Started: at(25 * h)}, o)
	if err == nil || !strings.Contains(err.Error(), "notify hook: outbox full") {
		t.Errorf("RunJob error = %v, want the hook's", err)
	}
	path := filepath.Join(dir, "reports", "weekly-20260106T000000Z.csv")
	data, rerr := os.ReadFile(path)
	if rerr != nil {
		t.Fatal(rerr)
	}
	rows, rerr := csv.NewReader(strings.NewReader(string(data))).ReadAll()
	if rerr != nil || len(rows) != 2 || rows[1][0] != "api" {
		t.Errorf("csv = %q (%v), want api alone", rows, rerr)
	}
	sum := sha256.Sum256(data)
	for _, want := range []string{"report " + path, "sha256 " + hex.EncodeToString(sum[:]), "notify mail: queued", "notify hook: outbox full"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if len(got) != 2 || got[0].notifier != "mail" || got[0].m.Key != "report-7-mail" || got[0].m.Node != "web-01" {
		t.Fatalf("sent = %+v", got)
	}
	r := got[0].m.Report
	if r.Path != path || r.Name != filepath.Base(path) || r.Size != int64(len(data)) || r.SHA256 != hex.EncodeToString(sum[:]) ||
		r.ContentType != "text/csv; charset=utf-8" || !r.Since.Equal(t0) || !r.Until.Equal(at(24*h)) {
		t.Errorf("report = %+v", r)
	}
	u, perr := url.Parse(r.URL)
	if perr != nil || u.Host != "127.0.0.1:8080" || u.Path != "/v1/report" || u.Query().Get("format") != "csv" ||
		u.Query().Get("service") != "api" || u.Query().Get("since") != "2026-01-05T00:00:00Z" {
		t.Errorf("url = %s", r.URL)
	}
	if _, err := ParseRequest(u.Query(), "", at(48*h)); err != nil {
		t.Errorf("the link's query: %v", err)
	}

	// A file out, a manual run (its start is its time), JSON, no link
	// and no notifier; no temporary file is left beside it.
	j.Report = &config.JobReport{Since: h, Format: steward.ReportJSON, Out: filepath.Join(dir, "latest.json"), File: true}
	o.Link = ""
	if _, err := RunJob(context.Background(), st, j, steward.Run{ID: 8, Started: at(3 * h)}, o); err != nil {
		t.Fatal(err)
	}
	var rep steward.Report
	if data, err := os.ReadFile(j.Report.Out); err != nil || json.Unmarshal(data, &rep) != nil {
		t.Fatalf("latest.json: %v", err)
	}
	if !rep.Since.Equal(at(2*h)) || len(rep.Services) != 2 {
		t.Errorf("report %v, %d services", rep.Since, len(rep.Services))
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("dir holds %v", ents)
	}
}

func TestRunJobErrors(t *testing.T) {
	st := openStore(t)
	dir := t.TempDir()
	o := JobOptions{Options: Options{Now: func() time.Time { return at(48 * h) }}}
	j := &config.Job{Name: "r", Report: &config.JobReport{Since: h, Format: steward.ReportHTML, Out: dir}}
	// The range must not be empty: a run at the epoch's start of time.
	if _, err := RunJob(context.Background(), st, j, steward.Run{Started: at(100 * h)}, o); err == nil {
		t.Error("a run after now: no error")
	}
	j.Report.Format = "pdf"
	if _, err := RunJob(context.Background(), st, j, steward.Run{Started: at(2 * h)}, o); err == nil {
		t.Error("format pdf: no error")
	}
	// out under a file: nothing is written.
	block := filepath.Join(dir, "file")
	if err := os.WriteFile(block, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	j.Report = &config.JobReport{Since: h, Format: steward.ReportHTML, Out: filepath.Join(block, "sub")}
	if _, err := RunJob(context.Background(), st, j, steward.Run{Started: at(2 * h)}, o); err == nil || !strings.HasPrefix(err.Error(), "report: ") {
		t.Errorf("out under a file: %v", err)
	}
	// out is a directory where a file should be: the rename fails.
	j.Report = &config.JobReport{Since: h, Format: steward.ReportHTML, Out: filepath.Join(dir, "taken.html"), File: true}
	if err := os.Mkdir(j.Report.Out, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(j.Report.Out, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := RunJob(context.Background(), st, j, steward.Run{Started: at(2 * h)}, o); err == nil || !strings.Contains(err.Error(), "report: write") {
		t.Errorf("out a directory: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("a temporary file was left: %v", ents)
	}
}
