// Package controlplane is the control plane: the controller that turns
// pipelines into running jobs (controller), the schedulers that place jobs'
// workers (in-process now; processes and Kubernetes pods later), and later
// the REST API and metadata store.
//
// It may import sqlplan and the engine; it must not import connectors, udf
// or cmd (cmd chooses which connectors are linked in).
package controlplane
