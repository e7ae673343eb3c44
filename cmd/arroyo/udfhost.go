package main

import (
	"context"
	"io"

	"github.com/arroyogo/arroyo/controlplane/api"
	"github.com/arroyogo/arroyo/controlplane/config"
	"github.com/arroyogo/arroyo/udf/wasm/apihost"
)

// newUDFHost starts the wasm host the API checks UDF modules with (POST
// /udfs, /udfs/validate) and the cluster runs stored UDFs on, configured
// by [udf]; close closes it after the jobs have ended.
func newUDFHost(ctx context.Context, cfg config.Config, stderr io.Writer) (h *apihost.Host, close func(), err error) {
	h, err = apihost.New(ctx, udfHostConfig(cfg, stderr))
	if err != nil {
		return nil, nil, err
	}
	return h, func() { h.Close(context.Background()) }, nil
}

// withUDFs is the startAPIServer option that checks UDF modules with h.
func withUDFs(h api.UDFHost) func(*api.Options) {
	return func(o *api.Options) { o.UDFs = h }
}
