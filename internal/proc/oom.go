package proc

// OOMVerdict is what Check found: OOM is "yes", "no" or "unknown" (the
// values of steward.Exit.OOM) and Detail says how it knows.
type OOMVerdict struct {
	OOM    string
	Detail string
}
