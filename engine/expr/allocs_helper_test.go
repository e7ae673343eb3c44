package expr

import "testing"

func testingAllocs(f func()) float64 { return testing.AllocsPerRun(20, f) }
