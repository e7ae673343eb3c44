// Package kafka registers the "kafka" and "confluent" connectors, on
// franz-go.
//
// Source. A table's splits are P0 residue classes "r/P0", fixed when the
// job first starts at parallelism P0: class r owns every partition p with
// p mod P0 == r, including partitions added to the topic while the job
// runs (found by a periodic metadata refresh and read from their start).
// A class's state is a map partition -> next offset, so a restore at any
// parallelism reassigns whole classes and keeps every offset, with no
// special case. Offsets live in the checkpoint; after a checkpoint is
// complete they are also committed to the consumer group, for lag
// monitoring only. A record's event time is its Kafka timestamp.
//
// Sink. at_least_once produces with an idempotent producer and flushes at
// every checkpoint barrier. exactly_once writes one transaction per
// checkpoint epoch and subtask, each under a transactional id of its own
// (<prefix>-<hash of job and operator>-<subtask>-<sequence>), flushed at
// the barrier (PreCommit returns its producer id and epoch) and committed
// when the checkpoint is durable. A restore commits the restored
// transactions with their producer id and epoch (an EndTxn from the new
// process: no new producer, which would abort them) and fences the next
// two ids of every restored subtask, the only ones it can have opened
// since. See docs/RATIONALE.md, "Kafka exactly-once sink".
//
// It must not import other connectors, sqlplan, controlplane, udf, cmd,
// engine/ops or engine/dataflow.
package kafka

import (
	"fmt"
	"sort"
	"strings"

	"github.com/arroyogo/arroyo/engine/connector"
)

// Names of the connectors.
const (
	Name          = "kafka"
	ConfluentName = "confluent"
)

func init() {
	connector.Register(&connector.Connector{
		Name:          Name,
		Description:   "Reads from and writes to Apache Kafka topics: exactly-once sources through checkpointed offsets, at-least-once or transactional exactly-once sinks.",
		Options:       kafkaOptions(),
		NeedsFormat:   true,
		DefaultFormat: "json",
		Splits:        splits,
		NewSource:     newSource,
		NewSink:       newSink,
	})
	connector.Register(&connector.Connector{
		Name:          ConfluentName,
		Description:   "Kafka on Confluent Cloud: SASL_SSL PLAIN with an API key and secret, from a connection profile or inline.",
		Options:       confluentOptions(),
		NeedsFormat:   true,
		DefaultFormat: "json",
		Splits:        splits,
		NewSource:     newSource,
		NewSink:       newSink,
	})
}

func confluentOptions() []connector.Option {
	conn := []connector.Option{
		{Name: OptProfile, Type: connector.TypeString, Example: "my_cluster",
			Description: "Connection profile ([connection_profiles.NAME] in the config file) with bootstrap_servers, key, secret and the schema_registry.* settings; options given inline take precedence."},
		{Name: OptBootstrap, Type: connector.TypeString, Example: "pkc-p11xm.us-east-1.aws.confluent.cloud:9092", Description: "Bootstrap server of the Confluent Cloud cluster (or from the profile)."},
		{Name: OptKey, Type: connector.TypeString, Description: "Confluent Cloud API key (SASL PLAIN user); may be a {{ENV_VAR}} template."},
		{Name: OptSecret, Type: connector.TypeString, Secret: true, Description: "Confluent Cloud API secret (SASL PLAIN password); may be a {{ENV_VAR}} template."},
		{Name: OptTLSCAFile, Type: connector.TypeString, Description: "PEM CA file (default: the system's certificates)."},
		{Name: OptTLSSkipVerify, Type: connector.TypeBool, Default: "false", Description: "Do not verify the brokers' certificates. For tests only."},
	}
	return append(conn, commonOptions()...)
}

// ProfileKeys are the keys a connection profile may hold.
var ProfileKeys = []string{OptBootstrap, OptKey, OptSecret, OptRegistryURL, OptRegistryKey, OptRegistrySecret}

// SetConnectionProfiles installs the Confluent connection profiles (from
// the config file's [connection_profiles.NAME] tables). It validates their
// keys.
func SetConnectionProfiles(ps map[string]map[string]string) error {
	for name, p := range ps {
		for k := range p {
			ok := false
			for _, known := range ProfileKeys {
				ok = ok || k == known
			}
			if !ok {
				return fmt.Errorf("connection profile '%s': unknown key '%s' (known keys: %s)", name, k, strings.Join(ProfileKeys, ", "))
			}
		}
	}
	profilesMu.Lock()
	defer profilesMu.Unlock()
	profiles = map[string]map[string]string{}
	for name, p := range ps {
		c := map[string]string{}
		for k, v := range p {
			c[k] = v
		}
		profiles[name] = c
	}
	return nil
}

// applyProfile fills the options a Confluent table does not give inline
// from its connection profile. o is the table's (validated) options and is
// modified.
func applyProfile(table string, o connector.Options) error {
	name := o.String(OptProfile)
	if name != "" {
		profilesMu.RLock()
		p, ok := profiles[name]
		names := make([]string, 0, len(profiles))
		for n := range profiles {
			names = append(names, n)
		}
		profilesMu.RUnlock()
		if !ok {
			sort.Strings(names)
			known := "none is configured: add [connection_profiles." + name + "] to the config file"
			if len(names) > 0 {
				known = "known profiles: " + strings.Join(names, ", ")
			}
			return &ConfigError{Table: table, Option: OptProfile, Problem: fmt.Sprintf("no connection profile '%s' (%s)", name, known)}
		}
		for k, v := range p {
			if !o.Has(k) {
				o[k] = v
			}
		}
	}
	if o.String(OptBootstrap) == "" {
		return &ConfigError{Table: table, Option: OptBootstrap, Problem: "is required (inline or in the connection profile)"}
	}
	return nil
}
