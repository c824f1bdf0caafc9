package supervise

// exitSignal returns "": no signal ends a process on Windows.
func exitSignal(ExitStatus) (string, int) { return "", 0 }

// signalName returns "": Windows has no signal numbers.
func signalName(int) string { return "" }
