package report

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/notify"
)

// JobOptions are what a report job needs beside the store.
type JobOptions struct {
	Options
	// Link is the dashboard's base URL, such as "http://127.0.0.1:8080";
	// "" when none is configured.
	Link string
	// Send stores m for the notifier named, to be delivered: the outbox's
	// Enqueue. Nil only when the job names no notifier.
	Send func(ctx context.Context, notifier string, m notify.Message) error
}

// RunJob performs the report action of job j for run r: it builds the
// report of the span before the run's time (its scheduled time, else its
// start), writes it to the job's out in one rename, and queues it for the
// job's notifiers. It returns the run's output: the file written, its
// size and digest, and what each notifier was given.
func RunJob(ctx context.Context, src Source, j *config.Job, r steward.Run, o JobOptions) ([]byte, error) {
	jr := j.Report
	at := r.Scheduled
	if at.IsZero() {
		at = r.Started
	}
	at = at.UTC()
	rep, err := Build(ctx, src, Query{Since: at.Add(-jr.Since), Until: at, Services: jr.Services}, o.Options)
	if err != nil {
		return nil, err
	}
	var body bytes.Buffer
	if err := Write(&body, rep, jr.Format, ""); err != nil {
		return nil, err
	}
	path := jr.Out
	if !jr.File {
		path = filepath.Join(jr.Out, j.Name+"-"+at.Format("20060102T150405Z")+"."+jr.Format)
	}
	if err := writeFile(path, body.Bytes()); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body.Bytes())
	file := &notify.Report{Job: j.Name, Path: path, Name: filepath.Base(path), ContentType: ContentType(jr.Format),
		Size: int64(body.Len()), SHA256: hex.EncodeToString(sum[:]), Since: rep.Since, Until: rep.Until}
	if o.Link != "" {
		q := url.Values{"since": {rep.Since.Format(time.RFC3339)}, "until": {rep.Until.Format(time.RFC3339)},
			"format": {jr.Format}, "service": jr.Services}
		file.URL = o.Link + "/v1/report?" + q.Encode()
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "report %s: %d bytes, sha256 %s\n", path, file.Size, file.SHA256)
	var errs []error
	for _, name := range jr.Notify {
		m := notify.Message{Key: "report-" + strconv.FormatInt(r.ID, 10) + "-" + name, Node: rep.Node, Time: rep.Generated,
			Alerts: []notify.Alert{}, Report: file}
		if err := o.Send(ctx, name, m); err != nil {
			errs = append(errs, fmt.Errorf("notify %s: %w", name, err))
			fmt.Fprintf(&out, "notify %s: %v\n", name, err)
			continue
		}
		fmt.Fprintf(&out, "notify %s: queued\n", name)
	}
	return out.Bytes(), errors.Join(errs...)
}

// writeFile writes data to path in one rename, creating its directory.
func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o640)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("report: write %s: %w", path, err)
	}
	return nil
}
