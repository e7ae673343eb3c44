package wasm

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/arroyogo/arroyo/engine/types"
)

// ABIVersion is the version of the guest ABI this host speaks
// (docs/udf-abi.md). A module exports arroyo_udf_abi returning the version
// it was built for; any other is refused at load.
const ABIVersion = 1

// Limits on what a manifest may declare.
const (
	maxManifestBytes = 64 << 10
	maxFunctions     = 1024
	maxArgs          = 16
)

// Param is an argument or a result of a UDF: its SQL type and whether it
// may be NULL. A NULL in an argument that is not nullable is never passed
// to the guest: the row's result is NULL without a call (for an aggregate,
// the row is left out of the group's lists). A nullable argument carries
// its NULLs to the guest. A nullable result may be NULL.
type Param struct {
	Type     types.Type
	Nullable bool
}

func (p Param) String() string {
	if p.Nullable {
		return p.Type.String() + " NULL"
	}
	return p.Type.String()
}

// Signature is one function a module exports, as its manifest declares it.
type Signature struct {
	// Name is the SQL name, lower case.
	Name string
	// Aggregate marks a UDAF: each argument is a list of the group's values.
	Aggregate bool
	Args      []Param
	Result    Param
	// Index is the function's number in the manifest (0-based), the fn
	// argument of arroyo_udf_call.
	Index int
}

// String renders the signature as the manifest writes it, with canonical
// type names: "scalar double(BIGINT UNSIGNED) -> BIGINT".
func (s Signature) String() string {
	var b strings.Builder
	if s.Aggregate {
		b.WriteString("aggregate ")
	} else {
		b.WriteString("scalar ")
	}
	b.WriteString(s.Call())
	b.WriteString(" -> ")
	b.WriteString(s.Result.String())
	return b.String()
}

// Call renders the name and the argument list: "double(BIGINT UNSIGNED)".
func (s Signature) Call() string {
	var b strings.Builder
	b.WriteString(s.Name)
	b.WriteByte('(')
	for i, a := range s.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a.String())
	}
	b.WriteByte(')')
	return b.String()
}

// manifestHeader starts every manifest; the version follows it.
const manifestHeader = "arroyo-udf"

// ParseManifest parses a module's signature manifest (docs/udf-abi.md): a
// header line "arroyo-udf 1" and one line per function,
//
//	scalar double(BIGINT UNSIGNED) -> BIGINT
//	aggregate median(DOUBLE) -> DOUBLE NULL
//
// Blank lines and lines starting with '#' are ignored. Errors name the
// line.
func ParseManifest(text []byte) ([]Signature, error) {
	if len(text) > maxManifestBytes {
		return nil, fmt.Errorf("manifest is %d bytes, more than the %d allowed", len(text), maxManifestBytes)
	}
	if !utf8.Valid(text) {
		return nil, fmt.Errorf("manifest is not UTF-8 text")
	}
	var sigs []Signature
	seen := map[string]int{}
	header := false
	for i, line := range strings.Split(string(text), "\n") {
		ln := i + 1
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !header {
			f := strings.Fields(line)
			if len(f) != 2 || f[0] != manifestHeader {
				return nil, fmt.Errorf("manifest line %d: want the header %q, got %q", ln, manifestHeader+" "+strconv.Itoa(ABIVersion), line)
			}
			v, err := strconv.Atoi(f[1])
			if err != nil {
				return nil, fmt.Errorf("manifest line %d: bad version %q", ln, f[1])
			}
			if v != ABIVersion {
				return nil, fmt.Errorf("manifest version %d: this host speaks UDF ABI version %d", v, ABIVersion)
			}
			header = true
			continue
		}
		s, err := parseSignature(line)
		if err != nil {
			return nil, fmt.Errorf("manifest line %d: %w", ln, err)
		}
		if prev, ok := seen[s.Name]; ok {
			return nil, fmt.Errorf("manifest line %d: function %s is declared twice (also line %d)", ln, s.Name, prev)
		}
		seen[s.Name] = ln
		s.Index = len(sigs)
		sigs = append(sigs, s)
		if len(sigs) > maxFunctions {
			return nil, fmt.Errorf("manifest declares more than %d functions", maxFunctions)
		}
	}
	if !header {
		return nil, fmt.Errorf("manifest is empty (want the header %q)", manifestHeader+" "+strconv.Itoa(ABIVersion))
	}
	if len(sigs) == 0 {
		return nil, fmt.Errorf("manifest declares no functions")
	}
	return sigs, nil
}

func parseSignature(line string) (Signature, error) {
	var s Signature
	kind, rest, _ := strings.Cut(line, " ")
	switch kind {
	case "scalar":
	case "aggregate":
		s.Aggregate = true
	default:
		return s, fmt.Errorf("want 'scalar' or 'aggregate', got %q", kind)
	}
	open := strings.IndexByte(rest, '(')
	closing := strings.LastIndexByte(rest, ')')
	if open < 0 || closing < open {
		return s, fmt.Errorf("want NAME(TYPE, ...) -> TYPE, got %q", rest)
	}
	s.Name = strings.TrimSpace(rest[:open])
	if !validName(s.Name) {
		return s, fmt.Errorf("bad function name %q (letters, digits and '_', starting with a letter or '_', lower case)", s.Name)
	}
	if args := strings.TrimSpace(rest[open+1 : closing]); args != "" {
		for _, a := range strings.Split(args, ",") {
			p, err := parseParam(a)
			if err != nil {
				return s, fmt.Errorf("%s: argument %d: %w", s.Name, len(s.Args)+1, err)
			}
			s.Args = append(s.Args, p)
		}
	}
	if len(s.Args) > maxArgs {
		return s, fmt.Errorf("%s: %d arguments, at most %d allowed", s.Name, len(s.Args), maxArgs)
	}
	if s.Aggregate && len(s.Args) == 0 {
		return s, fmt.Errorf("%s: an aggregate takes at least one argument", s.Name)
	}
	res, ok := strings.CutPrefix(strings.TrimSpace(rest[closing+1:]), "->")
	if !ok {
		return s, fmt.Errorf("%s: want '-> TYPE' after the arguments", s.Name)
	}
	p, err := parseParam(res)
	if err != nil {
		return s, fmt.Errorf("%s: result: %w", s.Name, err)
	}
	s.Result = p
	return s, nil
}

func validName(n string) bool {
	if n == "" || len(n) > 128 {
		return false
	}
	for i, c := range n {
		switch {
		case c == '_', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// parseParam parses "BIGINT UNSIGNED NULL" and the like.
func parseParam(text string) (Param, error) {
	words := strings.Fields(strings.ToUpper(text))
	var p Param
	if n := len(words); n > 1 && words[n-1] == "NULL" {
		if words[n-2] == "NOT" {
			words = words[:n-2]
		} else {
			p.Nullable = true
			words = words[:n-1]
		}
	}
	t, ok := typeNames[strings.Join(words, " ")]
	if !ok {
		return p, fmt.Errorf("unsupported type %q (supported: %s)", strings.TrimSpace(text), supportedTypes)
	}
	p.Type = t
	return p, nil
}

var typeNames = map[string]types.Type{
	"BOOLEAN": types.BoolT, "BOOL": types.BoolT,
	"TINYINT": types.Int8T, "SMALLINT": types.Int16T, "INT": types.Int32T, "INTEGER": types.Int32T, "BIGINT": types.Int64T,
	"TINYINT UNSIGNED": types.UInt8T, "SMALLINT UNSIGNED": types.UInt16T, "INT UNSIGNED": types.UInt32T,
	"INTEGER UNSIGNED": types.UInt32T, "BIGINT UNSIGNED": types.UInt64T,
	"FLOAT": types.Float32T, "REAL": types.Float32T, "DOUBLE": types.Float64T,
	"TEXT": types.StringT, "VARCHAR": types.StringT,
	"BYTEA":     types.BytesT,
	"TIMESTAMP": types.TimestampT,
	"JSON":      types.JSONT,
}

const supportedTypes = "BOOLEAN, TINYINT, SMALLINT, INT, BIGINT (each also UNSIGNED), FLOAT, DOUBLE, TEXT, BYTEA, TIMESTAMP, JSON"

// width returns the bytes per value of a fixed-width kind in guest memory,
// 0 for bytes-like kinds.
func width(k types.Kind) int {
	switch k {
	case types.Bool, types.Int8, types.UInt8:
		return 1
	case types.Int16, types.UInt16:
		return 2
	case types.Int32, types.UInt32, types.Float32:
		return 4
	case types.Int64, types.UInt64, types.Float64, types.Timestamp:
		return 8
	}
	return 0
}
