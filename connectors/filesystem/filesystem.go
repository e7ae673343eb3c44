// Package filesystem registers the "filesystem" sink connector, compatible
// with Arroyo's: it writes a table's rows as files (JSON lines or Parquet)
// under a directory on the local file system or in an object store
// (s3://, gs://, through gocloud.dev/blob), rolled by age, inactivity, size
// or row count and partitioned by event time (time_partition_pattern) and by
// column values (partition_fields). It also registers the "parquet" format,
// which only this sink writes.
//
// It is exactly-once (connector.TwoPhaseSink): rows are written to staged
// (in-progress) files under <path>/.arroyo/; a checkpoint barrier closes
// every open file and pre-commits the staged names; the checkpoint's commit
// moves them to their final names, so a file appears only once the
// checkpoint that covers its rows is durable. A restore commits what the
// restored checkpoint pre-committed and deletes whatever was staged after
// it. See sink.go for the protocol and docs/connectors/filesystem.md.
//
// It must not import other connectors (but the format registry), sqlplan,
// controlplane, udf, cmd, engine/ops or engine/dataflow.
package filesystem

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gocloud.dev/blob"

	"github.com/arroyogo/arroyo/engine/connector"
	"github.com/arroyogo/arroyo/engine/types"
)

// Option names (Arroyo's, but rollover_rows, which is ours).
const (
	OptPath              = "path"
	OptType              = "type"
	OptRolloverSeconds   = "rollover_seconds"
	OptInactivitySeconds = "inactivity_rollover_seconds"
	OptTargetFileSize    = "target_file_size"
	OptRolloverRows      = "rollover_rows"
	OptPartitionFields   = "partition_fields"
	OptTimePattern       = "time_partition_pattern"
	OptFilenamePrefix    = "filename.prefix"
	OptFilenameSuffix    = "filename.suffix"
	OptFilenameStrategy  = "filename.strategy"

	OptParquetCompression = "parquet_compression"
	OptParquetRowGroup    = "parquet_row_group_size"
)

// FormatParquet is the name of the Parquet format.
const FormatParquet = "parquet"

func init() {
	connector.Register(&connector.Connector{
		Name:        "filesystem",
		Description: "Writes files of JSON lines or Parquet under a local directory or an object store (s3://, gs://), rolled by time, size or rows and partitioned by event time and columns. Exactly-once: a file appears only when the checkpoint covering its rows commits.",
		Options: []connector.Option{
			{Name: OptPath, Type: connector.TypeString, Required: true, Example: "s3://bucket/events",
				Description: "Directory to write under: a local path ('/data/out' or 'file:///data/out'), 's3://bucket/prefix' or 'gs://bucket/prefix'. Object-store options go in the URL query (e.g. 's3://bucket/out?region=eu-west-1'); credentials come from the environment, as the cloud SDKs find them."},
			{Name: OptType, Type: connector.TypeEnum, Enum: []string{"sink"}, Description: "The table's role: filesystem tables are sinks."},
			{Name: OptRolloverSeconds, Type: connector.TypeInt, Default: "30", Min: 1, MinSet: true,
				Description: "Close a file this many seconds after it was opened. A checkpoint closes every open file anyway, so files never span a checkpoint."},
			{Name: OptInactivitySeconds, Type: connector.TypeInt, Min: 1, MinSet: true,
				Description: "Close a file that received no row for this many seconds (checked as rows arrive)."},
			{Name: OptTargetFileSize, Type: connector.TypeInt, Min: 1, MinSet: true,
				Description: "Close a file once it reaches this many bytes (Parquet: counting the row group being built)."},
			{Name: OptRolloverRows, Type: connector.TypeInt, Min: 1, MinSet: true,
				Description: "Close a file once it holds this many rows (not an Arroyo option)."},
			{Name: OptPartitionFields, Type: connector.TypeString, Example: "region,kind",
				Description: "Comma-separated columns whose values partition the output into directories 'column=value' (Hive style)."},
			{Name: OptTimePattern, Type: connector.TypeString, Example: "%Y/%m/%d/%H",
				Description: "strftime pattern of the event time (UTC) that partitions the output into directories; %Y %m %d %H %M %S %j %y and %% are understood."},
			{Name: OptFilenamePrefix, Type: connector.TypeString, Default: "part", Description: "Start of every file name."},
			{Name: OptFilenameSuffix, Type: connector.TypeString, Description: "End of every file name (default the format's extension: '.json', '.parquet')."},
			{Name: OptFilenameStrategy, Type: connector.TypeEnum, Enum: []string{"serial", "uuid"}, Default: "serial",
				Description: "How files are named after the prefix: 'serial' (<run>-<subtask>-<number>) or 'uuid' (a random UUID)."},
		},
		NeedsFormat:   true,
		DefaultFormat: "json",
		LocalPaths: func(opts connector.Options) []connector.LocalPath {
			if dir, ok := localDir(opts.String(OptPath)); ok {
				return []connector.LocalPath{{Path: dir, Tree: true}}
			}
			return nil
		},
		NewSink: newSink,
	})
	connector.RegisterFormat(&connector.Format{
		Name:        FormatParquet,
		Description: "Apache Parquet files (written by the filesystem sink only), one column per table column.",
		Options: []connector.Option{
			{Name: OptParquetCompression, Type: connector.TypeEnum, Enum: []string{"none", "snappy", "gzip", "zstd", "lz4"}, Default: "zstd",
				Description: "Compression codec of the column chunks."},
			{Name: OptParquetRowGroup, Type: connector.TypeInt, Default: "100000", Min: 1, MinSet: true,
				Description: "Rows per row group: a file's rows are buffered in memory up to this many before they are encoded."},
		},
	})
}

// localDir returns the local directory path names, if it names one (an
// absolute or relative path, or a file:// URL).
func localDir(path string) (string, bool) {
	if strings.HasPrefix(path, "file://") {
		u, err := url.Parse(path)
		if err != nil || (u.Host != "" && u.Host != "localhost") {
			return "", false
		}
		return filepath.FromSlash(u.Path), true
	}
	if !strings.Contains(path, "://") {
		return path, true
	}
	return "", false
}

// config is a sink's validated configuration.
type config struct {
	path       string
	local      string // the local directory; "" for an object store
	bucketURL  string // the bucket's URL without the prefix
	prefix     string // the key prefix in the bucket ("" or ending in '/')
	format     string
	rollAge    time.Duration
	rollIdle   time.Duration // 0: none
	rollBytes  int64         // 0: none
	rollRows   int64         // 0: none
	fields     []int         // partition columns
	timeParts  []timePart    // nil: no time partitioning
	prefixName string
	suffix     string
	uuid       bool
	compress   string
	rowGroup   int64
}

// parseConfig validates what the option declarations cannot: the path's
// scheme, the partition columns (against the schema) and the time pattern.
func parseConfig(t *connector.Table) (*config, error) {
	o := t.Options
	c := &config{
		path:       o.String(OptPath),
		rollAge:    time.Duration(o.Int(OptRolloverSeconds)) * time.Second,
		rollIdle:   time.Duration(o.Int(OptInactivitySeconds)) * time.Second,
		rollBytes:  o.Int(OptTargetFileSize),
		rollRows:   o.Int(OptRolloverRows),
		prefixName: o.String(OptFilenamePrefix),
		suffix:     o.String(OptFilenameSuffix),
		uuid:       o.String(OptFilenameStrategy) == "uuid",
	}
	bad := func(opt, v, problem string) error {
		return &connector.OptionError{Owner: "filesystem", Option: opt, Value: v, Problem: problem}
	}
	if c.rollAge <= 0 {
		c.rollAge = 30 * time.Second
	}
	if t.Format == nil {
		return nil, fmt.Errorf("filesystem table '%s' has no format", t.Name)
	}
	c.format = t.Format.Name
	if c.format == FormatParquet {
		c.compress = t.Format.Options.String(OptParquetCompression)
		c.rowGroup = t.Format.Options.Int(OptParquetRowGroup)
		if c.rowGroup <= 0 {
			c.rowGroup = 100000
		}
		if err := checkParquetSchema(t.Schema); err != nil {
			return nil, err
		}
	} else if c.format != "json" {
		// Records are written one per line: only a text format whose
		// records hold no newline fits (Avro's binary records would make
		// a file nothing can read back).
		return nil, bad("format", c.format, "the filesystem sink writes 'json' (JSON lines) or 'parquet'")
	}
	if c.suffix == "" {
		c.suffix = "." + c.format
	} else if !strings.HasPrefix(c.suffix, ".") {
		c.suffix = "." + c.suffix
	}
	if strings.ContainsAny(c.prefixName+c.suffix, "/\\") {
		return nil, bad(OptFilenamePrefix, c.prefixName+"|"+c.suffix, "file name prefix and suffix must not contain '/'")
	}
	if dir, ok := localDir(c.path); ok {
		if dir == "" {
			return nil, bad(OptPath, c.path, "expected a directory such as '/data/out', 'file:///data/out', 's3://bucket/prefix' or 'gs://bucket/prefix'")
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, bad(OptPath, c.path, err.Error())
		}
		c.local = abs
	} else {
		u, err := url.Parse(c.path)
		if err != nil || u.Host == "" {
			return nil, bad(OptPath, c.path, "expected 'scheme://bucket/prefix' (for example 's3://bucket/events')")
		}
		if !blob.DefaultURLMux().ValidBucketScheme(u.Scheme) {
			return nil, bad(OptPath, c.path, "unsupported scheme '"+u.Scheme+"' (supported: a local path, 'file://', "+strings.Join(schemes(), ", ")+")")
		}
		c.prefix = strings.Trim(u.Path, "/")
		if c.prefix != "" {
			c.prefix += "/"
		}
		u.Path = ""
		c.bucketURL = u.String()
	}
	if v := o.String(OptPartitionFields); v != "" {
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			i := t.Schema.Index(name)
			if i < 0 {
				return nil, bad(OptPartitionFields, v, fmt.Sprintf("table '%s' has no column '%s' (columns: %s)", t.Name, name, columnNames(t.Schema)))
			}
			if k := t.Schema.Fields[i].Type.Kind; k == types.List || k == types.Struct {
				return nil, bad(OptPartitionFields, v, fmt.Sprintf("column '%s' is a %s; partition by scalar columns", name, k))
			}
			c.fields = append(c.fields, i)
		}
	}
	if v := o.String(OptTimePattern); v != "" {
		parts, err := parseTimePattern(v)
		if err != nil {
			return nil, bad(OptTimePattern, v, err.Error())
		}
		c.timeParts = parts
	}
	return c, nil
}

// schemes lists the object-store URL schemes this binary can open.
func schemes() []string {
	var out []string
	for _, s := range []string{"s3", "gs", "mem"} {
		if blob.DefaultURLMux().ValidBucketScheme(s) {
			out = append(out, "'"+s+"://'")
		}
	}
	return out
}

func columnNames(s *types.Schema) string {
	names := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

// itoa formats n with at least width digits.
func itoa(n int64, width int) string {
	s := strconv.FormatInt(n, 10)
	for len(s) < width {
		s = "0" + s
	}
	return s
}
