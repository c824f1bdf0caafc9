package proc

// Capability is one thing this platform may offer process control, and
// whether it does here; Detail says which, or why not.
type Capability struct {
	Name      string
	Available bool
	Detail    string
}
