package main

import (
	"errors"
	"testing"

	"github.com/arroyogo/arroyo/controlplane/config"
)

// The configuration sets the collector unless GOGC or GOMEMLIMIT say
// otherwise; a percentage is of the machine's memory.
func TestGCSettings(t *testing.T) {
	machine := func() (uint64, error) { return 8 << 30, nil }
	noMachine := func() (uint64, error) { return 0, errors.New("no /proc") }
	def := config.Default().Worker
	for _, tc := range []struct {
		name    string
		w       config.Worker
		env     map[string]string
		machine func() (uint64, error)
		want    gcSettings
	}{
		{"default", def, nil, machine, gcSettings{setLimit: true, memoryLimit: 6 << 30, setPercent: true, gcPercent: config.DefaultGCPercent}},
		{"bytes", config.Worker{MemoryLimit: config.Size{Bytes: 1 << 30}, GCPercent: 100}, nil, machine,
			gcSettings{setLimit: true, memoryLimit: 1 << 30, setPercent: true, gcPercent: 100}},
		{"GOGC wins", def, map[string]string{"GOGC": "50"}, machine, gcSettings{setLimit: true, memoryLimit: 6 << 30}},
		{"GOMEMLIMIT wins", def, map[string]string{"GOMEMLIMIT": "1GiB"}, machine, gcSettings{setPercent: true, gcPercent: config.DefaultGCPercent}},
		{"both env", def, map[string]string{"GOGC": "off", "GOMEMLIMIT": "1GiB"}, machine, gcSettings{}},
		{"percent, memory unknown", def, nil, noMachine, gcSettings{setPercent: true, gcPercent: config.DefaultGCPercent}},
		{"gc off", config.Worker{MemoryLimit: config.Size{Percent: 50}, GCPercent: -1}, nil, machine,
			gcSettings{setLimit: true, memoryLimit: 4 << 30, setPercent: true, gcPercent: -1}},
	} {
		got := gcSettingsFor(tc.w, func(k string) string { return tc.env[k] }, tc.machine)
		if got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
