// Package all registers every connector and format by importing them.
// cmd/arroyo and the spec runner import it for its side effects.
package all

import (
	_ "github.com/arroyogo/arroyo/connectors/avro"
	_ "github.com/arroyogo/arroyo/connectors/blackhole"
	_ "github.com/arroyogo/arroyo/connectors/filesystem"
	_ "github.com/arroyogo/arroyo/connectors/impulse"
	_ "github.com/arroyogo/arroyo/connectors/jsonfmt"
	_ "github.com/arroyogo/arroyo/connectors/kafka"
	_ "github.com/arroyogo/arroyo/connectors/nexmark"
	_ "github.com/arroyogo/arroyo/connectors/preview"
	_ "github.com/arroyogo/arroyo/connectors/singlefile"
	_ "github.com/arroyogo/arroyo/connectors/stdout"
)
