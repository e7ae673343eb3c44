// Command timetime registers a function of time.Time, which the SDK
// refuses (TIMESTAMP is sdk.Timestamp): the module panics in its
// initialization, so loading it fails with the SDK's message.
package main

import (
	"time"

	sdk "github.com/arroyogo/arroyo/udf/sdk/go"
)

func init() {
	sdk.Scalar1("next_hour", func(t time.Time) time.Time { return t.Add(time.Hour) })
}

func main() {}
