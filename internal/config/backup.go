package config

import (
	"path"
	"strings"
	"time"

	"filippo.io/age"
	"go.yaml.in/yaml/v3"
)

// Archive formats of a backup.
const (
	FormatTarZstd = "tar.zst"
	FormatTarGzip = "tar.gz"
	FormatZip     = "zip"
)

// JobBackup is a backup action: the files under Paths, filtered by
// Include and Exclude, archived into To in Format, optionally encrypted,
// then the archives of the job that Keep does not keep are removed.
type JobBackup struct {
	// Paths are absolute; each is archived under its path without the
	// leading separator (and a Windows volume's colon).
	Paths []string `json:"paths"`
	// Include and Exclude are globs over the slash-separated path below
	// one of Paths: a glob without a slash matches a name at any depth,
	// one with a slash the whole path, and "**" any number of
	// directories. With Include, only the files it matches are archived;
	// Exclude wins over Include and prunes a directory it matches.
	Include []string `json:"include,omitempty"`
	Exclude []string `json:"exclude,omitempty"`
	To      string   `json:"to"`
	Format  string   `json:"format"`
	Keep    Keep     `json:"keep"`
	// Recipients are age public keys (age1…): with any, the archive is
	// encrypted to all of them.
	Recipients []string `json:"recipients,omitempty"`
}

// Keep is a retention policy with restic's forget semantics; the zero
// Keep keeps every archive.
type Keep struct {
	Last    int `json:"last,omitempty"`
	Hourly  int `json:"hourly,omitempty"`
	Daily   int `json:"daily,omitempty"`
	Weekly  int `json:"weekly,omitempty"`
	Monthly int `json:"monthly,omitempty"`
	Yearly  int `json:"yearly,omitempty"`
	// Within keeps every archive made within it of the newest one.
	Within time.Duration `json:"within,omitempty"`
}

// IsZero reports whether k keeps everything: it sets no rule.
func (k Keep) IsZero() bool { return k == Keep{} }

func (p *parser) jobBackup(n *yaml.Node) *JobBackup {
	b := &JobBackup{Format: FormatTarZstd}
	var to, paths *yaml.Node
	for _, f := range p.fields(n, "backup", "paths", "include", "exclude", "to", "format", "keep", "encrypt") {
		v := f.val
		switch k := f.key.Value; k {
		case "paths":
			paths = v
			list := p.strings(v, "backup.paths")
			for _, s := range list {
				if s, ok := p.path(s, "backup.paths"); ok {
					b.Paths = append(b.Paths, s)
				}
			}
			if len(list) == 0 && resolve(v).Kind == yaml.SequenceNode {
				p.errorf(v, "backup.paths needs at least one path")
			}
		case "include", "exclude":
			for _, s := range p.strings(v, "backup."+k) {
				g, ok := p.str(s, "backup."+k)
				if !ok {
					continue
				}
				if msg := checkGlob(g); msg != "" {
					p.errorf(s, "backup.%s %q: %s", k, g, msg)
					continue
				}
				if k == "include" {
					b.Include = append(b.Include, g)
				} else {
					b.Exclude = append(b.Exclude, g)
				}
			}
		case "to":
			if s, ok := p.path(v, "backup.to"); ok {
				b.To, to = s, v
			}
		case "format":
			b.Format = p.oneOf(v, "backup.format", b.Format, FormatTarZstd, FormatTarGzip, FormatZip)
		case "keep":
			b.Keep = p.keep(v)
		case "encrypt":
			for _, f := range p.fields(v, "backup.encrypt", "recipients") {
				for _, s := range p.strings(f.val, "backup.encrypt.recipients") {
					r, ok := p.str(s, "backup.encrypt.recipients")
					if !ok {
						continue
					}
					if _, err := age.ParseX25519Recipient(r); err != nil {
						p.errorf(s, "backup.encrypt.recipients: %q is not an age public key (age1…)", r)
						continue
					}
					b.Recipients = append(b.Recipients, r)
				}
			}
		}
	}
	switch {
	case paths == nil:
		p.errorf(n, "backup needs paths: the files and directories to archive")
	case to == nil:
		p.errorf(n, "backup needs to: the directory the archives go to")
	default:
		for _, s := range b.Paths {
			if Within(b.To, s) {
				p.errorf(to, "backup.to %s is inside backup.paths %s: the archives would archive themselves", b.To, s)
			}
		}
	}
	return b
}

func (p *parser) keep(n *yaml.Node) Keep {
	var k Keep
	for _, f := range p.fields(n, "backup.keep", "last", "hourly", "daily", "weekly", "monthly", "yearly", "within") {
		what := "backup.keep." + f.key.Value
		if f.key.Value == "within" {
			k.Within, _ = p.positive(f.val, what)
			continue
		}
		c, _ := p.count(f.val, what)
		switch f.key.Value {
		case "last":
			k.Last = c
		case "hourly":
			k.Hourly = c
		case "daily":
			k.Daily = c
		case "weekly":
			k.Weekly = c
		case "monthly":
			k.Monthly = c
		case "yearly":
			k.Yearly = c
		}
	}
	return k
}

// checkGlob returns what is wrong with the include or exclude glob g, or
// "". Each slash-separated part is a path.Match pattern, or "**".
func checkGlob(g string) string {
	if g == "" || strings.HasPrefix(g, "/") {
		return "a glob must be a relative, non-empty pattern"
	}
	for part := range strings.SplitSeq(g, "/") {
		if part == "**" {
			continue
		}
		if _, err := path.Match(part, ""); err != nil {
			return "invalid pattern: " + err.Error()
		}
	}
	return ""
}
