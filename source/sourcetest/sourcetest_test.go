package sourcetest_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/appealkit/appealkit/source/sourcetest"
)

var fakeFeatures = sourcetest.Features{Checkpointed: true, Malformed: true}

// A correct adapter passes.
func TestSuitePassesCorrectSource(t *testing.T) {
	sourcetest.Run(t, fakeFeatures, fakeConstructor(""))
}

// A finite adapter (one that ends when its input does) passes too.
func TestSuitePassesFiniteSource(t *testing.T) {
	f := fakeFeatures
	f.Finite = true
	sourcetest.Run(t, f, finiteFakeConstructor())
}

// Each broken adapter must make the named check fail: a suite that cannot
// fail proves nothing.
func TestSuiteCatchesBrokenSources(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite in subprocesses")
	}
	for broken, failing := range map[string]string{
		"lose":       "SinkErrorHoldsCheckpoint",
		"noresume":   "RestartDoesNotRedeliver",
		"leak":       "DeliversEachItemOnce",
		"noguard":    "ConcurrentRun",
		"swallow":    "MalformedIsAnError",
		"slowcancel": "DeliversEachItemOnce",
	} {
		t.Run(broken, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenSource$", "-test.v")
			cmd.Env = append(os.Environ(), "SOURCETEST_BROKEN="+broken)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a source that is broken (%s):\n%s", broken, out)
			}
			if want := "--- FAIL: TestBrokenSource/" + failing; !strings.Contains(string(out), want) {
				t.Fatalf("want %q in the output:\n%s", want, out)
			}
		})
	}
}

// TestBrokenSource runs only as the subprocess of TestSuiteCatchesBrokenSources.
func TestBrokenSource(t *testing.T) {
	broken := os.Getenv("SOURCETEST_BROKEN")
	if broken == "" {
		t.Skip("run by TestSuiteCatchesBrokenSources")
	}
	f := fakeFeatures
	f.Timeout = 2 * time.Second
	f.CancelWithin = time.Second
	sourcetest.Run(t, f, fakeConstructor(broken))
}
