package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// Size is an amount of memory: Bytes, or Percent of the memory available
// to the process (the machine's, or its cgroup's if that is less).
// Exactly one of the two is nonzero in a parsed Size.
type Size struct {
	Bytes   int64
	Percent float64
}

// String formats s as ParseSize reads it.
func (s Size) String() string {
	if s.Percent != 0 {
		return strconv.FormatFloat(s.Percent, 'g', -1, 64) + "%"
	}
	return strconv.FormatInt(s.Bytes, 10) + "B"
}

// Resolve returns the size in bytes, taking a percentage of total.
func (s Size) Resolve(total uint64) int64 {
	if s.Percent != 0 {
		return int64(float64(total) * s.Percent / 100)
	}
	return s.Bytes
}

var units = []struct {
	suffix string
	mult   int64
}{
	// Two-letter suffixes before the letters they end with ("kb" before "b").
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40},
	{"b", 1},
}

// ParseSize reads a size: a number of bytes with an optional unit (B; KiB,
// MiB, GiB, TiB and their one-letter forms K, M, G, T are powers of 1024;
// KB, MB, GB, TB are powers of 1000; case does not matter), or a
// percentage in (0, 100] of the memory available to the process ("75%").
func ParseSize(text string) (Size, error) {
	t := strings.ToLower(strings.TrimSpace(text))
	if p, ok := strings.CutSuffix(t, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || f <= 0 || f > 100 {
			return Size{}, fmt.Errorf("percentage %q must be a number in (0, 100]", text)
		}
		return Size{Percent: f}, nil
	}
	mult := int64(1)
	for _, u := range units {
		if n, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(f) || f <= 0 {
		return Size{}, fmt.Errorf("size %q must be a positive number of bytes with an optional unit (B, KiB, MiB, GiB, TiB, KB, MB, GB, TB) or a percentage (\"75%%\")", text)
	}
	b := f * float64(mult)
	if b >= math.MaxInt64 {
		return Size{}, fmt.Errorf("size %q is too large", text)
	}
	if b < 1 {
		return Size{}, fmt.Errorf("size %q is less than a byte", text)
	}
	return Size{Bytes: int64(b)}, nil
}

// Where MachineMemory looks: the cgroup v2 limit, the cgroup v1 limit and
// the kernel's total (variables so tests can point them elsewhere).
var (
	cgroupV2Max   = "/sys/fs/cgroup/memory.max"
	cgroupV1Limit = "/sys/fs/cgroup/memory/memory.limit_in_bytes"
	procMeminfo   = "/proc/meminfo"
)

// MachineMemory returns the memory available to this process: the
// machine's total (/proc/meminfo) or its cgroup's limit (v2 memory.max,
// else v1 memory.limit_in_bytes, as mounted in this process's namespace),
// whichever is less. It fails where /proc/meminfo cannot be read (not
// Linux).
func MachineMemory() (uint64, error) {
	total, err := memTotal(procMeminfo)
	if err != nil {
		return 0, err
	}
	for _, path := range []string{cgroupV2Max, cgroupV1Limit} {
		if lim, ok := cgroupLimit(path); ok {
			total = min(total, lim)
			break
		}
	}
	return total, nil
}

func memTotal(path string) (uint64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("machine memory: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("machine memory: %s: bad MemTotal %q", path, f[1])
			}
			return kb * 1024, nil
		}
	}
	return 0, errors.New("machine memory: " + path + " has no MemTotal")
}

// cgroupLimit reads a cgroup memory limit; ok is false when there is no
// file or no limit ("max"; v1 spells none as a huge number, which min
// with the machine's total absorbs).
func cgroupLimit(path string) (uint64, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}
