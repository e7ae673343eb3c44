package dialect

// arrayLiteral rewrites the array literal ARRAY[a, b] or [a, b] whose '['
// is at k into make_array(a, b), DataFusion's meaning of both. A '[' is a
// literal when no value precedes it (after ARRAY, '(', ',', an operator or
// a keyword); after a value it is a subscript (index). The elements
// themselves are rewritten by the main scan.
func (r *rewriter) arrayLiteral(k int) {
	toks := r.toks
	if k > 0 && toks[k-1].is("ARRAY") {
		r.repl[k-1] = &replacement{s: "make_array", n: 1}
		r.repl[k] = &replacement{s: "(", n: 1}
		// The literal's value starts at ARRAY, a reserved word that is not
		// a value by itself: x[i] and ::type after it wrap from there.
		r.pstart[k-1] = k - 1
	} else {
		r.repl[k] = &replacement{s: "make_array(", n: 1}
	}
	r.repl[r.match[k]] = &replacement{s: ")", n: 1}
}
