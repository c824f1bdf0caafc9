package notify

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// checkpointMessage is the copy of a checkpoint, and the fields its text
// must hold.
func checkpointMessage() (Message, []string) {
	c := &Checkpoint{Seq: 42, Hash: "abc123", Time: time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC),
		Signature: "5151", KeyID: "ed25519:0011223344556677", PublicKey: "beef"}
	return Message{Key: "k1", Node: "n1", Time: c.Time, Alerts: []Alert{}, Checkpoint: c},
		[]string{"42", "abc123", "5151", "ed25519:0011223344556677", "beef", "2026-12-07T15:00:00Z"}
}

// TestCheckpointMessage: the copy of an audit checkpoint names it in its
// title, and every notifier's text — plain, Slack, Teams — carries its
// number, hash, signature and key.
func TestCheckpointMessage(t *testing.T) {
	m, fields := checkpointMessage()
	c := m.Checkpoint
	if got, want := m.Title(), "steward audit checkpoint: record 42 on node n1"; got != want {
		t.Errorf("title %q, want %q", got, want)
	}
	if got := (Message{Checkpoint: c}).Title(); got != "steward audit checkpoint: record 42" {
		t.Errorf("title without a node: %q", got)
	}
	slack, _ := json.Marshal(slackPayload(m))
	teams, _ := json.Marshal(teamsPayload(m))
	for what, text := range map[string]string{"text": m.Text(), "slack": string(slack), "teams": string(teams)} {
		for _, f := range fields {
			if !strings.Contains(text, f) {
				t.Errorf("%s of a checkpoint's message does not hold %q:\n%s", what, f, text)
			}
		}
	}
}
