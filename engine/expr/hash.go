package expr

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// Hashing and encoding, as DataFusion: sha224/sha256/sha384/sha512 and
// digest return BYTEA (Binary), md5 returns its hex TEXT; encode turns TEXT
// or BYTEA into hex or base64 TEXT, decode turns such TEXT back into
// BYTEA. base64 is written without padding and read with or without it,
// as DataFusion's encode and decode do.

// pBin accepts TEXT or BYTEA as they are (the kernels read the bytes).
var pBin = param{"TEXT or BYTEA", func(t types.Type) (types.Type, bool) {
	switch t.Kind {
	case types.String, types.Bytes:
		return t, true
	case types.Null:
		return types.StringT, true
	}
	return t, false
}}

// digestAlgos are the algorithms of digest(x, algo) by name.
var digestAlgos = map[string]func(dst, x []byte) []byte{
	"md5":    func(dst, x []byte) []byte { s := md5.Sum(x); return append(dst, s[:]...) },
	"sha224": func(dst, x []byte) []byte { s := sha256.Sum224(x); return append(dst, s[:]...) },
	"sha256": func(dst, x []byte) []byte { s := sha256.Sum256(x); return append(dst, s[:]...) },
	"sha384": func(dst, x []byte) []byte { s := sha512.Sum384(x); return append(dst, s[:]...) },
	"sha512": func(dst, x []byte) []byte { s := sha512.Sum512(x); return append(dst, s[:]...) },
}

const digestNames = "md5, sha224, sha256, sha384, sha512"

func digestAlgo(name []byte) (func(dst, x []byte) []byte, error) {
	if f, ok := digestAlgos[strings.ToLower(str(name))]; ok {
		return f, nil
	}
	return nil, fmt.Errorf("unsupported digest algorithm '%s' (supported: %s)", name, digestNames)
}

// codec is an encoding of encode/decode.
type codec struct {
	enc func(dst, x []byte) []byte
	dec func(dst, x []byte) ([]byte, error)
}

var b64 = base64.StdEncoding.WithPadding(base64.NoPadding)

var codecs = map[string]codec{
	"hex": {
		enc: hex.AppendEncode,
		dec: func(dst, x []byte) ([]byte, error) {
			out, err := hex.AppendDecode(dst, x)
			if err != nil {
				return dst, fmt.Errorf("invalid hex input: %v", err)
			}
			return out, nil
		},
	},
	"base64": {
		enc: b64.AppendEncode,
		dec: func(dst, x []byte) ([]byte, error) {
			for len(x) > 0 && x[len(x)-1] == '=' {
				x = x[:len(x)-1]
			}
			out, err := b64.AppendDecode(dst, x)
			if err != nil {
				return dst, fmt.Errorf("invalid base64 input: %v", err)
			}
			return out, nil
		},
	},
}

func codecOf(name []byte) (codec, error) {
	if c, ok := codecs[strings.ToLower(str(name))]; ok {
		return c, nil
	}
	return codec{}, fmt.Errorf("unsupported encoding '%s' (supported: base64, hex)", name)
}

// bytesKernel is textKernel with a result of type t.
func bytesKernel(t types.Type, setup func(args []coldata.Vector) textRow) Kernel {
	k := textKernel(setup)
	return func(al *coldata.Allocator, args []coldata.Vector, n int, sel []int32) (coldata.Vector, error) {
		v, err := k(al, args, n, sel)
		if err != nil {
			return nil, err
		}
		v.(*coldata.Bytes).T = t
		return v, nil
	}
}

// namedArg is a kernel whose second argument names a method (an algorithm,
// an encoding), looked up once when it is a constant and per row
// otherwise; an unknown constant name is a planning error.
func namedArg[M any](result types.Type, lookup func([]byte) (M, error), row func(m M, dst, x []byte) ([]byte, error)) (Kernel, func([]*scalar) (Kernel, error)) {
	build := func(fixed *M) Kernel {
		return bytesKernel(result, func(args []coldata.Vector) textRow {
			x, name := textArg(args, 0), textArg(args, 1)
			return func(dst []byte, i int) ([]byte, error) {
				if fixed != nil {
					return row(*fixed, dst, x.Get(i))
				}
				m, err := lookup(name.Get(i))
				if err != nil {
					return dst, err
				}
				return row(m, dst, x.Get(i))
			}
		})
	}
	prepare := func(consts []*scalar) (Kernel, error) {
		if consts[1] == nil {
			return nil, nil
		}
		m, err := lookup(consts[1].s)
		if err != nil {
			return nil, &argError{arg: 1, err: err}
		}
		return build(&m), nil
	}
	return build(nil), prepare
}

func withPrepare(resolve func([]types.Type) (*Resolved, error), prepare func([]*scalar) (Kernel, error)) func([]types.Type) (*Resolved, error) {
	return func(args []types.Type) (*Resolved, error) {
		r, err := resolve(args)
		if err != nil {
			return nil, err
		}
		r.prepare = prepare
		return r, nil
	}
}

func init() {
	for _, name := range []string{"sha224", "sha256", "sha384", "sha512"} {
		f := digestAlgos[name]
		register(&Func{Name: name, Description: name + " digest as BYTEA (wrap in encode(..., 'hex') for text)",
			Resolve: sigs(name, types.BytesT, bytesKernel(types.BytesT, func(args []coldata.Vector) textRow {
				x := textArg(args, 0)
				return func(dst []byte, i int) ([]byte, error) { return f(dst, x.Get(i)), nil }
			}), sig{pBin})})
	}
	dk, dp := namedArg(types.BytesT, digestAlgo, func(f func(dst, x []byte) []byte, dst, x []byte) ([]byte, error) {
		return f(dst, x), nil
	})
	register(&Func{Name: "digest", Description: "digest(x, algorithm) as BYTEA; algorithm one of " + digestNames,
		Resolve: withPrepare(sigs("digest", types.BytesT, dk, sig{pBin, pText}), dp)})
	ek, ep := namedArg(types.StringT, codecOf, func(c codec, dst, x []byte) ([]byte, error) { return c.enc(dst, x), nil })
	register(&Func{Name: "encode", Description: "encode(x, 'hex' | 'base64'): TEXT or BYTEA as text",
		Resolve: withPrepare(sigs("encode", types.StringT, ek, sig{pBin, pText}), ep)})
	xk, xp := namedArg(types.BytesT, codecOf, func(c codec, dst, x []byte) ([]byte, error) { return c.dec(dst, x) })
	register(&Func{Name: "decode", Description: "decode(text, 'hex' | 'base64'): the BYTEA the text encodes",
		Resolve: withPrepare(sigs("decode", types.BytesT, xk, sig{pBin, pText}), xp)})
}
