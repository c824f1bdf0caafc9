package auth

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward"
)

// chain returns n chained records.
func chain(n int) []steward.AuditRecord {
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	prev := GenesisHash
	var out []steward.AuditRecord
	for i := 1; i <= n; i++ {
		r := steward.AuditRecord{Seq: int64(i), Time: t0.Add(time.Duration(i) * time.Second),
			Principal: "uid:0:root (admin, via socket)", Action: "control", Target: "services/api restart", Outcome: "ok"}
		r.Hash = ChainHash(prev, r)
		prev = r.Hash
		out = append(out, r)
	}
	return out
}

func all(rs []steward.AuditRecord) func(func(steward.AuditRecord, error) bool) {
	return func(yield func(steward.AuditRecord, error) bool) {
		for _, r := range rs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

func TestVerifyFindsTampering(t *testing.T) {
	dir := t.TempDir()
	s, err := LoadOrCreateSigner(filepath.Join(dir, "key"))
	if err != nil {
		t.Fatal(err)
	}
	good := chain(10)
	cp := s.Sign(10, good[9].Hash, good[9].Time)
	tests := []struct {
		name     string
		tamper   func([]steward.AuditRecord) []steward.AuditRecord
		firstBad int64
		problem  string
	}{
		{"intact", func(r []steward.AuditRecord) []steward.AuditRecord { return r }, 0, ""},
		{"edited", func(r []steward.AuditRecord) []steward.AuditRecord { r[3].Outcome = "denied"; return r }, 4, "record 4 does not match its hash: it was edited"},
		{"edited with its hash redone", func(r []steward.AuditRecord) []steward.AuditRecord {
			r[3].Target = "services/db stop"
			r[3].Hash = ChainHash(r[2].Hash, r[3])
			return r
		}, 5, "record 5 does not match its hash"},
		{"deleted", func(r []steward.AuditRecord) []steward.AuditRecord { return slices.Delete(r, 4, 5) }, 5, "record 5 is missing"},
		{"reordered", func(r []steward.AuditRecord) []steward.AuditRecord {
			r[5], r[6] = r[6], r[5]
			r[5].Seq, r[6].Seq = 6, 7
			return r
		}, 6, "record 6 does not match its hash"},
		{"tail cut", func(r []steward.AuditRecord) []steward.AuditRecord { return r[:7] }, 8, "the log ends at record 7 but the checkpoint"},
		{"rewritten from the start", func([]steward.AuditRecord) []steward.AuditRecord {
			r := chain(10)
			r[0].Outcome = "denied"
			prev := GenesisHash
			for i := range r {
				r[i].Hash = ChainHash(prev, r[i])
				prev = r[i].Hash
			}
			return r
		}, 10, "record 10 is not the one the checkpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Verify(all(tt.tamper(slices.Clone(good))), &cp)
			if err != nil {
				t.Fatal(err)
			}
			if v.OK != (tt.firstBad == 0) || v.FirstBad != tt.firstBad || !strings.HasPrefix(v.Problem, tt.problem) {
				t.Errorf("Verify = %+v, want first bad %d with %q", v, tt.firstBad, tt.problem)
			}
		})
	}
	if v, _ := Verify(all(good[:7]), nil); !v.OK || v.Records != 7 {
		t.Errorf("a cut tail without a checkpoint: %+v, want ok (nothing vouches for more)", v)
	}
}

func TestCheckpoints(t *testing.T) {
	dir := t.TempDir()
	keyPath, cpPath := filepath.Join(dir, "audit", "key"), filepath.Join(dir, "audit", "checkpoints")
	s, err := LoadOrCreateSigner(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(keyPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v (%v), want mode 0600", fi.Mode(), err)
	}
	if c, err := LatestCheckpoint(cpPath, s); c != nil || err != nil {
		t.Fatalf("no file: %v, %v; want nil, nil", c, err)
	}
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for i, seq := range []int64{3, 9, 5} {
		if err := AppendCheckpoint(cpPath, s.Sign(seq, "h", now.Add(time.Duration(i)*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	again, err := LoadOrCreateSigner(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	c, err := LatestCheckpoint(cpPath, again)
	if err != nil || c == nil || c.Seq != 9 {
		t.Fatalf("latest = %+v, %v; want seq 9 with the key read back", c, err)
	}

	data, _ := os.ReadFile(cpPath)
	forged := strings.Replace(string(data), `"seq":9`, `"seq":2`, 1)
	if err := os.WriteFile(cpPath, []byte(forged), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LatestCheckpoint(cpPath, s); err == nil || !strings.Contains(err.Error(), ":2: checkpoint of record 2 has a bad signature") {
		t.Errorf("forged checkpoint: %v, want a bad signature on line 2", err)
	}
	os.WriteFile(cpPath, []byte("{not json\n"), 0o600)
	if _, err := LatestCheckpoint(cpPath, s); err == nil {
		t.Error("a line that is not JSON was taken")
	}
	os.WriteFile(keyPath, []byte("zz\n"), 0o600)
	if _, err := LoadOrCreateSigner(keyPath); err == nil {
		t.Error("a key that is not hex was taken")
	}
}
