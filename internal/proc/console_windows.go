package proc

import "golang.org/x/sys/windows"

var (
	kernel32             = windows.NewLazySystemDLL("kernel32.dll")
	user32               = windows.NewLazySystemDLL("user32.dll")
	procAllocConsole     = kernel32.NewProc("AllocConsole")
	procGetConsoleWindow = kernel32.NewProc("GetConsoleWindow")
	procShowWindow       = user32.NewProc("ShowWindow")
)

// ensureConsole gives steward a console of its own when it has none, as
// under the Service Control Manager, and hides its window. Children
// inherit it, and CTRL_BREAK_EVENT, which reaches only processes attached
// to the sender's console, can then stop them gracefully. It is best
// effort: without a console a stop still works, by killing the job once
// the stop signal has failed.
func ensureConsole() {
	if r, _, _ := procAllocConsole.Call(); r == 0 {
		return // there is a console already, or none can be had
	}
	if hwnd, _, _ := procGetConsoleWindow.Call(); hwnd != 0 {
		procShowWindow.Call(hwnd, windows.SW_HIDE)
	}
}
