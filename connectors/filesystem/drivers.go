package filesystem

// The object stores a path may name: s3:// (AWS S3 and S3-compatible
// servers: endpoint, region and the like go in the URL query) and gs://
// (Google Cloud Storage). Credentials come from the environment as each
// SDK finds them.
import (
	_ "gocloud.dev/blob/gcsblob"
	_ "gocloud.dev/blob/s3blob"
)
