package store

import (
	"context"
	"testing"
	"time"

	"github.com/stewardhq/steward"
)

func TestAlertsStore(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	a := steward.Alert{Rule: "cpu", Subject: "machine", Severity: "warning", State: steward.AlertPending, Message: "hot", Started: t0, Updated: t0}
	if err := s.SaveAlert(ctx, &a, steward.AlertTransition{Time: t0, To: steward.AlertPending, Message: "hot"}); err != nil {
		t.Fatal(err)
	}
	dup := a
	dup.ID = 0
	if err := s.SaveAlert(ctx, &dup, steward.AlertTransition{Time: t0, To: steward.AlertPending}); steward.ErrorCode(err) != steward.ECONFLICT {
		t.Errorf("second open alert of one identity: %v, want conflict", err)
	}
	a.State, a.Fired, a.Updated, a.Flapping, a.AckedBy, a.AckedAt = steward.AlertFiring, t0.Add(time.Minute), t0.Add(time.Minute), true, "me", t0.Add(time.Minute)
	if err := s.SaveAlert(ctx, &a, steward.AlertTransition{Time: t0.Add(time.Minute), From: steward.AlertPending, To: steward.AlertFiring}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Alert(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != steward.AlertFiring || !got.Fired.Equal(a.Fired) || !got.Flapping || got.AckedBy != "me" || len(got.Transitions) != 2 ||
		got.Transitions[1].From != steward.AlertPending || !got.Resolved.IsZero() {
		t.Errorf("alert = %+v", got)
	}
	if _, err := s.Alert(ctx, 99); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("Alert(99): %v", err)
	}
	missing := steward.Alert{ID: 99, Rule: "x", State: steward.AlertFiring}
	if err := s.SaveAlert(ctx, &missing, steward.AlertTransition{To: steward.AlertFiring}); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("update of a missing alert: %v", err)
	}
	a.State, a.Resolved = steward.AlertResolved, t0.Add(time.Hour)
	if err := s.SaveAlert(ctx, &a, steward.AlertTransition{Time: a.Resolved, From: steward.AlertFiring, To: steward.AlertResolved}); err != nil {
		t.Fatal(err)
	}
	b := steward.Alert{Rule: "cpu", Subject: "machine", Severity: "warning", State: steward.AlertFiring, Started: t0.Add(2 * time.Hour), Updated: t0.Add(2 * time.Hour)}
	if err := s.SaveAlert(ctx, &b, steward.AlertTransition{Time: b.Started, To: steward.AlertFiring}); err != nil {
		t.Fatalf("a new alert of a resolved identity: %v", err)
	}
	for _, tt := range []struct {
		f    AlertFilter
		want []int64
	}{
		{AlertFilter{}, []int64{b.ID, a.ID}},
		{AlertFilter{Open: true}, []int64{b.ID}},
		{AlertFilter{Since: t0.Add(2 * time.Hour)}, []int64{b.ID}},
		{AlertFilter{Limit: 1}, []int64{b.ID}},
	} {
		list, err := s.Alerts(ctx, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, x := range list {
			ids = append(ids, x.ID)
		}
		if len(ids) != len(tt.want) || (len(ids) > 0 && ids[0] != tt.want[0]) {
			t.Errorf("Alerts(%+v) = %v, want %v", tt.f, ids, tt.want)
		}
	}
	if _, err := s.Alerts(ctx, AlertFilter{Limit: -1}); steward.ErrorCode(err) != steward.EINVALID {
		t.Errorf("negative limit: %v", err)
	}
	n, err := s.PruneAlerts(ctx, t0.Add(90*time.Minute))
	if err != nil || n != 1 {
		t.Errorf("PruneAlerts = %d, %v, want 1", n, err)
	}
	if _, err := s.Alert(ctx, a.ID); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("pruned alert still there: %v", err)
	}
}

func TestSilencesStore(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	sl := steward.Silence{Matchers: map[string]string{"subject": "web*"}, Starts: t0, Ends: t0.Add(time.Hour), By: "me", Comment: "deploy"}
	if err := s.AddSilence(ctx, &sl); err != nil || sl.ID == 0 {
		t.Fatal(sl.ID, err)
	}
	old := steward.Silence{Matchers: map[string]string{"rule": "x"}, Starts: t0.Add(-2 * time.Hour), Ends: t0.Add(-time.Hour)}
	if err := s.AddSilence(ctx, &old); err != nil {
		t.Fatal(err)
	}
	list, err := s.Silences(ctx, t0)
	if err != nil || len(list) != 1 || list[0].Matchers["subject"] != "web*" || list[0].By != "me" || !list[0].Ends.Equal(sl.Ends) {
		t.Fatalf("Silences = %+v, %v", list, err)
	}
	if all, _ := s.Silences(ctx, time.Time{}); len(all) != 2 {
		t.Errorf("all silences = %d, want 2", len(all))
	}
	if _, err := s.PruneAlerts(ctx, t0); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.Silences(ctx, time.Time{}); len(all) != 1 {
		t.Errorf("silences after prune = %d, want 1", len(all))
	}
	if err := s.DeleteSilence(ctx, sl.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSilence(ctx, sl.ID); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Errorf("delete again: %v", err)
	}
}

func TestMetricsStore(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	id, err := s.SeriesID(ctx, "cpu", map[string]string{"service": "web"})
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := s.SeriesID(ctx, "cpu", map[string]string{"service": "web"}); again != id {
		t.Errorf("SeriesID again = %d, want %d", again, id)
	}
	if _, err := s.SeriesID(ctx, "", nil); steward.ErrorCode(err) != steward.EINVALID {
		t.Errorf("empty name: %v", err)
	}
	other, _ := s.SeriesID(ctx, "cpu", nil)
	series, err := s.ListSeries(ctx)
	if err != nil || len(series) != 2 || series[0].Labels["service"] != "web" || len(series[1].Labels) != 0 {
		t.Fatalf("ListSeries = %+v, %v", series, err)
	}
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	var pts []Point
	for i := range 180 { // 3 minutes, a sample a second, values 0..179
		pts = append(pts, Point{Series: id, Time: t0.Add(time.Duration(i) * time.Second), Value: float64(i)})
	}
	pts = append(pts, Point{Series: other, Time: t0.Add(-time.Second), Value: -1})
	if err := s.WriteMetrics(ctx, pts[:100]); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteMetrics(ctx, pts[100:]); err != nil { // minute 1 is split across writes
		t.Fatal(err)
	}
	if err := s.WriteMetrics(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		tier Tier
		step time.Duration
		want []Bucket
	}{
		{TierRaw, time.Minute, []Bucket{{t0, 1770, 60, 0, 59}, {t0.Add(time.Minute), 5370, 60, 60, 119}, {t0.Add(2 * time.Minute), 8970, 60, 120, 179}}},
		{TierMinute, time.Minute, []Bucket{{t0, 1770, 60, 0, 59}, {t0.Add(time.Minute), 5370, 60, 60, 119}, {t0.Add(2 * time.Minute), 8970, 60, 120, 179}}},
		{TierMinute, 2 * time.Minute, []Bucket{{t0, 7140, 120, 0, 119}, {t0.Add(2 * time.Minute), 8970, 60, 120, 179}}},
		{TierHour, time.Hour, []Bucket{{t0, 16110, 180, 0, 179}}},
	} {
		got, err := s.AggregateMetrics(ctx, id, tt.tier, t0, t0.Add(time.Hour), tt.step)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(tt.want) {
			t.Fatalf("%s/%s: %+v, want %+v", tt.tier, tt.step, got, tt.want)
		}
		for i := range got {
			if !got[i].Time.Equal(tt.want[i].Time) || got[i].Sum != tt.want[i].Sum || got[i].Count != tt.want[i].Count ||
				got[i].Min != tt.want[i].Min || got[i].Max != tt.want[i].Max {
				t.Errorf("%s/%s bucket %d = %+v, want %+v", tt.tier, tt.step, i, got[i], tt.want[i])
			}
		}
	}
	if _, err := s.AggregateMetrics(ctx, id, "5m", t0, t0, time.Minute); steward.ErrorCode(err) != steward.EINVALID {
		t.Errorf("unknown tier: %v", err)
	}
	if TierRaw.Resolution() != 0 || TierMinute.Resolution() != time.Minute || TierHour.Resolution() != time.Hour {
		t.Error("resolutions")
	}
	if got, ok, _ := s.OldestMetric(ctx, TierRaw); !ok || !got.Equal(t0.Add(-time.Second)) {
		t.Errorf("oldest raw = %v %v", got, ok)
	}
	n, err := s.PruneMetrics(ctx, TierRaw, t0.Add(time.Minute))
	if err != nil || n != 61 {
		t.Errorf("PruneMetrics = %d, %v, want 61", n, err)
	}
	if _, err := s.PruneMetrics(ctx, "x", t0); err == nil {
		t.Error("prune of an unknown tier")
	}
	if _, _, err := s.OldestMetric(ctx, "x"); err == nil {
		t.Error("oldest of an unknown tier")
	}
	if _, ok, _ := s.OldestMetric(ctx, TierHour); !ok {
		t.Error("no hour rows")
	}
	if _, err := s.PruneMetrics(ctx, TierHour, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.OldestMetric(ctx, TierHour); ok || err != nil {
		t.Errorf("hour rows left after prune: %v", err)
	}
	if floorDiv(-1, 60) != -1 || floorDiv(61, 60) != 1 || LabelsKey(nil) != "{}" {
		t.Error("floorDiv or LabelsKey")
	}
}
