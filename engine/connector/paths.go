package connector

// LocalPath is a location on the local file system that a connector table
// reads (as a source) or writes (as a sink). Connectors declare them through
// Connector.LocalPaths so the planner can compare the tables of a pipeline
// without knowing any connector: a sink must not write what another table
// of the same pipeline reads or writes, nor the SQL file being run.
//
// The planner compares locations after resolving them (absolute, cleaned,
// symbolic links followed where they exist) and, for files that exist, by
// identity (os.SameFile), so two spellings of one file, a symlink or a hard
// link are all caught.
type LocalPath struct {
	// Path is the location as the user wrote it; a relative path is
	// relative to the working directory of the process that plans (and,
	// for `arroyo run`, runs) the pipeline.
	Path string
	// Tree is true when the table reads or writes the whole directory tree
	// under Path (a directory-based connector such as filesystem): every
	// location under it then overlaps it. False means Path is one file.
	Tree bool
}
