package main

import (
	"runtime/debug"

	"github.com/arroyogo/arroyo/controlplane/config"
)

// gcSettings is what the process tells the garbage collector; a setting
// left false is left as the Go runtime has it.
type gcSettings struct {
	setLimit    bool
	memoryLimit int64 // bytes
	setPercent  bool
	gcPercent   int
}

// gcSettingsFor decides the collector's settings from the [worker]
// configuration. GOGC and GOMEMLIMIT, when set, win over the configuration
// (the Go runtime has applied them already, and whoever set them meant
// it); a percentage limit is taken of machine() (the machine's or cgroup's
// memory), and is left unset where that cannot be read.
func gcSettingsFor(w config.Worker, getenv func(string) string, machine func() (uint64, error)) gcSettings {
	var s gcSettings
	if getenv("GOGC") == "" {
		s.setPercent, s.gcPercent = true, w.GCPercent
	}
	if getenv("GOMEMLIMIT") == "" {
		if w.MemoryLimit.Percent == 0 {
			s.setLimit, s.memoryLimit = w.MemoryLimit.Bytes > 0, w.MemoryLimit.Bytes
		} else if total, err := machine(); err == nil {
			s.setLimit, s.memoryLimit = true, w.MemoryLimit.Resolve(total)
		}
	}
	return s
}

func (s gcSettings) apply() {
	if s.setLimit {
		debug.SetMemoryLimit(s.memoryLimit)
	}
	if s.setPercent {
		debug.SetGCPercent(s.gcPercent)
	}
}
