package sqlplan

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/sqlplan/dialect"
)

// localUse is one local file or directory the planned program touches: a
// table's connector.LocalPath, or the SQL file itself.
type localUse struct {
	table *table // nil for the SQL file
	name  string // table name, or "" for the SQL file
	sink  bool   // written (sink) rather than read
	loc   connector.LocalPath
	// resolved is loc.Path made absolute and clean, with symbolic links
	// followed as far as they exist (a sink's file may not exist yet, but
	// its directory may be a link).
	resolved string
	info     os.FileInfo // nil if nothing exists there yet
}

// checkLocalPaths refuses a program whose sinks would destroy data the
// pipeline depends on: a sink writing a file (or tree) that a source of the
// same pipeline reads, two sink tables writing one file (their rows would
// interleave and overwrite each other differently on every run), or a sink
// overwriting the SQL file being run. Several INSERTs into ONE sink table
// are fine: they share one sink node.
//
// It compares the program's nodes, so only tables the pipeline really reads
// or writes count; file is the SQL file's name ("<stdin>" or a name that is
// not a file on disk is not compared).
func (p *planner) checkLocalPaths(file string, prog *program.Program) error {
	var uses []*localUse
	for _, n := range prog.Nodes {
		desc, sink := n.Source, false
		if n.Op == program.OpSink {
			desc, sink = n.Sink, true
		}
		if desc == nil {
			continue
		}
		c, ok := connector.Lookup(desc.Connector)
		if !ok || c.LocalPaths == nil {
			continue
		}
		t := p.tables[strings.ToLower(desc.Name)]
		if t != nil && t.desc != desc {
			t = nil // a bare SELECT's default sink, not the user's table
		}
		for _, loc := range c.LocalPaths(desc.Options) {
			if loc.Path == "" {
				continue
			}
			uses = append(uses, resolveUse(&localUse{table: t, name: desc.Name, sink: sink, loc: loc}))
		}
	}
	if file != "" && file != "<stdin>" {
		if st, err := os.Stat(file); err == nil && st.Mode().IsRegular() {
			uses = append(uses, resolveUse(&localUse{loc: connector.LocalPath{Path: file}}))
		}
	}
	for i, a := range uses {
		for _, b := range uses[:i] {
			if !a.sink && !b.sink || !overlaps(a, b) {
				continue
			}
			// Report at the later sink's CREATE TABLE (uses are in program
			// order, the SQL file last).
			at := a
			other := b
			if !a.sink || a.table == nil && b.sink {
				at, other = b, a
			}
			return at.errorf(file, "%s", conflict(at, other))
		}
	}
	return nil
}

func resolveUse(u *localUse) *localUse {
	abs, err := filepath.Abs(u.loc.Path)
	if err != nil {
		abs = filepath.Clean(u.loc.Path)
	}
	u.resolved = abs
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		u.resolved = r
	} else if dir, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		u.resolved = filepath.Join(dir, filepath.Base(abs))
	}
	if st, err := os.Stat(u.resolved); err == nil {
		u.info = st
	}
	return u
}

// overlaps reports whether a and b name the same file, or one lies in the
// other's tree.
func overlaps(a, b *localUse) bool {
	if a.resolved == b.resolved {
		return true
	}
	if a.info != nil && b.info != nil && os.SameFile(a.info, b.info) {
		return true
	}
	return a.loc.Tree && within(b.resolved, a.resolved) || b.loc.Tree && within(a.resolved, b.resolved)
}

func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// conflict says why at (a sink) cannot write where other is.
func conflict(at, other *localUse) string {
	where := "'" + at.loc.Path + "'"
	if other.loc.Path != at.loc.Path {
		where += " (the same file as '" + other.loc.Path + "')"
		if at.loc.Tree || other.loc.Tree {
			where = "'" + at.loc.Path + "' (which overlaps '" + other.loc.Path + "')"
		}
	}
	switch {
	case other.name == "":
		return fmt.Sprintf("sink table '%s' would overwrite the SQL file being run: its path %s is that file", at.name, where)
	case !other.sink:
		return fmt.Sprintf("sink table '%s' would overwrite the input of source table '%s': its path %s is what '%s' reads; write the output to another path", at.name, other.name, where, other.name)
	}
	return fmt.Sprintf("sink tables '%s' and '%s' both write path %s; give each its own path, or INSERT every query INTO one of them", other.name, at.name, where)
}

// errorf reports at the table's CREATE TABLE when there is one.
func (u *localUse) errorf(file, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if u.table == nil || u.table.def == nil {
		return &dialect.Error{File: file, Pos: dialect.Pos{Line: 1, Col: 1}, Msg: msg}
	}
	return tableError(u.table, msg)
}
