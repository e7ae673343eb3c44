package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Case is one parsed spec case file (cases/NAME.test). The format is in
// README.md; Parse is its only reader, so the runner, the planner's fuzz
// seeds and any other user agree on it.
type Case struct {
	Name string // file name without .test
	Path string // as given to ParseFile

	PK           []string // "-- pk:": outputs are Debezium changelogs keyed by these columns
	Parallelism  []int    // "-- parallelism:"; default 1 and 3, always includes both
	LooseNumbers bool     // "-- loose-numbers": numbers compare by value, 1 equals 1.0
	// CheckpointRestore is "-- checkpoint-restore: M": the runner also
	// checkpoints a run mid-stream, kills it and restores the checkpoint at
	// parallelism M (0: not asked).
	CheckpointRestore int
	// UDFs are the "-- udf: PATH" directives (repeatable): UDF modules,
	// relative to the repository root, the case's pipeline loads (a Go
	// package directory, a .wat, a .c or a .wasm file; spec/udf_test.go).
	UDFs []string

	Inputs []Input

	// SQL is the text of the sql section; SQLLine is the file line of its
	// first line, so a runner can pad the text and the planner's positions
	// name lines of the case file.
	SQL     string
	SQLLine int

	Outputs []Output
	Error   string // "-- error:": planning or running must fail with an error containing it
	// LateRows is the number of input rows after a "-- late" step: the
	// job's late_rows metric (summed over its operators) must equal it.
	LateRows int
}

// Input is one "-- input: NAME" section: inline lines or a file under
// inputs/. The SQL refers to it as $input.NAME.
type Input struct {
	Name string
	File string // "file=": relative to the inputs directory; empty for inline data
	Data []byte // inline data, one line per row, each ending in "\n"
	// Scripted: the inline data has steps (-- watermark: TS, -- idle,
	// -- late) between its rows; a table reads it with connector =
	// 'spec_script', which carries them out.
	Scripted bool
	Line     int // file line of the section header
}

// Output is one "-- output" (referred to as $output) or "-- output: NAME"
// ($output.NAME) section: the expected rows, one JSON object per line.
type Output struct {
	Name string
	Rows []ExpectedRow
	Line int // file line of the section header
	// BodyStart and BodyEnd are the file lines (1-based, end exclusive) of
	// the section's body, which -rewrite replaces.
	BodyStart, BodyEnd int
}

// ExpectedRow is one line of an output section.
type ExpectedRow struct {
	Text string
	Line int
}

// DefaultParallelism is what every case runs at; "-- parallelism:" can add
// to it but not remove from it.
var DefaultParallelism = []int{1, 3}

// Directives and input steps that need the runtime's watermark protocol
// (scripted watermarks, idleness), which the runner cannot drive yet. The
// parser rejects them so that no case can claim a property the runner does
// not check.
var reserved = map[string]string{
	"idle":      "scripted source idleness",
	"watermark": "scripted watermarks",
	"late":      "late rows",
}

var (
	directiveRe = regexp.MustCompile(`^-- ([a-z][a-z0-9-]*)(?::\s*(.*?))?\s*$`)
	identRe     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// RefRe matches the placeholders of the sql section: $input.NAME,
	// $output and $output.NAME.
	RefRe = regexp.MustCompile(`\$(input|output)\b(?:\.([A-Za-z_][A-Za-z0-9_]*))?`)
)

// ParseFile reads and parses one case file.
func ParseFile(path string) (*Case, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, string(data))
}

// Parse parses the text of a case file; path names it in errors.
func Parse(path, text string) (*Case, error) {
	c := &Case{Path: path, Name: strings.TrimSuffix(filepath.Base(path), ".test")}
	p := parser{c: c, path: path}
	if err := p.parse(text); err != nil {
		return nil, err
	}
	return c, nil
}

type parser struct {
	c    *Case
	path string
}

func (p *parser) errf(line int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", p.path, line, fmt.Sprintf(format, args...))
}

// section kinds
const (
	secHeader = iota
	secInput
	secSQL
	secOutput
	secError
)

// header reports whether line starts a section, and which.
func header(line string) (kind int, arg string, ok bool) {
	switch {
	case line == "-- sql":
		return secSQL, "", true
	case line == "-- output":
		return secOutput, "", true
	case strings.HasPrefix(line, "-- output:"):
		return secOutput, strings.TrimSpace(strings.TrimPrefix(line, "-- output:")), true
	case strings.HasPrefix(line, "-- input:"):
		return secInput, strings.TrimSpace(strings.TrimPrefix(line, "-- input:")), true
	case strings.HasPrefix(line, "-- error:"):
		return secError, strings.TrimSpace(strings.TrimPrefix(line, "-- error:")), true
	}
	return 0, "", false
}

func (p *parser) parse(text string) error {
	c := p.c
	lines := strings.Split(text, "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1] // the final newline
	}
	kind := secHeader
	var body []string // lines of the current input or sql section
	var bodyStart int
	var in *Input
	var out *Output
	seenSQL, seenParallelism := false, false
	finish := func(end int) error {
		switch kind {
		case secInput:
			trimmed := trimBlank(body)
			if in.File != "" && len(trimmed) > 0 {
				return p.errf(in.Line, "input %q has file= and inline rows; use one", in.Name)
			}
			late := false
			for _, l := range trimmed {
				in.Data = append(in.Data, l...)
				in.Data = append(in.Data, '\n')
				switch t := strings.TrimSpace(l); {
				case strings.HasPrefix(t, "-- "):
					in.Scripted, late = true, t == "-- late"
				case late && t != "":
					c.LateRows++
				}
			}
			if in.File == "" && len(trimmed) == 0 {
				return p.errf(in.Line, "input %q has no rows and no file=", in.Name)
			}
		case secSQL:
			c.SQL = strings.Join(body, "\n") + "\n"
			c.SQLLine = bodyStart
		case secOutput:
			out.BodyEnd = end
		}
		return nil
	}
	for i, line := range lines {
		n := i + 1
		k, arg, isHeader := header(line)
		if isHeader {
			if err := finish(n); err != nil {
				return err
			}
			if kind == secError {
				return p.errf(n, "nothing may follow the error section")
			}
			body, bodyStart, in, out = nil, n+1, nil, nil
			switch k {
			case secInput:
				if seenSQL {
					return p.errf(n, "input sections go before the sql section")
				}
				name, file, err := p.inputHeader(n, arg)
				if err != nil {
					return err
				}
				c.Inputs = append(c.Inputs, Input{Name: name, File: file, Line: n})
				in = &c.Inputs[len(c.Inputs)-1]
			case secSQL:
				if seenSQL {
					return p.errf(n, "second sql section")
				}
				seenSQL = true
			case secOutput, secError:
				if !seenSQL {
					return p.errf(n, "output and error sections go after the sql section")
				}
				if k == secError {
					if arg == "" {
						return p.errf(n, "empty error substring")
					}
					if len(c.Outputs) > 0 {
						return p.errf(n, "a case expects rows or an error, not both")
					}
					c.Error = arg
					break
				}
				if arg != "" && !identRe.MatchString(arg) {
					return p.errf(n, "bad output name %q", arg)
				}
				for _, o := range c.Outputs {
					if o.Name == arg {
						return p.errf(n, "second output section named %q", arg)
					}
				}
				c.Outputs = append(c.Outputs, Output{Name: arg, Line: n, BodyStart: n + 1})
				out = &c.Outputs[len(c.Outputs)-1]
			}
			kind = k
			continue
		}
		trimmed := strings.TrimSpace(line)
		switch kind {
		case secHeader:
			if trimmed == "" {
				continue
			}
			if !strings.HasPrefix(trimmed, "--") {
				return p.errf(n, "text before the first section (directives and prose are -- lines)")
			}
			m := directiveRe.FindStringSubmatch(trimmed)
			if m == nil {
				continue // prose
			}
			if err := p.directive(n, m[1], m[2], &seenParallelism); err != nil {
				return err
			}
		case secInput:
			if strings.HasPrefix(trimmed, "-- ") {
				if err := p.inputStep(n, trimmed); err != nil {
					return err
				}
			}
			body = append(body, line)
		case secSQL:
			body = append(body, line)
		case secOutput:
			if trimmed == "" {
				continue
			}
			if strings.HasPrefix(trimmed, "--") {
				return p.errf(n, "unexpected %q in an output section (one JSON object per line)", trimmed)
			}
			out.Rows = append(out.Rows, ExpectedRow{Text: trimmed, Line: n})
		case secError:
			if trimmed != "" {
				return p.errf(n, "the error section has no body (the substring goes on the -- error: line)")
			}
		}
	}
	if err := finish(len(lines) + 1); err != nil {
		return err
	}
	if !seenSQL {
		return p.errf(1, "no -- sql section")
	}
	if c.Error == "" && len(c.Outputs) == 0 {
		return p.errf(len(lines), "no -- output or -- error section")
	}
	if c.Error != "" && c.PK != nil {
		return p.errf(1, "pk and error do not combine (an error case has no output)")
	}
	if c.Error != "" && c.CheckpointRestore != 0 {
		return p.errf(1, "checkpoint-restore and error do not combine (an error case has no output to compare)")
	}
	if !seenParallelism {
		c.Parallelism = append([]int(nil), DefaultParallelism...)
	}
	return p.checkRefs()
}

// directive applies one header directive.
func (p *parser) directive(n int, name, arg string, seenParallelism *bool) error {
	c := p.c
	if what, ok := reserved[name]; ok {
		return p.errf(n, "%q (%s) is a step of an input: put it between the rows of an inline input section", name, what)
	}
	switch name {
	case "pk":
		if c.PK != nil {
			return p.errf(n, "second pk directive")
		}
		for _, col := range strings.Split(arg, ",") {
			col = strings.TrimSpace(col)
			if col == "" {
				return p.errf(n, "pk: empty column name in %q", arg)
			}
			c.PK = append(c.PK, col)
		}
	case "parallelism":
		if *seenParallelism {
			return p.errf(n, "second parallelism directive")
		}
		*seenParallelism = true
		seen := map[int]bool{}
		for _, f := range strings.Split(arg, ",") {
			v, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || v < 1 {
				return p.errf(n, "parallelism: %q is not a positive integer", strings.TrimSpace(f))
			}
			if !seen[v] {
				seen[v] = true
				c.Parallelism = append(c.Parallelism, v)
			}
		}
		for _, d := range DefaultParallelism {
			if !seen[d] {
				return p.errf(n, "parallelism: %q leaves out %d; every case runs at %v (the directive can only add)", arg, d, DefaultParallelism)
			}
		}
		sort.Ints(c.Parallelism)
	case "checkpoint-restore":
		if c.CheckpointRestore != 0 {
			return p.errf(n, "second checkpoint-restore directive")
		}
		v, err := strconv.Atoi(arg)
		if err != nil || v < 1 {
			return p.errf(n, "checkpoint-restore: %q is not a positive integer (the parallelism to restore at)", arg)
		}
		c.CheckpointRestore = v
	case "udf":
		if arg == "" {
			return p.errf(n, "udf: want a module path, e.g. '-- udf: examples/udfs/go/scalars'")
		}
		c.UDFs = append(c.UDFs, arg)
	case "loose-numbers":
		if arg != "" {
			return p.errf(n, "loose-numbers takes no value")
		}
		c.LooseNumbers = true
	default:
		return p.errf(n, "unknown directive %q (known: pk, parallelism, checkpoint-restore, loose-numbers, udf; prose lines must not look like '-- word:')", name)
	}
	return nil
}

func (p *parser) inputHeader(n int, arg string) (name, file string, err error) {
	fields := strings.Fields(arg)
	if len(fields) == 0 || !identRe.MatchString(fields[0]) {
		return "", "", p.errf(n, "input needs a name (letters, digits, _): %q", arg)
	}
	name = fields[0]
	for _, in := range p.c.Inputs {
		if in.Name == name {
			return "", "", p.errf(n, "second input named %q", name)
		}
	}
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k != "file" || v == "" {
			return "", "", p.errf(n, "input %q: unknown attribute %q (known: file=PATH)", name, f)
		}
		if filepath.IsAbs(v) || strings.HasPrefix(filepath.Clean(v), "..") {
			return "", "", p.errf(n, "input %q: file %q must be relative to the inputs directory", name, v)
		}
		file = v
	}
	return name, file, nil
}

// inputStep checks a "-- " line inside an input section: a scripted step
// between rows, which the spec_script source carries out (script_test.go).
func (p *parser) inputStep(n int, line string) error {
	m := directiveRe.FindStringSubmatch(line)
	if m != nil {
		switch m[1] {
		case "watermark":
			if _, err := ParseScriptTime(m[2]); err != nil {
				return p.errf(n, "watermark: %v", err)
			}
			return nil
		case "idle", "late":
			if m[2] != "" {
				return p.errf(n, "%s takes no value (got %q)", m[1], m[2])
			}
			return nil
		}
	}
	return p.errf(n, "unexpected %q in an input section (rows are data lines, steps are -- watermark: TIMESTAMP, -- idle and -- late; use file= for data that starts with --)", line)
}

// ParseScriptTime parses a scripted watermark: an RFC 3339 timestamp.
func ParseScriptTime(s string) (int64, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not an RFC 3339 timestamp such as 2023-01-01T00:00:10Z", s)
	}
	return t.UnixNano(), nil
}

// checkRefs checks that the SQL names exactly the declared inputs and
// outputs.
func (p *parser) checkRefs() error {
	c := p.c
	usedIn := map[string]bool{}
	usedOut := map[string]bool{}
	for _, m := range RefRe.FindAllStringSubmatch(c.SQL, -1) {
		switch m[1] {
		case "input":
			if m[2] == "" {
				return p.errf(c.SQLLine, "$input needs a name: $input.NAME")
			}
			if !c.hasInput(m[2]) {
				return p.errf(c.SQLLine, "$input.%s: no input section named %q", m[2], m[2])
			}
			usedIn[m[2]] = true
		case "output":
			usedOut[m[2]] = true
		}
	}
	for _, in := range c.Inputs {
		if !usedIn[in.Name] {
			return p.errf(in.Line, "input %q is not used by the sql ($input.%s)", in.Name, in.Name)
		}
	}
	for _, o := range c.Outputs {
		if !usedOut[o.Name] {
			return p.errf(o.Line, "output %q is not written by the sql (%s)", o.Name, outputRef(o.Name))
		}
	}
	if c.Error == "" {
		for name := range usedOut {
			if !c.hasOutput(name) {
				return p.errf(c.SQLLine, "%s has no output section", outputRef(name))
			}
		}
	}
	return nil
}

func outputRef(name string) string {
	if name == "" {
		return "$output"
	}
	return "$output." + name
}

func (c *Case) hasInput(name string) bool {
	for _, in := range c.Inputs {
		if in.Name == name {
			return true
		}
	}
	return false
}

func (c *Case) hasOutput(name string) bool {
	for _, o := range c.Outputs {
		if o.Name == name {
			return true
		}
	}
	return false
}

// Expand returns the SQL with its placeholders replaced by paths, padded
// with blank lines so that line numbers in errors are lines of the case
// file. Outputs the case does not declare (an error case's sinks) map to
// output(name) all the same.
func (c *Case) Expand(input, output func(name string) string) string {
	sql := RefRe.ReplaceAllStringFunc(c.SQL, func(ref string) string {
		m := RefRe.FindStringSubmatch(ref)
		if m[1] == "input" {
			return input(m[2])
		}
		return output(m[2])
	})
	return strings.Repeat("\n", c.SQLLine-1) + sql
}

func trimBlank(lines []string) []string {
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}
