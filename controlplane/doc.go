// Package controlplane is the control plane: the controller that turns
// pipelines into running jobs (controller), the schedulers that place jobs'
// workers (in-process now; processes and Kubernetes pods later), the REST
// API (api) and its Go client (client), the metadata store (store: SQLite
// or PostgreSQL), the runner that runs the API's pipelines on the
// controller (cluster), and the configuration (config).
//
// It may import sqlplan and the engine; it must not import connectors, udf
// or cmd (cmd chooses which connectors are linked in).
package controlplane
