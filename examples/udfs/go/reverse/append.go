//go:build appendform

package main

import sdk "github.com/arroyogo/arroyo/udf/sdk/go"

// With the tag appendform the module also exports my_reverse_append: the
// reverse a value per call, through sdk.AppendText1 (udf/wasm's benchmarks
// and tests build it so, with wasmtest.GoTags).
func init() { sdk.AppendText1("my_reverse_append", appendReverse) }
