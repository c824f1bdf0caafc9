package steward

import "time"

// Backup is one archive a backup job made, as its sidecar manifest
// describes it.
type Backup struct {
	ID        string    `json:"id"`
	Job       string    `json:"job"`
	Time      time.Time `json:"time"`
	Format    string    `json:"format"` // tar.zst, tar.gz or zip
	Encrypted bool      `json:"encrypted"`
	// Archive is the archive file's path on the node.
	Archive string `json:"archive"`
	// Size is the archive file's size in bytes, SHA256 its digest.
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Files counts the regular files archived, Bytes their content.
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
	// Skipped are the special files left out, with why.
	Skipped []BackupSkip `json:"skipped,omitempty"`
}

// BackupSkip is a path a backup left out, and why.
type BackupSkip struct {
	Path string `json:"path"`
	Why  string `json:"why"`
}

// BackupIdentity is the body of a verify: the age identity
// (AGE-SECRET-KEY-1…) that decrypts an encrypted archive; without it an
// encrypted archive's digest is checked, not its content.
type BackupIdentity struct {
	Identity string `json:"identity,omitempty"`
}

// BackupCheck is the result of verifying an archive: OK, or the problems
// found, each naming the entry it is about.
type BackupCheck struct {
	ID    string `json:"id"`
	OK    bool   `json:"ok"`
	Files int    `json:"files"`
	Bytes int64  `json:"bytes"`
	// Content says whether the entries were read and their digests
	// checked: false for an encrypted archive without an identity.
	Content  bool     `json:"content"`
	Problems []string `json:"problems,omitempty"`
}

// BackupRestoreRequest is the body of a restore: the directory the
// archive's entries are written below, and the identity of an encrypted
// archive.
type BackupRestoreRequest struct {
	To       string `json:"to"`
	Identity string `json:"identity,omitempty"`
}

// BackupRestore is what a restore wrote.
type BackupRestore struct {
	ID    string `json:"id"`
	To    string `json:"to"`
	Files int    `json:"files"`
	Bytes int64  `json:"bytes"`
}

// BackupDecision is what a job's retention policy does with one of its
// archives: keep it, for the reasons given, or remove it.
type BackupDecision struct {
	ID      string    `json:"id"`
	Time    time.Time `json:"time"`
	Keep    bool      `json:"keep"`
	Reasons []string  `json:"reasons,omitempty"`
}

// BackupForget is the result of applying a job's retention policy, or of
// a dry run of it (nothing removed).
type BackupForget struct {
	Job       string           `json:"job"`
	DryRun    bool             `json:"dry_run"`
	Decisions []BackupDecision `json:"decisions"`
}
