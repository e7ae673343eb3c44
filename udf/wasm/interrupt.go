package wasm

import (
	"errors"
	"fmt"
)

// The call time limit without wazero's termination checks.
//
// wazero stops a running guest (WithCloseOnContextDone) by compiling, at
// every loop header, a call out of the guest into Go that looks at the
// module's exit code: tens of nanoseconds per loop iteration, which made a
// UDF with the limit on 3-5x slower than without. Instead, the host
// rewrites the module before compiling it (instrument): it adds one
// mutable i32 global, exported as interruptExport, and, to every function
// with a loop, one i32 local. A loop whose block type has no parameters
// (what compilers emit) is wrapped, and its body starts with a count:
//
//	block $done (the loop's type)
//	  loop $retry
//	    block $slow
//	      loop (the loop's type)
//	        local.get $n  i32.const 1  i32.add  local.tee $n
//	        i32.const checkEvery-1  i32.and  i32.eqz
//	        br_if $slow         ;; every checkEvery-th iteration
//	        ...the loop's body...
//	      end
//	      br $done              ;; the loop ended: its result, if any
//	    end
//	    i32.const 0  memory.grow  drop   ;; step out into Go
//	    global.get $interrupt
//	    if  unreachable  end    ;; stop when the host asks
//	    br $retry               ;; else enter the loop again
//	  end
//	  unreachable
//	end
//
// and the branches inside the loop to labels outside it are renumbered
// (three more labels lie between). Per iteration that is an add, a test
// and a branch not taken, in registers. The step out of the guest is
// outside the loop on purpose: wazero's register allocator spills the
// loop's values around a call in the loop body (which the step is), and
// a first version that had the step inside the loop, under an if, cost a
// byte loop 45% more instructions than the module without checks (17%
// now; callgrind, BenchmarkScalarReverse's byte-wise reverse). Entering
// the loop again is what the loop's own back branch does: its block type
// has no parameters, so nothing is on the operand stack at its start. A
// loop with parameters (a type-index block type) keeps the check in
// place: count, if, the step and the test of the global, end.
//
// To stop a call, a timer goroutine sets the global to 1; the guest traps
// within checkEvery iterations and the host reports the time limit. The
// periodic memory.grow(0) (a call into wazero's Go code that changes
// nothing) is a point where Go's scheduler can preempt the goroutine,
// which it cannot do inside compiled wasm: a first version that only read
// the global at every iteration hung twice (a spinning Go guest, the
// garbage collector in mark termination, the timer never delivered).
//
// Code without loops ends by itself: it is finite, and recursion ends in
// a stack overflow trap (tail calls, the one way to recurse without a
// stack, are not enabled in the runtime). Host functions (WASI) do not
// block. A function without loops is left as it is.
//
// The rewriter decodes the module's sections and every instruction of
// every function body (the opcodes of the WebAssembly 2.0 core features
// the runtime enables: MVP, sign extension, saturating conversions, bulk
// memory, reference types, multi-value, SIMD); an opcode it does not know
// refuses the module, rather than compiling code that could not be
// stopped.

// checkEvery is how many loop iterations (of one function call) pass
// between two looks at the interrupt global: a power of two.
const checkEvery = 1 << 14

// interruptExport is the name of the global instrument adds.
const interruptExport = "arroyo_host_interrupt"

// Section ids (WebAssembly core spec, 5.5).
const (
	secCustom    = 0
	secType      = 1
	secImport    = 2
	secFunction  = 3
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secCode      = 10
	wasmMagicLen = 8
)

// sectionOrder is the position a non-custom section must have in a module.
var sectionOrder = [...]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9, 12: 10, 10: 11, 11: 12}

var errTruncated = errors.New("unexpected end")

// reader decodes a wasm binary.
type reader struct {
	b   []byte
	pos int
}

func (r *reader) byte() (byte, error) {
	if r.pos >= len(r.b) {
		return 0, errTruncated
	}
	c := r.b[r.pos]
	r.pos++
	return c, nil
}

// u32 reads an unsigned LEB128 of at most 32 bits.
func (r *reader) u32() (uint32, error) {
	var v uint32
	for shift := uint(0); shift < 35; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		v |= uint32(c&0x7f) << shift
		if c < 0x80 {
			return v, nil
		}
	}
	return 0, errors.New("integer too long")
}

// skipLEB skips a (signed or unsigned) LEB128 of at most max bytes.
func (r *reader) skipLEB(max int) error {
	for i := 0; i < max; i++ {
		c, err := r.byte()
		if err != nil {
			return err
		}
		if c < 0x80 {
			return nil
		}
	}
	return errors.New("integer too long")
}

func (r *reader) skip(n int) error {
	if n < 0 || r.pos+n > len(r.b) {
		return errTruncated
	}
	r.pos += n
	return nil
}

func (r *reader) name() error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	return r.skip(int(n))
}

func (r *reader) limits() error {
	flag, err := r.byte()
	if err != nil {
		return err
	}
	if err := r.skipLEB(10); err != nil {
		return err
	}
	if flag&1 != 0 {
		return r.skipLEB(10)
	}
	return nil
}

func appendU32(b []byte, v uint32) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendName(b []byte, s string) []byte {
	return append(appendU32(b, uint32(len(s))), s...)
}

// section is one section of a module: its id and contents.
type section struct {
	id   byte
	body []byte
}

// instrument returns wasm with the interrupt global and a check of it at
// the start of every loop (see above).
func instrument(wasm []byte) ([]byte, error) {
	if len(wasm) < wasmMagicLen || string(wasm[:4]) != "\x00asm" {
		return nil, errors.New("no WebAssembly magic number")
	}
	r := &reader{b: wasm, pos: wasmMagicLen}
	var secs []section
	importedGlobals, definedGlobals := uint32(0), uint32(0)
	var typeParams []uint32 // parameter count of each type
	var funcTypes []uint32  // type of each defined function
	hasMemory := false
	for r.pos < len(wasm) {
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		n, err := r.u32()
		if err != nil {
			return nil, fmt.Errorf("section %d: %w", id, err)
		}
		start := r.pos
		if err := r.skip(int(n)); err != nil {
			return nil, fmt.Errorf("section %d: %w", id, err)
		}
		body := wasm[start:r.pos]
		if int(id) >= len(sectionOrder) || (id != secCustom && sectionOrder[id] == 0) {
			return nil, fmt.Errorf("unknown section %d", id)
		}
		switch id {
		case secType:
			if typeParams, err = readTypeParams(body); err != nil {
				return nil, fmt.Errorf("type section: %w", err)
			}
		case secFunction:
			if funcTypes, err = readU32Vec(body); err != nil {
				return nil, fmt.Errorf("function section: %w", err)
			}
		case secMemory:
			n, err := (&reader{b: body}).u32()
			if err != nil {
				return nil, fmt.Errorf("memory section: %w", err)
			}
			hasMemory = hasMemory || n > 0
		case secImport:
			var mems uint32
			if importedGlobals, mems, err = countImports(body); err != nil {
				return nil, fmt.Errorf("import section: %w", err)
			}
			hasMemory = hasMemory || mems > 0
		case secGlobal:
			if definedGlobals, err = (&reader{b: body}).u32(); err != nil {
				return nil, fmt.Errorf("global section: %w", err)
			}
		}
		secs = append(secs, section{id, body})
	}
	index := importedGlobals + definedGlobals
	// Every function's params, for the index of the local added.
	params := make([]uint32, len(funcTypes))
	for i, t := range funcTypes {
		if int(t) >= len(typeParams) {
			return nil, fmt.Errorf("function %d has type %d of %d", i, t, len(typeParams))
		}
		params[i] = typeParams[t]
	}
	var interrupt []byte // what the check does every checkEvery iterations
	if hasMemory {
		interrupt = append(interrupt, 0x41, 0x00, 0x40, 0x00, 0x1a) // i32.const 0; memory.grow 0; drop
	}
	interrupt = append(interrupt, 0x23) // global.get index; if; unreachable; end
	interrupt = appendU32(interrupt, index)
	interrupt = append(interrupt, 0x04, 0x40, 0x00, 0x0b)

	out := make([]byte, 0, len(wasm)+len(wasm)/16+64)
	out = append(out, wasm[:wasmMagicLen]...)
	put := func(id byte, body []byte) {
		out = append(out, id)
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	// An i32 global, mutable, initialised to 0.
	global := []byte{0x7f, 0x01, 0x41, 0x00, 0x0b}
	export := appendName(nil, interruptExport)
	export = append(export, 0x03)
	export = appendU32(export, index)
	addedGlobal, addedExport := false, false
	// insertMissing writes a global or export section the module lacks,
	// before the first section that must follow it.
	insertMissing := func(before int) {
		if !addedGlobal && before > sectionOrder[secGlobal] {
			put(secGlobal, append([]byte{1}, global...))
			addedGlobal = true
		}
		if !addedExport && before > sectionOrder[secExport] {
			put(secExport, append([]byte{1}, export...))
			addedExport = true
		}
	}
	for _, s := range secs {
		if s.id != secCustom {
			insertMissing(sectionOrder[s.id])
		}
		switch s.id {
		case secGlobal:
			put(secGlobal, appendVec(s.body, global))
			addedGlobal = true
		case secExport:
			put(secExport, appendVec(s.body, export))
			addedExport = true
		case secCode:
			body, err := instrumentCode(s.body, params, interrupt)
			if err != nil {
				return nil, fmt.Errorf("code section: %w", err)
			}
			put(secCode, body)
		default:
			put(s.id, s.body)
		}
	}
	insertMissing(len(sectionOrder) + 1)
	return out, nil
}

// appendVec returns the vector body (a count and its entries) with entry
// appended.
func appendVec(body, entry []byte) []byte {
	r := &reader{b: body}
	n, err := r.u32()
	if err != nil {
		n, r.pos = 0, len(body) // malformed: wazero reports it
	}
	b := appendU32(make([]byte, 0, len(body)+len(entry)+5), n+1)
	b = append(b, body[r.pos:]...)
	return append(b, entry...)
}

// countImports counts the imported globals and memories.
func countImports(body []byte) (globals, mems uint32, err error) {
	r := &reader{b: body}
	n, err := r.u32()
	if err != nil {
		return 0, 0, err
	}
	for i := uint32(0); i < n; i++ {
		if err := r.name(); err != nil {
			return 0, 0, err
		}
		if err := r.name(); err != nil {
			return 0, 0, err
		}
		kind, err := r.byte()
		if err != nil {
			return 0, 0, err
		}
		switch kind {
		case 0x00: // function: type index
			_, err = r.u32()
		case 0x01: // table: reference type, limits
			if _, err = r.byte(); err == nil {
				err = r.limits()
			}
		case 0x02: // memory
			mems++
			err = r.limits()
		case 0x03: // global: value type, mutability
			globals++
			err = r.skip(2)
		default:
			err = fmt.Errorf("import kind %d", kind)
		}
		if err != nil {
			return 0, 0, err
		}
	}
	return globals, mems, nil
}

// readTypeParams returns the parameter count of every function type.
func readTypeParams(body []byte) ([]uint32, error) {
	r := &reader{b: body}
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	out := make([]uint32, 0, min(n, 1<<16))
	for i := uint32(0); i < n; i++ {
		if c, err := r.byte(); err != nil || c != 0x60 {
			return nil, fmt.Errorf("type %d is not a function type", i)
		}
		np, err := r.u32()
		if err != nil {
			return nil, err
		}
		if err := r.skip(int(np)); err != nil {
			return nil, err
		}
		nr, err := r.u32()
		if err != nil {
			return nil, err
		}
		if err := r.skip(int(nr)); err != nil {
			return nil, err
		}
		out = append(out, np)
	}
	return out, nil
}

func readU32Vec(body []byte) ([]uint32, error) {
	r := &reader{b: body}
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	out := make([]uint32, 0, min(n, 1<<20))
	for i := uint32(0); i < n; i++ {
		v, err := r.u32()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// instrumentCode rewrites the code section: function i has params[i]
// parameters; interrupt is what the loops' checks do every checkEvery
// iterations.
func instrumentCode(body []byte, params []uint32, interrupt []byte) ([]byte, error) {
	r := &reader{b: body}
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	out := appendU32(make([]byte, 0, len(body)+len(body)/16), n)
	if int(n) != len(params) {
		return nil, fmt.Errorf("%d function bodies for %d functions", n, len(params))
	}
	var fn []byte
	for i := uint32(0); i < n; i++ {
		size, err := r.u32()
		if err != nil {
			return nil, fmt.Errorf("function %d: %w", i, err)
		}
		start := r.pos
		if err := r.skip(int(size)); err != nil {
			return nil, fmt.Errorf("function %d: %w", i, err)
		}
		fn, err = instrumentFunc(fn[:0], body[start:r.pos], params[i], interrupt)
		if err != nil {
			return nil, fmt.Errorf("function %d: %w", i, err)
		}
		out = appendU32(out, uint32(len(fn)))
		out = append(out, fn...)
	}
	return out, nil
}

// instrumentFunc appends the function body b (locals and expression) of a
// function of params parameters to out, with a local added and a check at
// the start of every loop body (see the top of this file). A function
// without loops is copied as it is.
func instrumentFunc(out, b []byte, params uint32, interrupt []byte) ([]byte, error) {
	outStart := len(out)
	r := &reader{b: b}
	groups, err := r.u32()
	if err != nil {
		return nil, err
	}
	groupsEnd := r.pos
	locals := uint64(params)
	for g := uint32(0); g < groups; g++ {
		n, err := r.u32()
		if err != nil {
			return nil, err
		}
		locals += uint64(n)
		if _, err := r.byte(); err != nil {
			return nil, err
		}
	}
	if locals >= 1<<32-1 {
		return nil, errors.New("too many locals")
	}
	// The locals, and one more i32: the loop counter.
	out = appendU32(out, groups+1)
	out = append(out, b[groupsEnd:r.pos]...)
	out = append(out, 0x01, 0x7f)
	counter := uint32(locals)
	// count: local.get; i32.const 1; i32.add; local.tee;
	// i32.const checkEvery-1; i32.and; i32.eqz (1 when a check is due).
	var count []byte
	count = append(count, 0x20)
	count = appendU32(count, counter)
	count = append(count, 0x41, 0x01, 0x6a, 0x22)
	count = appendU32(count, counter)
	count = append(count, 0x41)
	count = appendS32(count, checkEvery-1)
	count = append(count, 0x71, 0x45)
	// The check of a loop whose block type has no parameters: leave the
	// loop for the wrapper's slow path (br_if 1, see loopWrapper).
	exitCheck := append(append([]byte(nil), count...), 0x0d, 0x01)
	// The check of another loop, in place: if; interrupt; end.
	inPlace := append(append([]byte(nil), count...), 0x04, 0x40)
	inPlace = append(append(inPlace, interrupt...), 0x0b)
	// After a wrapped loop's end: br 2 (out of the wrapper, with the
	// loop's result); end of $slow; the interrupt; br 0 (enter the loop
	// again); end of $retry; unreachable; end of $done.
	after := []byte{0x0c, 0x02, 0x0b}
	after = append(append(after, interrupt...), 0x0c, 0x00, 0x0b, 0x00, 0x0b)

	// The control frames open at each point (the function's first):
	// whether each is a wrapped loop, to renumber branches that leave one.
	frames := []bool{false}
	loops := 0
	copied := r.pos
	var labels []uint32
	for r.pos < len(b) {
		at := r.pos
		op, _ := r.byte()
		if err := skipImmediates(r, op); err != nil {
			return nil, fmt.Errorf("instruction 0x%02x at %d: %w", op, at, err)
		}
		switch op {
		case 0x02, 0x04: // block, if
			frames = append(frames, false)
		case 0x03: // loop blocktype: the body starts here
			loops++
			out = append(out, b[copied:at]...)
			bt := b[at+1 : r.pos]
			if len(bt) == 1 && bt[0] >= 0x40 {
				// No parameters (no result or one value):
				//   block $done bt; loop $retry; block $slow
				//     loop bt; exitCheck; ...
				out = append(out, 0x02, bt[0], 0x03, 0x40, 0x02, 0x40)
				out = append(out, b[at:r.pos]...)
				out = append(out, exitCheck...)
				frames = append(frames, true)
			} else {
				out = append(out, b[at:r.pos]...)
				out = append(out, inPlace...)
				frames = append(frames, false)
			}
			copied = r.pos
		case 0x0b: // end
			if len(frames) == 0 {
				return nil, fmt.Errorf("end at %d closes no block", at)
			}
			wrapped := frames[len(frames)-1]
			frames = frames[:len(frames)-1]
			if wrapped {
				out = append(out, b[copied:r.pos]...)
				out = append(out, after...)
				copied = r.pos
			}
		case 0x0c, 0x0d, 0x0e: // br, br_if, br_table
			labels = labels[:0]
			lr := &reader{b: b, pos: at + 1}
			n := uint32(0)
			if op == 0x0e {
				if n, err = lr.u32(); err != nil {
					return nil, err
				}
			}
			changed := false
			for i := uint32(0); i <= n; i++ {
				d, err := lr.u32()
				if err != nil {
					return nil, err
				}
				if int(d) >= len(frames) {
					return nil, fmt.Errorf("branch at %d to label %d of %d", at, d, len(frames))
				}
				// Each wrapped loop the branch leaves adds three frames.
				nd := d
				for _, w := range frames[len(frames)-int(d):] {
					if w {
						nd += 3
					}
				}
				changed = changed || nd != d
				labels = append(labels, nd)
			}
			if changed {
				out = append(out, b[copied:at+1]...)
				if op == 0x0e {
					out = appendU32(out, n)
				}
				for _, l := range labels {
					out = appendU32(out, l)
				}
				copied = r.pos
			}
		}
	}
	if loops == 0 {
		return append(out[:outStart], b...), nil
	}
	return append(out, b[copied:]...), nil
}

// skipImmediates skips the immediates of the instruction op.
func skipImmediates(r *reader, op byte) error {
	switch {
	case op <= 0x01, op == 0x05, op == 0x0b, op == 0x0f, op == 0x1a, op == 0x1b, op == 0xd1:
		return nil // unreachable, nop, else, end, return, drop, select, ref.is_null
	case op >= 0x45 && op <= 0xc4:
		return nil // numeric instructions
	case op >= 0x02 && op <= 0x04: // block, loop, if: a block type (s33)
		return r.skipLEB(5)
	case op == 0x0c, op == 0x0d, op == 0x10, op == 0xd2: // br, br_if, call, ref.func
		return r.skipLEB(5)
	case op == 0x0e: // br_table
		n, err := r.u32()
		if err != nil {
			return err
		}
		for i := uint32(0); i <= n; i++ {
			if err := r.skipLEB(5); err != nil {
				return err
			}
		}
		return nil
	case op == 0x11: // call_indirect: type, table
		if err := r.skipLEB(5); err != nil {
			return err
		}
		return r.skipLEB(5)
	case op == 0x1c: // select t*
		n, err := r.u32()
		if err != nil {
			return err
		}
		return r.skip(int(n))
	case op >= 0x20 && op <= 0x26: // local.*, global.*, table.get/set
		return r.skipLEB(5)
	case op >= 0x28 && op <= 0x3e: // loads and stores
		return skipMemarg(r)
	case op == 0x3f, op == 0x40: // memory.size, memory.grow
		return r.skipLEB(5)
	case op == 0x41:
		return r.skipLEB(5)
	case op == 0x42:
		return r.skipLEB(10)
	case op == 0x43:
		return r.skip(4)
	case op == 0x44:
		return r.skip(8)
	case op == 0xd0: // ref.null t
		return r.skip(1)
	case op == 0xfc:
		sub, err := r.u32()
		if err != nil {
			return err
		}
		switch {
		case sub <= 7: // saturating truncations
			return nil
		case sub == 8, sub == 10, sub == 12, sub == 14: // memory.init, memory.copy, table.init, table.copy
			if err := r.skipLEB(5); err != nil {
				return err
			}
			return r.skipLEB(5)
		case sub <= 17: // data.drop, memory.fill, elem.drop, table.grow/size/fill
			return r.skipLEB(5)
		}
		return fmt.Errorf("unknown instruction 0xfc %d", sub)
	case op == 0xfd:
		sub, err := r.u32()
		if err != nil {
			return err
		}
		switch {
		case sub <= 11, sub == 92, sub == 93: // v128 loads and stores
			return skipMemarg(r)
		case sub == 12, sub == 13: // v128.const, i8x16.shuffle
			return r.skip(16)
		case sub >= 21 && sub <= 34: // extract and replace lane
			return r.skip(1)
		case sub >= 84 && sub <= 91: // load and store lane
			if err := skipMemarg(r); err != nil {
				return err
			}
			return r.skip(1)
		case sub <= 255:
			return nil
		}
		return fmt.Errorf("unknown instruction 0xfd %d", sub)
	}
	return fmt.Errorf("unknown instruction")
}

// skipMemarg skips a memory argument: alignment (bit 6: a memory index
// follows) and offset.
func skipMemarg(r *reader) error {
	align, err := r.u32()
	if err != nil {
		return err
	}
	if align&0x40 != 0 {
		if err := r.skipLEB(5); err != nil {
			return err
		}
	}
	return r.skipLEB(10)
}

// appendS32 appends v as a signed LEB128.
func appendS32(b []byte, v int32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
