//go:build unix

package avro

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system) of the whole process, garbage
// collector included: on a shared machine it measures our cost better than
// wall time does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
