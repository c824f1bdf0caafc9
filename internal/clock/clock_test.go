package clock

import (
	"testing"
	"time"
)

func TestSystem(t *testing.T) {
	var c Clock = System{}
	before := time.Now()
	if now := c.Now(); now.Before(before) {
		t.Errorf("Now() = %v, before %v", now, before)
	}
	tm := c.NewTimer(time.Millisecond)
	select {
	case at := <-tm.C():
		if at.Before(before) {
			t.Errorf("fired at %v, before %v", at, before)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a 1 ms timer did not fire within 10 s")
	}
	if tm.Stop() {
		t.Error("Stop of a fired timer reported that it stopped it")
	}
	if !c.NewTimer(time.Hour).Stop() {
		t.Error("Stop of a pending timer reported that it did not stop it")
	}
}
