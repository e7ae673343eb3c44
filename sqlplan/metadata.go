package sqlplan

import (
	"sort"
	"strings"

	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/sqlplan/dialect"
)

// MetadataOption is the connector option through which the planner hands
// a table's METADATA FROM columns to its connector, as
// "column=field,column=field". A connector that supports metadata columns
// declares it, with the fields it can fill as the option's Enum.
const MetadataOption = "metadata_columns"

// metadataColumns checks the METADATA FROM columns of ct and records them
// in the connector options connOpts. c is nil for a memory table.
func metadataColumns(ct *dialect.CreateTable, c *connector.Connector, connOpts map[string]string) error {
	var pairs []string
	for _, col := range ct.Columns {
		if col.Metadata == "" {
			continue
		}
		errAt := func(msg string) error { return &dialect.Error{File: ct.Stmt.File(), Pos: col.MetadataPos, Msg: msg} }
		var spec *connector.Option
		if c != nil {
			for i := range c.Options {
				if c.Options[i].Name == MetadataOption {
					spec = &c.Options[i]
				}
			}
		}
		if spec == nil {
			name := "a memory table"
			if c != nil {
				name = "connector '" + c.Name + "'"
			}
			return errAt(name + " has no metadata columns (METADATA FROM is for connectors such as kafka)")
		}
		if len(spec.Enum) > 0 && !contains(spec.Enum, col.Metadata) {
			allowed := append([]string(nil), spec.Enum...)
			sort.Strings(allowed)
			return errAt("unknown metadata field '" + col.Metadata + "' for connector '" + c.Name + "' (one of " + quoteList(allowed) + ")")
		}
		pairs = append(pairs, col.Name+"="+col.Metadata)
	}
	if len(pairs) > 0 {
		if _, given := connOpts[MetadataOption]; given {
			return &dialect.Error{File: ct.Stmt.File(), Pos: ct.NamePos, Msg: "give metadata columns with METADATA FROM, not the '" + MetadataOption + "' option"}
		}
		connOpts[MetadataOption] = strings.Join(pairs, ",")
	}
	return nil
}

func contains(vs []string, v string) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}
