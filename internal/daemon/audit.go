package daemon

import (
	"path/filepath"

	"github.com/stewardhq/steward/internal/auth"
	"github.com/stewardhq/steward/internal/config"
	"github.com/stewardhq/steward/internal/store"
)

// openAudit returns the audit log of the store st, whose checkpoints are
// signed with the key audit.key in dataDir and kept in audit.chk there,
// outside the database.
func openAudit(dataDir string, st *store.Store) (*auth.Log, error) {
	signer, err := auth.LoadOrCreateSigner(filepath.Join(dataDir, "audit.key"))
	if err != nil {
		return nil, err
	}
	return &auth.Log{Store: st, Signer: signer, Path: filepath.Join(dataDir, "audit.chk")}, nil
}

// localRules are the rules of cfg's auth.local.
func localRules(cfg *config.Config) []auth.Rule {
	var rules []auth.Rule
	for _, r := range cfg.Auth.Local {
		rules = append(rules, auth.Rule{Match: r.Match, Role: r.Role})
	}
	return rules
}
