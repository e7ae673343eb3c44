// Package apihost adapts the wasm UDF host (udf/wasm) to the control
// plane's api.UDFHost: it checks uploaded modules for POST /udfs and
// /udfs/validate, and builds the function registry a pipeline calling
// stored UDFs is planned and run with. cmd/arroyo wires it into the API and
// the cluster runner, so that controlplane itself imports no udf code.
//
// Compiled modules are cached for the host's life, by UDF name and the
// SHA-256 of the module's bytes: every plan of a pipeline (validation,
// creation, each restart) and every pipeline calling the same UDF share
// one compiled module and its pool of instances. Deleting a UDF does not
// evict it (a job started before may still be running it); a new module
// stored under the same name is another cache entry.
//
// It may import udf/wasm, controlplane/api, controlplane/store and
// engine/expr only; nothing imports it but cmd.
package apihost

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/arroyogo/arroyo/controlplane/api"
	"github.com/arroyogo/arroyo/controlplane/store"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/udf/wasm"
)

// Host is an api.UDFHost over one wasm host.
type Host struct {
	h *wasm.Host

	mu     sync.Mutex
	mods   map[key]*wasm.Module
	closed bool
}

type key struct {
	name string
	sum  [sha256.Size]byte
}

var _ api.UDFHost = (*Host)(nil)

// New starts a wasm host with cfg.
func New(ctx context.Context, cfg wasm.Config) (*Host, error) {
	h, err := wasm.NewHost(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Host{h: h, mods: map[key]*wasm.Module{}}, nil
}

// Close closes every cached module and the wasm host: call it after the
// jobs using them have ended.
func (h *Host) Close(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	mods := h.mods
	h.mods = map[key]*wasm.Module{}
	h.mu.Unlock()
	var errs []error
	for _, m := range mods {
		errs = append(errs, m.Close(ctx))
	}
	return errors.Join(append(errs, h.h.Close(ctx))...)
}

// Validate implements api.UDFHost: it loads module as the runtime would
// (ABI version, imports, memory, manifest) and returns the name of the
// function it exports when it exports exactly one; a module exporting
// several needs a name from the request ("" here). The module is not
// kept.
func (h *Host) Validate(ctx context.Context, module []byte) (string, error) {
	m, err := h.h.Load(ctx, "(uploaded)", module)
	if err != nil {
		// "udf module (uploaded): ..." -> what is wrong, for the API's
		// "definition: ..." prefix.
		return "", errors.New(strings.TrimPrefix(err.Error(), "udf module (uploaded): "))
	}
	defer m.Close(ctx)
	fs := m.Functions()
	switch len(fs) {
	case 0:
		return "", errors.New("the module's manifest declares no function")
	case 1:
		return fs[0].Name, nil
	}
	return "", nil
}

// Functions implements api.UDFHost: a scope over the built-ins holding
// every function of the udfs' modules. A function two of them export, or
// one named like a built-in, is an error naming both.
func (h *Host) Functions(ctx context.Context, udfs []*store.UDF) (*expr.Registry, error) {
	mods := make([]*wasm.Module, 0, len(udfs))
	for _, u := range udfs {
		m, err := h.module(ctx, u)
		if err != nil {
			return nil, err
		}
		mods = append(mods, m)
	}
	reg := expr.Builtins().Scope()
	if err := wasm.Register(reg, mods...); err != nil {
		return nil, err
	}
	return reg, nil
}

// module returns u's compiled module, loading it on first use.
func (h *Host) module(ctx context.Context, u *store.UDF) (*wasm.Module, error) {
	k := key{name: u.Name, sum: sha256.Sum256(u.Module)}
	h.mu.Lock()
	m, ok := h.mods[k]
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return nil, errors.New("udf host is closed")
	}
	if ok {
		return m, nil
	}
	// Compiled outside the lock (it can take a while); a concurrent load
	// of the same module keeps the first and closes its own.
	m, err := h.h.Load(ctx, u.Name, u.Module)
	if err != nil {
		return nil, fmt.Errorf("stored udf '%s' (%s): %w", u.Name, u.ID, err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if prev, ok := h.mods[k]; ok {
		m.Close(ctx)
		return prev, nil
	}
	if h.closed {
		m.Close(ctx)
		return nil, errors.New("udf host is closed")
	}
	h.mods[k] = m
	return m, nil
}
