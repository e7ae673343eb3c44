package connector

import (
	"context"
	"fmt"

	"github.com/arroyogo/arroyo/engine/program"
	"github.com/arroyogo/arroyo/engine/types"
)

// Two optional capabilities a connector that talks to an external system
// registers beside itself (from its package's init, after Register), so
// the planner and the control plane stay free of network code: the hook
// is the connector's.
//
//   - A SchemaResolver gives the columns of a source table declared
//     without any (Kafka with a Schema Registry: the subject's latest
//     schema at table creation).
//   - A Preflight checks, after planning and before the pipeline starts,
//     what a person must fix (brokers unreachable with the configured
//     authentication, a missing source topic or registry subject) without
//     side effects (seed 004): nothing created, nothing written.

// SchemaResolver returns the columns of source table t, declared without
// any, from an external system. t is validated (options with defaults, the
// format and its options) and has no Schema yet; the resolver may fix
// format options its decoders need to match the columns it returns (the
// Avro reader schema in 'avro.schema'), writing them into t.Format.Options.
// It must bound its own requests (ctx may have no deadline) and its errors
// name the table and what to fix, never a secret.
type SchemaResolver func(ctx context.Context, t *Table) (*types.Schema, error)

// Preflight checks table t, in role "source" or "sink", against its
// external system once a pipeline is planned and before it starts. It
// must have no side effects (a sink's missing topic is created when the
// sink starts, not here) and return promptly when ctx is done. Errors name
// the table, the topic or subject, and the option to fix.
type Preflight func(ctx context.Context, t *Table, role string) error

// Roles a Preflight is called with.
const (
	RoleSource = "source"
	RoleSink   = "sink"
)

var (
	resolvers  = map[string]SchemaResolver{}
	preflights = map[string]Preflight{}
)

// RegisterSchemaResolver registers the schema resolver of the connector
// called name.
func RegisterSchemaResolver(name string, r SchemaResolver) {
	mu.Lock()
	defer mu.Unlock()
	if _, ok := resolvers[name]; ok {
		panic(fmt.Sprintf("schema resolver for connector %q registered twice", name))
	}
	resolvers[name] = r
}

// LookupSchemaResolver returns the schema resolver of a connector.
func LookupSchemaResolver(name string) (SchemaResolver, bool) {
	mu.RLock()
	defer mu.RUnlock()
	r, ok := resolvers[name]
	return r, ok
}

// RegisterPreflight registers the plan-time check of the connector called
// name.
func RegisterPreflight(name string, p Preflight) {
	mu.Lock()
	defer mu.Unlock()
	if _, ok := preflights[name]; ok {
		panic(fmt.Sprintf("preflight for connector %q registered twice", name))
	}
	preflights[name] = p
}

// LookupPreflight returns the plan-time check of a connector.
func LookupPreflight(name string) (Preflight, bool) {
	mu.RLock()
	defer mu.RUnlock()
	p, ok := preflights[name]
	return p, ok
}

// PreflightProgram runs the registered Preflight of every source and sink
// table of a planned program, in node order, and returns the first error.
// `arroyo run` and the API's pipeline creation call it after planning and
// before starting; a table read or written by several nodes is checked
// once per role.
func PreflightProgram(ctx context.Context, prog *program.Program) error {
	seen := map[string]bool{}
	for _, n := range prog.Nodes {
		var t *Table
		role := ""
		switch {
		case n.Op == program.OpSource && n.Source != nil:
			t, role = n.Source, RoleSource
		case n.Op == program.OpSink && n.Sink != nil:
			t, role = n.Sink, RoleSink
		default:
			continue
		}
		key := role + "\x00" + t.Name
		if seen[key] {
			continue
		}
		seen[key] = true
		check, ok := LookupPreflight(t.Connector)
		if !ok {
			continue
		}
		if err := check(ctx, t, role); err != nil {
			return err
		}
	}
	return nil
}
