//go:build unix

package classify

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the CPU time the process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds the CPU time per operation since start (and, when an
// operation is one message, messages per CPU second): on a shared machine
// wall time per operation overstates the cost, CPU time much less so.
func reportCPU(b *testing.B, start time.Duration, perMessage bool) {
	if start == 0 || b.N == 0 {
		return
	}
	per := float64(cpuTime()-start) / float64(b.N)
	b.ReportMetric(per, "cpu-ns/op")
	if perMessage {
		b.ReportMetric(1e9/per, "msgs/cpu-s")
	}
}
