package singlefile

// SetMinSplitBytes lets tests cut small files into many ranges; it returns
// a function that restores the default.
func SetMinSplitBytes(n int64) (restore func()) {
	old := minSplitBytes
	minSplitBytes = n
	return func() { minSplitBytes = old }
}
