package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/arroyogo/arroyo/controlplane/config"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/udf/wasm"
)

// udfHostConfig is the wasm host's configuration from the [udf] section;
// guest output goes to stderr, a line at a time.
func udfHostConfig(cfg config.Config, stderr io.Writer) wasm.Config {
	c := wasm.Config{
		CacheDir:    cfg.UDF.CacheDir,
		MemoryLimit: uint64(cfg.UDF.MemoryLimit),
		CallTimeout: cfg.UDF.CallTimeout,
	}
	switch c.CacheDir {
	case "":
		c.CacheDir = wasm.DefaultCacheDir()
	case "off":
		c.CacheDir = ""
	}
	var mu sync.Mutex
	c.Log = func(module, line string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stderr, "udf %s: %s\n", module, line)
	}
	return c
}

// loadUDFs loads the modules at paths (run.udfs, then --udf) into a new
// scope over the built-ins. It returns nil and a no-op close without
// paths. close closes the host, after the job has ended.
func loadUDFs(ctx context.Context, cfg config.Config, paths []string, stderr io.Writer) (reg *expr.Registry, close func(), err error) {
	if len(paths) == 0 {
		return nil, func() {}, nil
	}
	h, err := wasm.NewHost(ctx, udfHostConfig(cfg, stderr))
	if err != nil {
		return nil, nil, err
	}
	close = func() { h.Close(context.Background()) }
	var mods []*wasm.Module
	seen := map[string]bool{}
	for _, p := range paths {
		abs, _ := filepath.Abs(p)
		if seen[abs] {
			continue // the same file in run.udfs and --udf
		}
		seen[abs] = true
		m, err := h.LoadFile(ctx, p)
		if err != nil {
			close()
			return nil, nil, err
		}
		mods = append(mods, m)
	}
	reg = expr.Builtins().Scope()
	if err := wasm.Register(reg, mods...); err != nil {
		close()
		return nil, nil, err
	}
	return reg, close, nil
}

func newUDF(configFile *string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "udf",
		Short: "Inspect and create WebAssembly UDF modules",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "inspect PATH.wasm...",
		Short: "Print the functions a UDF module exports and their SQL signatures",
		Long: `Inspect loads each module as arroyo run --udf would (the same checks:
ABI version, imports, memory, manifest) and prints its functions, one per
line, as "scalar NAME(ARG TYPES) -> RESULT" or "aggregate ...". A type
followed by NULL may be NULL: an argument that is not nullable is never
passed a NULL (the row's result is NULL without a call).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(*configFile, os.Environ())
			if err != nil {
				return err
			}
			return inspectUDFs(cmd.Context(), cfg, args, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	})
	var lang, sdk string
	newCmd := &cobra.Command{
		Use:   "new --lang go NAME",
		Short: "Create a buildable UDF project in the directory NAME",
		Long: `New writes a UDF project in a new directory NAME: a Go module with one
example scalar function and one aggregate, and a README saying how to build
it (GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared) and run it
(arroyo run --udf NAME.wasm pipeline.sql). --sdk points the project's
go.mod at a checkout of the Go UDF SDK (udf/sdk/go of this repository);
by default it is found when arroyo runs inside one.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if lang != "go" {
				return fmt.Errorf("--lang %q: the supported language is go (for C, see docs/udfs.md)", lang)
			}
			return newGoUDF(args[0], sdk, cmd.OutOrStdout())
		},
	}
	newCmd.Flags().StringVar(&lang, "lang", "go", "the project's language (go)")
	newCmd.Flags().StringVar(&sdk, "sdk", "", "directory of the Go UDF SDK (udf/sdk/go), for a replace directive in go.mod")
	cmd.AddCommand(newCmd)
	return cmd
}

func inspectUDFs(ctx context.Context, cfg config.Config, paths []string, stdout, stderr io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	h, err := wasm.NewHost(ctx, udfHostConfig(cfg, stderr))
	if err != nil {
		return err
	}
	defer h.Close(context.Background())
	var errs []error
	for i, p := range paths {
		m, err := h.LoadFile(ctx, p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		fs := m.Functions()
		fmt.Fprintf(stdout, "%s: UDF ABI %d, %d function%s\n", p, wasm.ABIVersion, len(fs), plural(len(fs)))
		for _, s := range fs {
			fmt.Fprintf(stdout, "  %s\n", s)
		}
	}
	return errors.Join(errs...)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

var projectName = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

const sdkModule = "github.com/arroyogo/arroyo/udf/sdk/go"

// newGoUDF writes a Go UDF project into the new directory dir.
func newGoUDF(dir, sdk string, stdout io.Writer) error {
	name := filepath.Base(dir)
	if !projectName.MatchString(name) {
		return fmt.Errorf("udf new %s: the name must be lower-case letters, digits, '-' and '_', starting with a letter", name)
	}
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("udf new: %s already exists", dir)
	}
	if sdk == "" {
		sdk = findSDK()
	}
	gomod := "module " + name + "\n\ngo 1.24\n\nrequire " + sdkModule + " v0.0.0\n"
	if sdk != "" {
		abs, err := filepath.Abs(sdk)
		if err != nil {
			return err
		}
		if _, err := os.Stat(filepath.Join(abs, "go.mod")); err != nil {
			return fmt.Errorf("udf new: --sdk %s: no go.mod there (want the udf/sdk/go directory of an Arroyo checkout)", sdk)
		}
		gomod += "\nreplace " + sdkModule + " => " + abs + "\n"
	}
	fn := strings.ReplaceAll(name, "-", "_")
	files := map[string]string{
		"go.mod":    gomod,
		"main.go":   strings.ReplaceAll(goTemplate, "NAME", fn),
		"README.md": strings.ReplaceAll(strings.ReplaceAll(readmeTemplate, "FILE", name), "NAME", fn),
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for f, text := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(text), 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "created %s: build it with\n  cd %s && GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o %s.wasm .\n", dir, dir, name)
	if sdk == "" {
		fmt.Fprintf(stdout, "note: go.mod requires %s; point it at your SDK checkout with\n  go mod edit -replace %s=/path/to/arroyo/udf/sdk/go\n", sdkModule, sdkModule)
	}
	return nil
}

// findSDK returns the udf/sdk/go directory of the checkout the working
// directory is in, or "".
func findSDK() string {
	d, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(d, "udf", "sdk", "go")
		if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
			return p
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}

const goTemplate = `// Command NAME is an Arroyo UDF module. Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o NAME.wasm .
//
// and inspect it with arroyo udf inspect NAME.wasm.
package main

import sdk "github.com/arroyogo/arroyo/udf/sdk/go"

// Register the functions in init: the host runs the module's initializers
// and never calls main.
func init() {
	// A scalar function: NAME(TEXT) -> TEXT, the text with its ASCII
	// letters upper-cased, called for every row whose argument is not
	// NULL (sdk.Scalar1 with a *string argument sees NULLs). It appends its
	// result to the result column (no string allocated per row); a module
	// that imports no package beyond the SDK stays small and loads fast
	// (docs/udfs.md, "Writing fast Go UDFs").
	sdk.AppendText1("NAME", func(dst []byte, s string) []byte {
		for i := 0; i < len(s); i++ {
			c := s[i]
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
		}
		return dst
	})

	// An aggregate: NAME_sum(BIGINT) -> BIGINT over each group's values.
	sdk.Aggregate1("NAME_sum", func(xs []int64) int64 {
		var t int64
		for _, x := range xs {
			t += x
		}
		return t
	})
}

func main() {}
`

const readmeTemplate = "# NAME\n\nAn Arroyo UDF module in Go.\n\n```sh\n" +
	"GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o FILE.wasm .\n" +
	"arroyo udf inspect FILE.wasm\n" +
	"arroyo run --udf FILE.wasm pipeline.sql\n```\n\n" +
	"In SQL: `SELECT NAME(name), NAME_sum(amount) FROM ... GROUP BY ...`.\n" +
	"See docs/udfs.md of the Arroyo repository for the types, NULL handling and limits.\n"
