//go:build wasip1

package sdk

// The ABI's exports (docs/udf-abi.md). They exist only in a wasip1 build:
// a UDF module is this package linked into a main package built with
// GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared.

//go:wasmexport arroyo_udf_abi
func exportABI() int32 { return ABIVersion }

//go:wasmexport arroyo_udf_manifest
func exportManifest() int64 {
	m := manifest()
	if len(m) == 0 {
		return 0
	}
	return int64(addrOf(&m[0])) | int64(len(m))<<32
}

//go:wasmexport arroyo_udf_alloc
func exportAlloc(size int32) int32 { return int32(alloc(uint32(size))) }

//go:wasmexport arroyo_udf_call
func exportCall(fn, in int32) int32 { return int32(call(uint32(fn), uint32(in))) }
