package osservice

import (
	"strings"
	"testing"
)

// CheckInstall asks the Service Control Manager: a service that is not
// there fails with the install command; one that is (RpcSs) is read, and
// its command line is not steward's.
func TestCheckInstallSCM(t *testing.T) {
	spec := testSpec()
	spec.Name = "steward-doctor-test-none"
	got := CheckInstall(spec, "")
	if statuses(got) != "fail" || !strings.Contains(text(got), "no Windows service steward-doctor-test-none") {
		t.Errorf("missing service: %+v", got)
	}
	spec.Name = rpcss
	got = CheckInstall(spec, "")
	if len(got) != 3 || got[0].Status != FindingOK || got[2].Status != FindingFail {
		t.Errorf("RpcSs: %+v", got)
	}
}
