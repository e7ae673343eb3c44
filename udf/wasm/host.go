package wasm

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

// Defaults of Config.
const (
	// DefaultMemoryLimit is the most linear memory one instance may have
	// (udf.memory_limit).
	DefaultMemoryLimit = 64 << 20
	// DefaultCallTimeout bounds one call into the guest, one batch
	// (udf.call_timeout).
	DefaultCallTimeout = 10 * time.Second
	// DefaultLogLimit is how many bytes of stdout and stderr one instance
	// may write to the log before the rest is dropped.
	DefaultLogLimit = 64 << 10
)

// Config configures a Host.
type Config struct {
	// CacheDir holds wazero's compilation cache, so that a module loads
	// without compiling on the next start ("": no cache on disk). See
	// DefaultCacheDir.
	CacheDir string
	// MemoryLimit is the most linear memory, in bytes, one instance may
	// grow to (0: DefaultMemoryLimit). A module whose initial memory is
	// larger is refused at load.
	MemoryLimit uint64
	// CallTimeout bounds one guest call (0: DefaultCallTimeout; negative:
	// no limit). The host enforces it with a check it adds to every loop
	// of the guest's code (interrupt.go): a load and a branch per
	// iteration, a few percent of a tight loop. Without a limit the module
	// runs exactly as built, and a call that never returns hangs its
	// subtask (docs/udfs.md, "Limits").
	CallTimeout time.Duration
	// Log receives the guest's stdout and stderr, a line at a time (nil:
	// discarded). It may be called from any goroutine.
	Log func(module, line string)
	// LogLimit is the bytes of output an instance may log (0:
	// DefaultLogLimit); the rest is counted and dropped.
	LogLimit int
}

// DefaultCacheDir is the compilation cache directory under the user's cache
// directory ("" when there is none).
func DefaultCacheDir() string {
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "arroyo", "wasm")
}

// Host loads and runs UDF modules. One Host has one wazero runtime; its
// modules share the compilation cache and the limits of its Config. A Host
// is safe for concurrent use.
type Host struct {
	cfg   Config
	rt    wazero.Runtime
	cache wazero.CompilationCache

	mu       sync.Mutex
	compiled map[[32]byte]*compiledEntry
}

// NewHost returns a host with the given configuration.
func NewHost(ctx context.Context, cfg Config) (*Host, error) {
	if cfg.MemoryLimit == 0 {
		cfg.MemoryLimit = DefaultMemoryLimit
	}
	if cfg.MemoryLimit < 1<<16 || cfg.MemoryLimit > 4<<30 {
		return nil, fmt.Errorf("udf memory limit %d bytes: must be between 64 KiB and 4 GiB", cfg.MemoryLimit)
	}
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	if cfg.LogLimit <= 0 {
		cfg.LogLimit = DefaultLogLimit
	}
	// No WithCloseOnContextDone: the time limit is enforced by the
	// interrupt check instrument adds to the module (interrupt.go), not by
	// wazero's termination checks, which cost a call out of the guest at
	// every loop iteration. DWARF is not decoded: the host shows no guest
	// stack traces, and decoding a Go module's costs milliseconds a load.
	rc := wazero.NewRuntimeConfigCompiler().WithDebugInfoEnabled(false)
	h := &Host{cfg: cfg, compiled: map[[32]byte]*compiledEntry{}}
	if cfg.CacheDir != "" {
		// Instrumented code is compiled from other bytes than the module
		// itself, so modules loaded with and without the time limit have
		// distinct cache entries.
		c, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("udf compilation cache %s: %w", cfg.CacheDir, err)
		}
		h.cache = c
		rc = rc.WithCompilationCache(c)
	}
	h.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, h.rt); err != nil {
		h.rt.Close(ctx)
		return nil, fmt.Errorf("udf host: instantiate wasi: %w", err)
	}
	return h, nil
}

// Close closes the host's runtime and every module and instance in it.
func (h *Host) Close(ctx context.Context) error {
	err := h.rt.Close(ctx)
	if h.cache != nil {
		err = errors.Join(err, h.cache.Close(ctx))
	}
	return err
}

// LoadFile loads the module at path, named after the file.
func (h *Host) LoadFile(ctx context.Context, path string) (*Module, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("udf module: %w", err)
	}
	return h.Load(ctx, filepath.Base(path), b)
}

// Module is a compiled UDF module and a pool of its instances.
type Module struct {
	// Name names the module in messages (its file name).
	Name     string
	host     *Host
	compiled wazero.CompiledModule
	key      [32]byte // SHA-256 of the module's bytes
	sigs     []Signature

	mu     sync.Mutex
	idle   []*instance
	live   int // instances created and not yet closed
	closed bool
}

// Functions returns the functions the module exports, in manifest order.
func (m *Module) Functions() []Signature { return m.sigs }

// Live returns the number of open instances (idle or in use): what a test
// checks to see that nothing leaks.
func (m *Module) Live() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.live
}

// Load compiles wasm, checks it against the ABI and reads its manifest.
// name names the module in messages. The module is refused when it does
// not speak ABIVersion, imports anything but WASI, lacks an export the ABI
// requires, declares more initial memory than the limit, or has a malformed
// manifest.
func (h *Host) Load(ctx context.Context, name string, wasm []byte) (*Module, error) {
	fail := func(format string, args ...any) (*Module, error) {
		return nil, fmt.Errorf("udf module %s: %s", name, fmt.Sprintf(format, args...))
	}
	key := sha256.Sum256(wasm)
	cm, err := h.compile(ctx, key, wasm)
	if err != nil {
		return fail("%v", err)
	}
	m := &Module{Name: name, host: h, compiled: cm, key: key}
	ok := false
	defer func() {
		if !ok {
			h.releaseCompiled(ctx, key)
		}
	}()
	for _, f := range cm.ImportedFunctions() {
		mod, fn, _ := f.Import()
		if mod != wasi_snapshot_preview1.ModuleName {
			return fail("imports %s.%s: a UDF module may import only %s functions", mod, fn, wasi_snapshot_preview1.ModuleName)
		}
	}
	if len(cm.ImportedMemories()) > 0 {
		return fail("imports its memory: a UDF module must define and export its own memory")
	}
	mems := cm.ExportedMemories()
	mem, has := mems["memory"]
	if !has {
		return fail("exports no memory named \"memory\"")
	}
	if min := uint64(mem.Min()) << 16; min > h.cfg.MemoryLimit {
		return fail("declares an initial memory of %s, more than the limit of %s (udf.memory_limit)", sizeText(min), sizeText(h.cfg.MemoryLimit))
	}
	exports := cm.ExportedFunctions()
	for _, want := range []struct {
		name    string
		params  []api.ValueType
		results []api.ValueType
	}{
		{"arroyo_udf_abi", nil, []api.ValueType{api.ValueTypeI32}},
		{"arroyo_udf_manifest", nil, []api.ValueType{api.ValueTypeI64}},
		{"arroyo_udf_alloc", []api.ValueType{api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}},
		{"arroyo_udf_call", []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}},
	} {
		f, has := exports[want.name]
		if !has {
			return fail("does not export %s (is it built against the Arroyo UDF SDK? see docs/udf-abi.md)", want.name)
		}
		if !sameTypes(f.ParamTypes(), want.params) || !sameTypes(f.ResultTypes(), want.results) {
			return fail("exports %s with type %s, the ABI says %s", want.name, funcType(f.ParamTypes(), f.ResultTypes()), funcType(want.params, want.results))
		}
	}
	// A module loaded before (the same bytes) has its manifest in the
	// cache: no instance is created until a subtask needs one.
	if text := h.readCached(manifestDir, key, ".txt"); text != nil {
		if sigs, err := ParseManifest(text); err == nil {
			m.sigs = sigs
			ok = true
			return m, nil
		}
	}
	// A first instance reads the ABI version and the manifest; it then
	// serves the first subtask.
	in, err := m.instantiate(ctx)
	if err != nil {
		return fail("%v", err)
	}
	text, err := in.manifest(ctx)
	var sigs []Signature
	if err == nil {
		sigs, err = ParseManifest(text)
	}
	if err != nil {
		in.close(ctx)
		m.mu.Lock()
		m.live--
		m.mu.Unlock()
		return fail("%v", err)
	}
	h.writeCached(manifestDir, key, ".txt", text)
	m.sigs = sigs
	m.idle = append(m.idle, in)
	ok = true
	return m, nil
}

// Close closes the module's idle instances and its compiled code. Instances
// in use are closed when they are released.
func (m *Module) Close(ctx context.Context) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	idle := m.idle
	m.idle, m.closed = nil, true
	m.live -= len(idle)
	m.mu.Unlock()
	for _, in := range idle {
		in.close(ctx)
	}
	return m.host.releaseCompiled(ctx, m.key)
}

// compile returns the compiled code of wasm (whose SHA-256 is key),
// instrumented for the time limit: the code a module loaded before from
// the same bytes uses, or new code. Each call is matched by one
// releaseCompiled.
func (h *Host) compile(ctx context.Context, key [32]byte, wasm []byte) (wazero.CompiledModule, error) {
	h.mu.Lock()
	if e := h.compiled[key]; e != nil {
		e.refs++
		h.mu.Unlock()
		return e.cm, nil
	}
	h.mu.Unlock()
	// What is compiled, and cached by key: the module instrumented for the
	// time limit, or as built, each compacted (compactModule).
	dir := compactDir
	if h.cfg.CallTimeout > 0 {
		dir = instrumentedDir
	}
	if c := h.readCached(dir, key, ".wasm"); c != nil {
		if cm, err := h.rt.CompileModule(ctx, c); err == nil {
			return h.share(ctx, key, cm), nil
		}
		// A damaged cache entry: prepare the module again.
	}
	code := wasm
	if h.cfg.CallTimeout > 0 {
		ic, err := instrument(wasm)
		if err != nil {
			// wazero's message for a malformed module is the better one.
			cm, cerr := h.rt.CompileModule(ctx, wasm)
			if cerr != nil {
				return nil, fmt.Errorf("not a valid WebAssembly module: %w", cerr)
			}
			cm.Close(ctx)
			return nil, fmt.Errorf("cannot add the call time limit's checks to its code (udf.call_timeout): %w", err)
		}
		code = ic
	}
	if c, ok := compactModule(code); ok {
		if cm, err := h.rt.CompileModule(ctx, c); err == nil {
			h.writeCached(dir, key, ".wasm", c)
			return h.share(ctx, key, cm), nil
		}
		// An invalid module: the error below names what is wrong in
		// the bytes as the author built them.
	}
	cm, err := h.rt.CompileModule(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("not a valid WebAssembly module: %w", err)
	}
	if h.cfg.CallTimeout > 0 {
		h.writeCached(dir, key, ".wasm", code)
	}
	return h.share(ctx, key, cm), nil
}

// Besides wazero's compiled code, the compilation cache directory keeps,
// per module (by the SHA-256 of its bytes), the module instrumented for
// the time limit (rewriting a Go module's 3 MB costs 10-20 ms a load) or
// not, compacted (compactModule), and
// its manifest (so that a load needs no instance: a Go module's runtime
// initialization costs ~8 ms). The directories' versions change with what
// is written there; a manifest is cached only once the module's ABI
// version was checked, so its directory is per ABI version too.
const (
	instrumentedDir = "instrumented-3" // compacted and instrumented (loops wrapped, interrupt.go)
	compactDir      = "compact-1"      // compacted (no time limit)
)

var manifestDir = fmt.Sprintf("manifests-1-abi%d", ABIVersion)

func (h *Host) cachePath(dir string, key [32]byte, ext string) string {
	return filepath.Join(h.cfg.CacheDir, dir, hex.EncodeToString(key[:])+ext)
}

// readCached returns the cached file for key, nil if there is none.
func (h *Host) readCached(dir string, key [32]byte, ext string) []byte {
	if h.cfg.CacheDir == "" {
		return nil
	}
	b, err := os.ReadFile(h.cachePath(dir, key, ext))
	if err != nil {
		return nil
	}
	return b
}

// writeCached writes a file to the cache, whole or not at all (a failure
// only costs the next load the work).
func (h *Host) writeCached(dir string, key [32]byte, ext string, data []byte) {
	if h.cfg.CacheDir == "" {
		return
	}
	path := h.cachePath(dir, key, ext)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return
	}
	f, err := os.CreateTemp(filepath.Dir(path), "tmp-*")
	if err != nil {
		return
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
}

// share records cm as the code of key, or returns the code another load
// recorded meanwhile (closing cm).
func (h *Host) share(ctx context.Context, key [32]byte, cm wazero.CompiledModule) wazero.CompiledModule {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e := h.compiled[key]; e != nil { // loaded meanwhile
		e.refs++
		cm.Close(ctx)
		return e.cm
	}
	h.compiled[key] = &compiledEntry{cm: cm, refs: 1}
	return cm
}

// releaseCompiled drops a reference to the code compile returned for key,
// closing it with the last.
func (h *Host) releaseCompiled(ctx context.Context, key [32]byte) error {
	h.mu.Lock()
	e := h.compiled[key]
	if e == nil {
		h.mu.Unlock()
		return nil
	}
	e.refs--
	if e.refs > 0 {
		h.mu.Unlock()
		return nil
	}
	delete(h.compiled, key)
	h.mu.Unlock()
	return e.cm.Close(ctx)
}

// compiledEntry is compiled code shared by the modules loaded from the
// same bytes: a second Load of a module (another pipeline using it, the
// REST API validating it) neither decodes, validates nor compiles it.
type compiledEntry struct {
	cm   wazero.CompiledModule
	refs int
}

func sameTypes(a, b []api.ValueType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func funcType(params, results []api.ValueType) string {
	names := func(ts []api.ValueType) string {
		var s []string
		for _, t := range ts {
			s = append(s, api.ValueTypeName(t))
		}
		return strings.Join(s, ", ")
	}
	return "(" + names(params) + ") -> (" + names(results) + ")"
}

func sizeText(b uint64) string {
	switch {
	case b >= 1<<30 && b%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", b>>30)
	case b >= 1<<20:
		return fmt.Sprintf("%.4g MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.4g KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", b)
}

// acquire returns an idle instance, or a new one.
func (m *Module) acquire(ctx context.Context) (*instance, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, fmt.Errorf("udf module %s is closed", m.Name)
	}
	if n := len(m.idle); n > 0 {
		in := m.idle[n-1]
		m.idle = m.idle[:n-1]
		m.mu.Unlock()
		return in, nil
	}
	m.mu.Unlock()
	in, err := m.instantiate(ctx)
	if err != nil {
		return nil, fmt.Errorf("udf module %s: %w", m.Name, err)
	}
	return in, nil
}

// release returns in to the pool, or closes it when it is broken (a trap,
// a timeout: its state is unknown) or the module is closed.
func (m *Module) release(in *instance) {
	m.mu.Lock()
	if !in.broken && !m.closed && len(m.idle) < 64 {
		m.idle = append(m.idle, in)
		m.mu.Unlock()
		return
	}
	m.live--
	m.mu.Unlock()
	in.close(context.Background())
}

// instance is one instantiation of a module, used by one goroutine at a
// time.
type instance struct {
	m     *Module
	mod   api.Module
	mem   api.Memory
	alloc api.Function
	call  api.Function
	stack []uint64
	// arena is the guest's scratch region the host writes arguments to
	// (arroyo_udf_alloc), arenaCap its size.
	arena, arenaCap uint32
	log             *logWriter
	lm              *linearMemory
	broken          bool
	// interrupt is the global instrument added (nil without a time
	// limit): set to 1, it makes the guest trap at its next loop
	// iteration. timer enforces the call time limit: armed for each call,
	// it sets interrupt with timedOut set. One timer per instance, reset
	// per call: no allocation per call. A call whose context is cancelled
	// is interrupted likewise, with cancelled set.
	interrupt api.MutableGlobal
	stopping  atomic.Bool
	timer     *time.Timer
	timedOut  atomic.Bool
	cancelled atomic.Bool
}

// instantiate creates an instance: WASI with nothing granted but
// stdout/stderr (to the log), no filesystem, environment, arguments or
// real clock (wazero's defaults are a fake clock and a deterministic random
// source), and the memory limit enforced by its allocator.
func (m *Module) instantiate(ctx context.Context) (*instance, error) {
	h := m.host
	in := &instance{m: m, stack: make([]uint64, 2)}
	in.log = &logWriter{module: m.Name, sink: h.cfg.Log, limit: h.cfg.LogLimit}
	in.lm = &linearMemory{limit: h.cfg.MemoryLimit}
	// _initialize (a reactor's runtime and package initializers) is
	// called below, under the time limit, once the interrupt global can
	// be reached.
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithStdout(in.log).WithStderr(in.log).
		WithStartFunctions()
	actx := experimental.WithMemoryAllocator(ctx, experimental.MemoryAllocatorFunc(func(cap, max uint64) experimental.LinearMemory {
		return in.lm
	}))
	mod, err := h.rt.InstantiateModule(actx, m.compiled, cfg)
	if err != nil {
		return nil, in.explain("initialize", err)
	}
	in.mod = mod
	if h.cfg.CallTimeout > 0 {
		g, ok := mod.ExportedGlobal(interruptExport).(api.MutableGlobal)
		if !ok {
			mod.Close(ctx)
			return nil, fmt.Errorf("the instrumented module lacks its %s global", interruptExport)
		}
		in.interrupt = g
		in.timer = time.AfterFunc(time.Hour, func() {
			in.timedOut.Store(true)
			in.stop()
		})
		in.timer.Stop()
	}
	in.mem = mod.Memory()
	in.alloc = mod.ExportedFunction("arroyo_udf_alloc")
	in.call = mod.ExportedFunction("arroyo_udf_call")
	if init := mod.ExportedFunction("_initialize"); init != nil {
		if err := in.timed(ctx, init); err != nil {
			err = in.explain("initialize", err)
			in.close(ctx)
			return nil, err
		}
	}
	m.mu.Lock()
	m.live++
	m.mu.Unlock()
	return in, nil
}

// stop interrupts the running call (once: the instance is discarded
// after).
func (in *instance) stop() {
	if in.stopping.CompareAndSwap(false, true) {
		in.interrupt.Set(1)
	}
}

func (in *instance) close(ctx context.Context) {
	if in.timer != nil {
		in.timer.Stop()
	}
	if in.mod != nil {
		in.mod.Close(ctx)
	}
	in.log.flush()
}

// manifest checks the ABI version and returns a copy of the manifest.
func (in *instance) manifest(ctx context.Context) ([]byte, error) {
	if err := in.timed(ctx, in.mod.ExportedFunction("arroyo_udf_abi")); err != nil {
		return nil, in.explain("arroyo_udf_abi", err)
	}
	if v := uint32(in.stack[0]); v != ABIVersion {
		return nil, fmt.Errorf("speaks UDF ABI version %d; this host speaks version %d", v, ABIVersion)
	}
	if err := in.timed(ctx, in.mod.ExportedFunction("arroyo_udf_manifest")); err != nil {
		return nil, in.explain("arroyo_udf_manifest", err)
	}
	ptr, n := uint32(in.stack[0]), uint32(in.stack[0]>>32)
	if n > maxManifestBytes {
		return nil, fmt.Errorf("manifest is %d bytes, more than the %d allowed", n, maxManifestBytes)
	}
	text, ok := in.mem.Read(ptr, n)
	if !ok {
		return nil, fmt.Errorf("manifest at %d+%d lies outside guest memory (%d bytes)", ptr, n, in.mem.Size())
	}
	return append([]byte(nil), text...), nil
}

// timed calls f with the call time limit armed. ctx is the subtask's:
// when it is done (the job is cancelled) the call is interrupted too.
func (in *instance) timed(ctx context.Context, f api.Function) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if in.interrupt == nil {
		return f.CallWithStack(ctx, in.stack)
	}
	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() {
			in.cancelled.Store(true)
			in.stop()
		})
	}
	in.timer.Reset(in.m.host.cfg.CallTimeout)
	err := f.CallWithStack(ctx, in.stack)
	if !in.timer.Stop() {
		// The limit passed, maybe just after the call returned: the
		// interrupt is set or about to be.
		in.broken = true
		if err == nil {
			in.timedOut.Store(false)
		}
	}
	if stop != nil && !stop() {
		in.broken = true
	}
	return err
}

// ensureArena makes the guest scratch region at least size bytes and
// returns it.
func (in *instance) ensureArena(ctx context.Context, fn string, size uint32) ([]byte, error) {
	if size > in.arenaCap || in.arena == 0 {
		in.stack[0] = uint64(size)
		if err := in.timed(ctx, in.alloc); err != nil {
			in.broken = true
			return nil, in.explain(fn, err)
		}
		p := uint32(in.stack[0])
		if p == 0 || p%8 != 0 {
			in.broken = true
			return nil, fmt.Errorf("udf %s: arroyo_udf_alloc(%d) returned %d (want a non-zero, 8-aligned address; out of memory?)%s", fn, size, p, in.memNote())
		}
		in.arena, in.arenaCap = p, size
	}
	buf, ok := in.mem.Read(in.arena, size)
	if !ok {
		in.broken = true
		return nil, fmt.Errorf("udf %s: arroyo_udf_alloc returned %d+%d, outside guest memory (%d bytes)", fn, in.arena, size, in.mem.Size())
	}
	return buf, nil
}

// invoke calls function fn with the input already written at the arena and
// returns the result descriptor.
func (in *instance) invoke(ctx context.Context, name string, fn int) (result, error) {
	in.stack[0], in.stack[1] = uint64(fn), uint64(in.arena)
	if err := in.timed(ctx, in.call); err != nil {
		in.broken = true
		return result{}, in.explain(name, err)
	}
	p := uint32(in.stack[0])
	d, ok := in.mem.Read(p, resultSize)
	if !ok || p == 0 {
		in.broken = true
		return result{}, fmt.Errorf("udf %s: result descriptor at %d lies outside guest memory (%d bytes)", name, p, in.mem.Size())
	}
	var r result
	for i := range r {
		r[i] = binary.LittleEndian.Uint32(d[4*i:])
	}
	if r[resStatus] != 0 {
		msg, ok := in.mem.Read(r[resMsg], min(r[resMsgLen], 4096))
		if !ok {
			msg = []byte("(message outside guest memory)")
		}
		return r, fmt.Errorf("udf %s failed: %s", name, strings.ToValidUTF8(string(msg), "?"))
	}
	return r, nil
}

// explain turns an error of a guest call into a message naming what
// happened: a timeout, the memory limit, a trap, the guest exiting.
func (in *instance) explain(fn string, err error) error {
	in.broken = true
	h := in.m.host
	switch {
	case in.timedOut.Load():
		return fmt.Errorf("udf %s: call exceeded the time limit of %s (udf.call_timeout)", fn, h.cfg.CallTimeout)
	case in.cancelled.Load() || errors.Is(err, context.Canceled):
		return fmt.Errorf("udf %s: call cancelled: %w", fn, context.Canceled)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("udf %s: call cancelled: %w", fn, err)
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		switch code := exit.ExitCode(); {
		case code == sys.ExitCodeDeadlineExceeded || in.timedOut.Load():
			return fmt.Errorf("udf %s: call exceeded the time limit of %s (udf.call_timeout)", fn, h.cfg.CallTimeout)
		case code == sys.ExitCodeContextCanceled:
			return fmt.Errorf("udf %s: call cancelled: %w", fn, context.Canceled)
		}
		return fmt.Errorf("udf %s: guest exited with code %d%s%s", fn, exit.ExitCode(), in.memNote(), in.log.tailNote())
	}
	msg := err.Error()
	if i := strings.Index(msg, " (recovered by wazero)"); i >= 0 {
		msg = msg[:i]
	}
	msg = strings.SplitN(msg, "\nwasm stack trace:", 2)[0]
	return fmt.Errorf("udf %s: guest trapped: %s%s%s", fn, msg, in.memNote(), in.log.tailNote())
}

// memNote says when the instance ran into the memory limit.
func (in *instance) memNote() string {
	if in.lm.refused == 0 {
		return ""
	}
	return fmt.Sprintf(" (its memory reached the limit of %s (udf.memory_limit): growing to %s was refused)",
		sizeText(in.m.host.cfg.MemoryLimit), sizeText(in.lm.refused))
}

// linearMemory backs an instance's memory and enforces the memory limit,
// remembering a refused growth so that the error can say so.
type linearMemory struct {
	buf     []byte
	limit   uint64
	refused uint64
}

func (l *linearMemory) Reallocate(size uint64) []byte {
	if size > l.limit {
		l.refused = size
		return nil
	}
	if size <= uint64(cap(l.buf)) {
		l.buf = l.buf[:size]
		return l.buf
	}
	c := min(max(size, 2*uint64(cap(l.buf))), l.limit)
	nb := make([]byte, size, c)
	copy(nb, l.buf)
	l.buf = nb
	return nb
}

func (l *linearMemory) Free() { l.buf = nil }

// compactModule returns wasm without its custom sections (names, build id,
// producers: the host shows no guest stack traces) and with runs of
// adjacent data segments merged into one (a Go module has ~30,000 data
// segments, one per symbol; the gaps between the merged ones are filled
// with zeros, which the memory holds anyway). wazero decodes a module's
// every section on every load, also when its compiled code comes from the
// cache, so this is what a cached load of a Go module saves. Anything it
// does not understand leaves the module as it was (nil, false).
func compactModule(wasm []byte) ([]byte, bool) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return nil, false
	}
	out := append(make([]byte, 0, len(wasm)), wasm[:8]...)
	pos, dataCount := 8, -1
	var merged []byte
	segments := uint32(0)
	for pos < len(wasm) {
		id := wasm[pos]
		size, n := readLEB32(wasm[pos+1:])
		if n == 0 || uint64(pos+1+n)+uint64(size) > uint64(len(wasm)) {
			return nil, false
		}
		body := wasm[pos+1+n : pos+1+n+int(size)]
		pos += 1 + n + int(size)
		switch id {
		case 0: // custom: dropped
			continue
		case 11: // data
			var ok bool
			if merged, segments, ok = mergeDataSegments(body); !ok {
				return nil, false
			}
			body = merged
		case 12: // data count: rewritten to the merged count below
			dataCount = len(out)
		}
		out = append(out, id)
		out = binary.AppendUvarint(out, uint64(len(body)))
		out = append(out, body...)
	}
	if dataCount >= 0 {
		if merged == nil {
			return nil, false
		}
		rest := append([]byte(nil), out[dataCount:]...)
		_, n := readLEB32(rest[1:])
		_, m := readLEB32(rest[1+n:])
		cnt := binary.AppendUvarint(nil, uint64(segments))
		out = append(out[:dataCount], 12)
		out = binary.AppendUvarint(out, uint64(len(cnt)))
		out = append(out, cnt...)
		out = append(out, rest[1+n+m:]...)
	}
	return out, true
}

// maxDataGap is the most zero bytes compactModule adds between two data
// segments it merges.
const maxDataGap = 256

// mergeDataSegments rewrites a data section's body, merging each run of
// active segments of memory 0 at constant offsets that follow each other
// in memory (in order, without overlap, at most maxDataGap apart). It
// returns the new body and its segment count.
func mergeDataSegments(body []byte) ([]byte, uint32, bool) {
	count, n := readLEB32(body)
	if n == 0 {
		return nil, 0, false
	}
	pos := n
	var segs []byte
	segments := uint32(0)
	var run []byte // the bytes of the run being merged
	runAt, inRun := uint32(0), false
	flush := func() {
		if !inRun {
			return
		}
		segs = append(segs, 0, 0x41) // active, memory 0; i32.const
		segs = appendSLEB32(segs, int32(runAt))
		segs = append(segs, 0x0b) // end
		segs = binary.AppendUvarint(segs, uint64(len(run)))
		segs = append(segs, run...)
		segments++
		run, inRun = run[:0], false
	}
	for i := uint32(0); i < count; i++ {
		start := pos
		flags, n := readLEB32(body[pos:])
		if n == 0 {
			return nil, 0, false
		}
		pos += n
		// An active segment of memory 0 whose offset is one i32.const.
		if flags == 0 && pos < len(body) && body[pos] == 0x41 {
			off, m := readSLEB32(body[pos+1:])
			if m > 0 && pos+1+m < len(body) && body[pos+1+m] == 0x0b {
				p := pos + 1 + m + 1
				size, k := readLEB32(body[p:])
				if k == 0 || uint64(p+k)+uint64(size) > uint64(len(body)) {
					return nil, 0, false
				}
				data := body[p+k : p+k+int(size)]
				pos = p + k + int(size)
				at := uint32(off)
				end := uint64(runAt) + uint64(len(run))
				if inRun && uint64(at) >= end && uint64(at)-end <= maxDataGap {
					var zeros [maxDataGap]byte
					run = append(run, zeros[:uint64(at)-end]...)
					run = append(run, data...)
					continue
				}
				flush()
				run, runAt, inRun = append(run, data...), at, true
				continue
			}
		}
		// Any other segment is copied as it is, ending the run.
		flush()
		end, ok := skipDataSegment(body, start)
		if !ok {
			return nil, 0, false
		}
		segs = append(segs, body[start:end]...)
		segments++
		pos = end
	}
	flush()
	if pos != len(body) {
		return nil, 0, false
	}
	return append(binary.AppendUvarint(nil, uint64(segments)), segs...), segments, true
}

// skipDataSegment returns where the data segment at pos ends: flags, an
// optional memory index, an optional constant expression, then the bytes.
func skipDataSegment(b []byte, pos int) (int, bool) {
	flags, n := readLEB32(b[pos:])
	if n == 0 || flags > 2 {
		return 0, false
	}
	pos += n
	if flags == 2 {
		_, n := readLEB32(b[pos:])
		if n == 0 {
			return 0, false
		}
		pos += n
	}
	if flags != 1 {
		// The offset: one instruction (i32.const or global.get) and end.
		if pos >= len(b) || (b[pos] != 0x41 && b[pos] != 0x23) {
			return 0, false
		}
		_, m := readLEB32(b[pos+1:]) // a signed LEB has the same length
		if m == 0 || pos+1+m >= len(b) || b[pos+1+m] != 0x0b {
			return 0, false
		}
		pos += 1 + m + 1
	}
	size, k := readLEB32(b[pos:])
	if k == 0 || uint64(pos+k)+uint64(size) > uint64(len(b)) {
		return 0, false
	}
	return pos + k + int(size), true
}

// readLEB32 decodes an unsigned LEB128 of at most 32 bits at the start of
// b: the value and its length (0: malformed).
func readLEB32(b []byte) (uint32, int) {
	var v uint64
	for i := 0; i < 5 && i < len(b); i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			if v > 1<<32-1 {
				return 0, 0
			}
			return uint32(v), i + 1
		}
	}
	return 0, 0
}

// readSLEB32 decodes a signed LEB128 of at most 32 bits.
func readSLEB32(b []byte) (int32, int) {
	var v int64
	for i := 0; i < 5 && i < len(b); i++ {
		v |= int64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			if shift := 7 * (i + 1); shift < 64 && b[i]&0x40 != 0 {
				v |= -1 << shift
			}
			if v < -1<<31 || v > 1<<31-1 {
				return 0, 0
			}
			return int32(v), i + 1
		}
	}
	return 0, 0
}

// appendSLEB32 appends v as a signed LEB128.
func appendSLEB32(b []byte, v int32) []byte {
	x := int64(v)
	for {
		c := byte(x & 0x7f)
		x >>= 7
		if (x == 0 && c&0x40 == 0) || (x == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
