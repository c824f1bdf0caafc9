package proc

import "testing"

func BenchmarkListProcs(b *testing.B) {
	for b.Loop() {
		if _, err := listProcs(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKillTreeEmpty measures the KillTree a supervisor makes after each
// exit of a process that left nothing behind: one scan of /proc.
func BenchmarkKillTreeEmpty(b *testing.B) {
	p, err := Start(Spec{Path: testprog, Args: []string{testprog, "-exit", "0"}, Tag: "proctest.bench"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := p.Wait(); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := p.KillTree(); err != nil {
			b.Fatal(err)
		}
	}
}
