package expr

import (
	"encoding/hex"
	"testing"

	"github.com/arroyogo/arroyo/engine/types"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestHashFunctions(t *testing.T) {
	// FIPS 180 test vectors.
	const (
		sha224abc = "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"
		sha256abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
		sha256nil = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
		sha384abc = "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"
		sha512abc = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
		md5abc    = "900150983cd24fb0d6963f7d28e17f72"
	)
	bin := []types.Type{tByt}
	for _, c := range []fnCase{
		{fn: "sha224", rt: tByt, args: [][]any{{"abc"}}, want: []any{unhex(sha224abc)}},
		{fn: "sha256", rt: tByt, args: [][]any{{"abc", "", nil}}, want: []any{unhex(sha256abc), unhex(sha256nil), nil}},
		{fn: "sha256", rt: tByt, ts: bin, args: [][]any{{[]byte("abc")}}, want: []any{unhex(sha256abc)}},
		{fn: "sha384", rt: tByt, args: [][]any{{"abc"}}, want: []any{unhex(sha384abc)}},
		{fn: "sha512", rt: tByt, args: [][]any{{"abc"}}, want: []any{unhex(sha512abc)}},
		{fn: "md5", rt: tStr, ts: bin, args: [][]any{{[]byte("abc")}}, want: []any{md5abc}},
		{fn: "digest", rt: tByt, args: [][]any{{"abc", "abc", "abc", nil, "abc"}, {"sha256", "MD5", "sha512", "md5", nil}},
			want: []any{unhex(sha256abc), unhex(md5abc), unhex(sha512abc), nil, nil}},
		{fn: "digest", rt: tByt, args: [][]any{{"abc"}, {"blake3"}}, err: "unsupported digest algorithm 'blake3' (supported: md5, sha224, sha256, sha384, sha512)"},
		{fn: "encode", rt: tStr, args: [][]any{{"abc", "hello", "hi", "", nil}, {"hex", "base64", "base64", "hex", "hex"}},
			want: []any{"616263", "aGVsbG8", "aGk", "", nil}},
		{fn: "encode", rt: tStr, ts: []types.Type{tByt, tStr}, args: [][]any{{[]byte{0, 0xff}}, {"hex"}}, want: []any{"00ff"}},
		{fn: "encode", rt: tStr, args: [][]any{{"abc"}, {"escape"}}, err: "unsupported encoding 'escape' (supported: base64, hex)"},
		{fn: "decode", rt: tByt, args: [][]any{{"616263", "aGVsbG8", "aGVsbG8=", "", nil}, {"hex", "base64", "base64", "hex", "hex"}},
			want: []any{[]byte("abc"), []byte("hello"), []byte("hello"), []byte{}, nil}},
		{fn: "decode", rt: tByt, args: [][]any{{"6g"}, {"hex"}}, err: "invalid hex input"},
		{fn: "decode", rt: tByt, args: [][]any{{"a"}, {"base64"}}, err: "invalid base64 input"},
	} {
		runFn(t, c)
	}
	// encode(sha256(x), 'hex'), the usual way to get text.
	e := call("encode", tStr, call("sha256", tByt, col(0, tStr)), lit(tStr, "hex"))
	want(t, e, cols(vec(tStr, "abc", nil)), sha256abc, nil)
	// A constant unknown encoding is a compile error.
	if _, err := Compile(call("encode", tStr, col(0, tStr), lit(tStr, "rot13")), nil); !errContains(err, "unsupported encoding 'rot13'") {
		t.Fatalf("got %v", err)
	}
}
