package main

import (
	"runtime/debug"
	"strings"
)

// version describes this build for `arroyo --version`: the module version
// when built from a tagged module (go install ...@v1.2.3), else the VCS
// revision the go command stamped (with "+dirty" for uncommitted changes),
// and the Go version.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown (no build information)"
	}
	return versionOf(bi)
}

func versionOf(bi *debug.BuildInfo) string {
	v := bi.Main.Version
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	var parts []string
	if v != "" && v != "(devel)" {
		parts = append(parts, v)
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if modified == "true" {
			rev += "+dirty"
		}
		parts = append(parts, "revision "+rev)
	}
	if len(parts) == 0 {
		parts = append(parts, "(devel)")
	}
	return strings.Join(parts, ", ") + ", " + bi.GoVersion
}
