package auth

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"iter"
	"time"

	"github.com/stewardhq/steward"
)

// Audit records are hash-chained: each record's hash is the SHA-256 of the
// hash of the record before it (GenesisHash for the first) and of its own
// fields, each length-prefixed. Editing a record changes its hash, deleting
// or reordering records breaks the chain at the first one affected, and a
// tail cut off the end is found against the latest signed checkpoint.

// GenesisHash is the hash the first record chains to.
var GenesisHash = hex.EncodeToString(make([]byte, sha256.Size))

// ChainHash returns the hash of r following a record whose hash is prev.
// r.Hash is not part of it.
func ChainHash(prev string, r steward.AuditRecord) string {
	h := sha256.New()
	var n [8]byte
	field := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field(prev)
	binary.BigEndian.PutUint64(n[:], uint64(r.Seq))
	h.Write(n[:])
	field(r.Time.UTC().Format(time.RFC3339Nano))
	field(r.Principal)
	field(r.Action)
	field(r.Target)
	field(r.Outcome)
	return hex.EncodeToString(h.Sum(nil))
}

// Verify walks the records in sequence order and checks the chain, then
// the tail against cp, the latest checkpoint (nil when there is none). It
// reports the first problem only.
func Verify(records iter.Seq2[steward.AuditRecord, error], cp *Checkpoint) (steward.AuditVerification, error) {
	var v steward.AuditVerification
	if cp != nil {
		v.Checkpoint = cp.Seq
	}
	prev, last := GenesisHash, int64(0)
	var atCheckpoint string
	if cp != nil && cp.Seq == 0 {
		atCheckpoint = GenesisHash // a checkpoint of the empty log
	}
	for r, err := range records {
		if err != nil {
			return v, err
		}
		v.Records++
		switch {
		case r.Seq != last+1:
			return bad(v, last+1, fmt.Sprintf("record %d is missing (the one after %d is %d): records were deleted or reordered", last+1, last, r.Seq)), nil
		case r.Hash != ChainHash(prev, r):
			return bad(v, r.Seq, fmt.Sprintf("record %d does not match its hash: it was edited, or records were reordered", r.Seq)), nil
		}
		prev, last = r.Hash, r.Seq
		if cp != nil && r.Seq == cp.Seq {
			atCheckpoint = r.Hash
		}
	}
	if cp != nil {
		switch {
		case last < cp.Seq:
			return bad(v, last+1, fmt.Sprintf("the log ends at record %d but the checkpoint of %s vouches for %d: its tail was cut",
				last, cp.Time.UTC().Format(time.RFC3339), cp.Seq)), nil
		case atCheckpoint != cp.Hash:
			return bad(v, cp.Seq, fmt.Sprintf("record %d is not the one the checkpoint of %s signed: the log was rewritten",
				cp.Seq, cp.Time.UTC().Format(time.RFC3339))), nil
		}
	}
	v.OK = true
	return v, nil
}

// bad returns v failed at record seq for problem.
func bad(v steward.AuditVerification, seq int64, problem string) steward.AuditVerification {
	v.FirstBad, v.Problem = seq, problem
	return v
}
