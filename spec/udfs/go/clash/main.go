// Command clash exports shout, a name the scalars example also exports:
// loading both into one pipeline is an error naming both modules.
package main

import sdk "github.com/arroyogo/arroyo/udf/sdk/go"

func init() {
	sdk.Scalar1("shout", func(s string) string { return s + "?" })
}

func main() {}
