package api

import "encoding/json"

// The request and response bodies, in Arroyo's shapes (camelCase field
// names). The OpenAPI document is generated from these types.

// ErrorBody is every error response: {"error": "..."}.
type ErrorBody struct {
	Error string `json:"error" doc:"What is wrong, naming the field or record."`
}

// Connector describes a registered connector (GET /connectors).
type Connector struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Icon          string `json:"icon"`
	Description   string `json:"description"`
	Enabled       bool   `json:"enabled"`
	Source        bool   `json:"source"`
	Sink          bool   `json:"sink"`
	CustomSchemas bool   `json:"customSchemas" doc:"Whether tables declare their own columns (false: the connector fixes them)."`
	Testing       bool   `json:"testing" doc:"Whether tables of this connector can be tested (POST /connection_tables/test)."`
	Hidden        bool   `json:"hidden"`
	// ConnectionConfig and TableConfig are JSON Schemas (as strings, as
	// Arroyo sends them) of the profile's and the table's options.
	ConnectionConfig *string `json:"connectionConfig" doc:"JSON Schema of a connection profile's config; null when the connector takes no profile."`
	TableConfig      string  `json:"tableConfig" doc:"JSON Schema of a connection table's config."`
}

// ConnectorCollection is GET /connectors.
type ConnectorCollection struct {
	Data []Connector `json:"data"`
}

// ConnectionProfilePost creates (or tests) a connection profile.
type ConnectionProfilePost struct {
	Name      string         `json:"name" minLength:"1" doc:"Unique name of the profile."`
	Connector string         `json:"connector" minLength:"1"`
	Config    map[string]any `json:"config,omitempty" doc:"The connector's connection options: flat ({\"bootstrap_servers\": \"...\"}) or nested ({\"auth\": {\"type\": \"sasl\"}} is auth.type); camelCase keys are read as snake_case."`
}

// ConnectionProfile is a stored profile; secret options are redacted.
type ConnectionProfile struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Connector   string            `json:"connector"`
	Config      map[string]string `json:"config" doc:"The options, secrets shown as ********."`
	Description string            `json:"description"`
}

// ConnectionProfileCollection is GET /connection_profiles.
type ConnectionProfileCollection struct {
	Data []ConnectionProfile `json:"data"`
}

// ConnectionSchema is a table's schema and format, as Arroyo's.
type ConnectionSchema struct {
	Format      map[string]map[string]any `json:"format,omitempty" doc:"One key, the format's name, holding its options: {\"json\": {\"unstructured\": false}}."`
	BadData     map[string]any            `json:"badData,omitempty" doc:"{\"fail\": {}} (default) or {\"drop\": {}}."`
	Framing     any                       `json:"framing,omitempty"`
	StructName  *string                   `json:"structName,omitempty"`
	Fields      []SourceField             `json:"fields,omitempty"`
	Definition  any                       `json:"definition,omitempty"`
	Inferred    *bool                     `json:"inferred,omitempty"`
	PrimaryKeys []string                  `json:"primaryKeys,omitempty"`
}

// SourceField is one column of a ConnectionSchema.
type SourceField struct {
	FieldName   string    `json:"fieldName" minLength:"1"`
	FieldType   FieldType `json:"fieldType"`
	Nullable    bool      `json:"nullable" required:"false"`
	MetadataKey *string   `json:"metadataKey,omitempty"`
}

// FieldType is a column's type: SQLName ("BIGINT", "TEXT", ...) or an
// Arroyo primitive ({"type": {"primitive": "Int64"}}).
type FieldType struct {
	Type    map[string]any `json:"type,omitempty"`
	SQLName *string        `json:"sqlName,omitempty"`
}

// ConnectionTablePost creates (or tests) a connection table.
type ConnectionTablePost struct {
	Name                string            `json:"name" minLength:"1"`
	Connector           string            `json:"connector" minLength:"1"`
	ConnectionProfileID *string           `json:"connectionProfileId,omitempty"`
	Config              map[string]any    `json:"config,omitempty" doc:"The table's options, as in CREATE TABLE ... WITH; type = 'source' or 'sink' where the connector has both."`
	Schema              *ConnectionSchema `json:"schema,omitempty"`
}

// ConnectionTable is a stored table.
type ConnectionTable struct {
	ID                string             `json:"id"`
	Name              string             `json:"name"`
	CreatedAt         int64              `json:"createdAt" doc:"Microseconds since the Unix epoch."`
	Connector         string             `json:"connector"`
	ConnectionProfile *ConnectionProfile `json:"connectionProfile"`
	TableType         string             `json:"tableType" enum:"source,sink"`
	Config            map[string]string  `json:"config"`
	Schema            *ConnectionSchema  `json:"schema"`
	Consumers         int                `json:"consumers"`
}

// ConnectionTableCollection is a page of GET /connection_tables.
type ConnectionTableCollection struct {
	Data    []ConnectionTable `json:"data"`
	HasMore bool              `json:"hasMore"`
}

// ConnectionAutocompleteResp lists values a table of a profile may take,
// by option name.
type ConnectionAutocompleteResp struct {
	Values map[string][]string `json:"values"`
}

// TestSourceMessage is one step of a connection test (seed 000).
type TestSourceMessage struct {
	Error   bool   `json:"error"`
	Done    bool   `json:"done"`
	Message string `json:"message"`
	Status  string `json:"status" enum:"info,data,error,done"`
}

// Udf references a stored UDF by name from a pipeline.
type Udf struct {
	Name       string `json:"name,omitempty" doc:"Name of a stored UDF (POST /udfs)."`
	Language   string `json:"language,omitempty"`
	Definition []byte `json:"definition,omitempty" doc:"Inline modules are not supported: store the module with POST /udfs."`
}

// UdfPost creates a UDF from a WebAssembly module.
type UdfPost struct {
	Prefix      string `json:"prefix,omitempty"`
	Name        string `json:"name,omitempty" doc:"The function's SQL name; default: the name the module declares."`
	Language    string `json:"language,omitempty" enum:"wasm" doc:"Only wasm."`
	Definition  []byte `json:"definition" doc:"The .wasm module, base64."`
	Description string `json:"description,omitempty"`
}

// GlobalUdf is a stored UDF.
type GlobalUdf struct {
	ID          string `json:"id"`
	Prefix      string `json:"prefix"`
	Name        string `json:"name"`
	CreatedAt   int64  `json:"createdAt"`
	UpdatedAt   int64  `json:"updatedAt"`
	Definition  string `json:"definition" doc:"A description of the module (its size and SHA-256), not its bytes."`
	Description string `json:"description"`
	DylibURL    string `json:"dylibUrl"`
	Language    string `json:"language"`
}

// GlobalUdfCollection is GET /udfs.
type GlobalUdfCollection struct {
	Data []GlobalUdf `json:"data"`
}

// ValidateUdfPost asks whether a module is a valid UDF.
type ValidateUdfPost struct {
	Definition []byte `json:"definition" doc:"The .wasm module, base64."`
	Language   string `json:"language,omitempty" enum:"wasm"`
}

// UdfValidationResult is POST /udfs/validate.
type UdfValidationResult struct {
	UdfName *string  `json:"udfName"`
	Errors  []string `json:"errors"`
}

// PipelinePost creates a pipeline.
type PipelinePost struct {
	Name                     string  `json:"name" minLength:"1"`
	Query                    string  `json:"query" minLength:"1"`
	Udfs                     []Udf   `json:"udfs,omitempty"`
	Parallelism              int     `json:"parallelism" minimum:"1"`
	CheckpointIntervalMicros *uint64 `json:"checkpointIntervalMicros,omitempty"`
}

// PipelinePatch changes a pipeline: stop it, or rescale it.
type PipelinePatch struct {
	Parallelism              *int    `json:"parallelism,omitempty" minimum:"1"`
	CheckpointIntervalMicros *uint64 `json:"checkpointIntervalMicros,omitempty"`
	Stop                     *string `json:"stop,omitempty" enum:"none,checkpoint,graceful,immediate,force"`
}

// PipelineRestart restarts a pipeline's job.
type PipelineRestart struct {
	Force       *bool `json:"force,omitempty"`
	IgnoreState *bool `json:"ignore_state,omitempty" doc:"Start from scratch rather than the last checkpoint."`
}

// Pipeline is a stored pipeline.
type Pipeline struct {
	ID                       string         `json:"id"`
	Name                     string         `json:"name"`
	Query                    string         `json:"query"`
	Udfs                     []Udf          `json:"udfs"`
	CheckpointIntervalMicros uint64         `json:"checkpointIntervalMicros"`
	Stop                     string         `json:"stop" enum:"none,checkpoint,graceful,immediate,force"`
	CreatedAt                int64          `json:"createdAt"`
	ActionText               string         `json:"actionText"`
	ActionInProgress         bool           `json:"actionInProgress"`
	Graph                    *PipelineGraph `json:"graph"`
	Preview                  bool           `json:"preview"`
	Parallelism              int            `json:"parallelism"`
}

// PipelineCollection is a page of GET /pipelines.
type PipelineCollection struct {
	Data    []Pipeline `json:"data"`
	HasMore bool       `json:"hasMore"`
}

// PipelineGraph is a planned pipeline's dataflow.
type PipelineGraph struct {
	Nodes []PipelineNode `json:"nodes"`
	Edges []PipelineEdge `json:"edges"`
	// raw is the graph's JSON as stored: a list of pipelines writes it
	// as is rather than decoding and encoding each graph again.
	raw []byte
}

// MarshalJSON writes the stored JSON when the graph was read from the
// store.
func (g PipelineGraph) MarshalJSON() ([]byte, error) {
	if g.raw != nil {
		return g.raw, nil
	}
	type plain PipelineGraph
	return json.Marshal(plain(g))
}

// PipelineNode is one operator.
type PipelineNode struct {
	NodeID      string `json:"nodeId"`
	Operator    string `json:"operator"`
	Description string `json:"description"`
	Parallelism int    `json:"parallelism"`
}

// PipelineEdge connects two operators.
type PipelineEdge struct {
	SrcID     string `json:"srcId"`
	DestID    string `json:"destId"`
	KeyType   string `json:"keyType"`
	ValueType string `json:"valueType"`
	EdgeType  string `json:"edgeType"`
}

// ValidateQueryPost asks whether a query plans.
type ValidateQueryPost struct {
	Query string `json:"query"`
	Udfs  []Udf  `json:"udfs,omitempty"`
}

// Diagnostic is one problem in a query, at its line and column (1-based;
// 0 when unknown).
type Diagnostic struct {
	Message string `json:"message"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
}

// QueryValidationResult is POST /pipelines/validate_query: the graph when
// the query plans, else the errors.
type QueryValidationResult struct {
	Graph       *PipelineGraph `json:"graph"`
	Errors      []string       `json:"errors"`
	Diagnostics []Diagnostic   `json:"diagnostics"`
}

// Job is one run of a pipeline.
type Job struct {
	ID             string  `json:"id"`
	RunningDesired bool    `json:"runningDesired"`
	State          string  `json:"state"`
	RunID          int64   `json:"runId"`
	StartTime      *int64  `json:"startTime"`
	FinishTime     *int64  `json:"finishTime"`
	Tasks          *int64  `json:"tasks"`
	FailureMessage *string `json:"failureMessage"`
	CreatedAt      int64   `json:"createdAt"`
	PipelineID     string  `json:"pipelineId"`
	Restarts       int     `json:"restarts"`
}

// JobCollection is GET /pipelines/{id}/jobs and GET /jobs.
type JobCollection struct {
	Data []Job `json:"data"`
}

// Checkpoint is one checkpoint of a job.
type Checkpoint struct {
	Epoch      uint64               `json:"epoch"`
	Backend    string               `json:"backend"`
	State      string               `json:"state" enum:"inprogress,ready,failed,compacted"`
	StartTime  int64                `json:"startTime"`
	FinishTime *int64               `json:"finishTime"`
	Bytes      int64                `json:"bytes"`
	Path       string               `json:"path"`
	Events     []CheckpointSpan     `json:"events"`
	Operators  []OperatorCheckpoint `json:"operators"`
}

// CheckpointSpan is a phase of a checkpoint and when it ran.
type CheckpointSpan struct {
	Event     string `json:"event"`
	StartTime int64  `json:"startTime"`
	EndTime   int64  `json:"endTime"`
}

// OperatorCheckpoint is one operator's part of a checkpoint
// (GET .../checkpoints/{epoch}/operator_checkpoint_groups).
type OperatorCheckpoint struct {
	OperatorID string              `json:"operatorId"`
	Bytes      int64               `json:"bytes"`
	StartTime  int64               `json:"startTime"`
	FinishTime int64               `json:"finishTime"`
	Events     []CheckpointSpan    `json:"events"`
	Subtasks   []SubtaskCheckpoint `json:"subtasks"`
}

// SubtaskCheckpoint is one subtask's part.
type SubtaskCheckpoint struct {
	Index      int              `json:"index"`
	Bytes      int64            `json:"bytes"`
	StartTime  int64            `json:"startTime"`
	FinishTime int64            `json:"finishTime"`
	Events     []CheckpointSpan `json:"events"`
}

// CheckpointCollection is GET /pipelines/{id}/jobs/{job}/checkpoints.
type CheckpointCollection struct {
	Data []Checkpoint `json:"data"`
}

// OperatorCheckpointGroupCollection is the operators of one checkpoint.
type OperatorCheckpointGroupCollection struct {
	Data []OperatorCheckpoint `json:"data"`
}

// JobLogMessage is a message about a job (GET .../errors).
type JobLogMessage struct {
	ID         string  `json:"id"`
	CreatedAt  int64   `json:"createdAt"`
	OperatorID *string `json:"operatorId"`
	TaskIndex  *int64  `json:"taskIndex"`
	Level      string  `json:"level" enum:"info,warn,error"`
	Message    string  `json:"message"`
	Details    string  `json:"details"`
}

// JobLogMessageCollection is a page of a job's messages.
type JobLogMessageCollection struct {
	Data    []JobLogMessage `json:"data"`
	HasMore bool            `json:"hasMore"`
}
