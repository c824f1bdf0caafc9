package backup

import (
	"context"
	"path/filepath"
	"slices"

	"github.com/stewardhq/steward"
	"github.com/stewardhq/steward/internal/config"
)

// Catalog serves the backups of the backup jobs of the configuration in
// force, found in their to: directories. It is safe for concurrent use.
type Catalog struct {
	// Config returns the configuration in force.
	Config func() *config.Config
}

// job returns the backup job name: ENOTFOUND for an unknown job, EINVALID
// for one with another action.
func (c *Catalog) job(name string) (*config.Job, error) {
	j := c.Config().Jobs[name]
	switch {
	case j == nil:
		return nil, steward.Errorf(steward.ENOTFOUND, "job %q not found", name)
	case j.Backup == nil:
		return nil, steward.Errorf(steward.EINVALID, "job %q is not a backup job", name)
	}
	return j, nil
}

// dirs returns the to: directories of the backup jobs, each once.
func (c *Catalog) dirs() []string {
	cfg := c.Config()
	var dirs []string
	for _, name := range cfg.JobOrder {
		if j := cfg.Jobs[name]; j != nil && j.Backup != nil && !slices.Contains(dirs, j.Backup.To) {
			dirs = append(dirs, j.Backup.To)
		}
	}
	return dirs
}

// List returns the backups of job, or of every backup job for "", newest
// first.
func (c *Catalog) List(_ context.Context, job string) ([]steward.Backup, error) {
	var all []*Info
	if job != "" {
		j, err := c.job(job)
		if err != nil {
			return nil, err
		}
		if all, err = List(j.Backup.To, job); err != nil {
			return nil, err
		}
	} else {
		cfg := c.Config()
		dirs := c.dirs()
		for _, d := range dirs {
			list, err := List(d, "")
			if err != nil {
				return nil, err
			}
			for _, in := range list {
				if j := cfg.Jobs[in.Job]; j != nil && j.Backup != nil && j.Backup.To == d {
					all = append(all, in)
				}
			}
		}
		sortNewest(all)
	}
	out := make([]steward.Backup, len(all))
	for i, in := range all {
		out[i] = in.wire()
	}
	return out, nil
}

// find returns backup id of a backup job: ENOTFOUND when none has it.
func (c *Catalog) find(id string) (*Info, error) {
	cfg := c.Config()
	dirs := c.dirs()
	for _, d := range dirs {
		list, err := List(d, "")
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(list, func(in *Info) bool { return in.ID == id })
		if i < 0 {
			continue
		}
		if j := cfg.Jobs[list[i].Job]; j != nil && j.Backup != nil && j.Backup.To == d {
			return list[i], nil
		}
	}
	return nil, steward.Errorf(steward.ENOTFOUND, "backup %q not found", id)
}

// Get returns backup id.
func (c *Catalog) Get(_ context.Context, id string) (steward.Backup, error) {
	in, err := c.find(id)
	if err != nil {
		return steward.Backup{}, err
	}
	return in.wire(), nil
}

// Verify verifies backup id, decrypting it with identity (age identity
// text) when it is encrypted and identity is not "".
func (c *Catalog) Verify(ctx context.Context, id, identity string) (steward.BackupCheck, error) {
	ids, err := Identities(identity)
	if err != nil {
		return steward.BackupCheck{}, err
	}
	in, err := c.find(id)
	if err != nil {
		return steward.BackupCheck{}, err
	}
	return Verify(ctx, in, ids)
}

// Restore restores backup id below req.To: an absolute path outside the
// data dir and the backup jobs' to: directories.
func (c *Catalog) Restore(ctx context.Context, id string, req steward.BackupRestoreRequest) (steward.BackupRestore, error) {
	if req.To == "" || !filepath.IsAbs(req.To) {
		return steward.BackupRestore{}, steward.Errorf(steward.EINVALID, "restore needs an absolute target directory, not %q", req.To)
	}
	to := filepath.Clean(req.To)
	if d := c.Config().DataDir; d != "" && config.Within(to, d) {
		return steward.BackupRestore{}, steward.Errorf(steward.EINVALID, "restore target %s is inside the data dir %s: it would overwrite steward's own files", to, d)
	}
	for _, d := range c.dirs() {
		if config.Within(to, d) {
			return steward.BackupRestore{}, steward.Errorf(steward.EINVALID, "restore target %s is inside the backup directory %s: it would mix files with the archives", to, d)
		}
	}
	ids, err := Identities(req.Identity)
	if err != nil {
		return steward.BackupRestore{}, err
	}
	in, err := c.find(id)
	if err != nil {
		return steward.BackupRestore{}, err
	}
	return Restore(ctx, in, to, ids)
}

// Forget applies job's keep policy to its backups, or says what it would
// do with dryRun.
func (c *Catalog) Forget(_ context.Context, job string, dryRun bool) (steward.BackupForget, error) {
	j, err := c.job(job)
	if err != nil {
		return steward.BackupForget{}, err
	}
	d, err := Forget(j, dryRun)
	return steward.BackupForget{Job: job, DryRun: dryRun, Decisions: d}, err
}

func (in *Info) wire() steward.Backup {
	return steward.Backup{ID: in.ID, Job: in.Job, Time: in.Time, Format: in.Format, Encrypted: in.Encrypted,
		Archive: in.path(), Size: in.Size, SHA256: in.SHA256, Files: in.Files, Bytes: in.Bytes, Skipped: in.Skipped}
}
