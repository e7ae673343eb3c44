package ops

// SetOnePart sets the size up to which an aggregate's encoded set is one
// checkpoint part, for a test, and returns what restores it.
func SetOnePart(n int) (restore func()) {
	old := onePart
	onePart = n
	return func() { onePart = old }
}
