package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/arroyogo/arroyo/controlplane/store"
)

type (
	udfPostIn     struct{ Body UdfPost }
	udfOut        struct{ Body GlobalUdf }
	udfsOut       struct{ Body GlobalUdfCollection }
	udfValidateIn struct{ Body ValidateUdfPost }
	udfValidOut   struct{ Body UdfValidationResult }
)

var wasmMagic = []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}

var udfName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (s *Server) udfRoutes() {
	tags := []string{"udfs"}
	op(s, huma.Operation{OperationID: "get_udfs", Method: http.MethodGet, Path: Prefix + "/udfs", Summary: "List UDFs", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*udfsOut, error) {
			us, err := s.opts.Store.ListUDFs(ctx)
			if err != nil {
				return nil, s.storeErr(err)
			}
			out := &udfsOut{Body: GlobalUdfCollection{Data: []GlobalUdf{}}}
			for i := range us {
				out.Body.Data = append(out.Body.Data, udfView(&us[i]))
			}
			return out, nil
		})
	op(s, huma.Operation{OperationID: "create_udf", Method: http.MethodPost, Path: Prefix + "/udfs", Summary: "Create a UDF from a WebAssembly module", Tags: tags, Errors: []int{http.StatusConflict}},
		func(ctx context.Context, in *udfPostIn) (*udfOut, error) {
			name, err := s.validateUDF(ctx, in.Body.Language, in.Body.Definition, in.Body.Name)
			if err != nil {
				return nil, err
			}
			if name == "" {
				return nil, badRequest("name: required (the module does not declare one)")
			}
			u := &store.UDF{Name: name, Language: "wasm", Module: in.Body.Definition, Description: in.Body.Description}
			if err := s.opts.Store.CreateUDF(ctx, u); err != nil {
				return nil, s.storeErr(err)
			}
			return &udfOut{Body: udfView(u)}, nil
		})
	op(s, huma.Operation{OperationID: "delete_udf", Method: http.MethodDelete, Path: Prefix + "/udfs/{id}", Summary: "Delete a UDF", Tags: tags},
		func(ctx context.Context, in *idPath) (*struct{}, error) {
			u, err := s.opts.Store.GetUDF(ctx, in.ID)
			if err != nil {
				return nil, s.storeErr(err)
			}
			users, err := s.udfUsers(ctx, u.Name)
			if err != nil {
				return nil, s.storeErr(err)
			}
			if len(users) > 0 {
				return nil, conflict("udf '%s' (%s) is used by pipelines that run or will resume: %s; stop them (PATCH stop) or delete them first", u.Name, u.ID, strings.Join(users, ", "))
			}
			return nil, s.storeErr(s.opts.Store.DeleteUDF(ctx, in.ID))
		})
	op(s, huma.Operation{OperationID: "validate_udf", Method: http.MethodPost, Path: Prefix + "/udfs/validate", Summary: "Check a UDF module without storing it", Tags: tags},
		func(ctx context.Context, in *udfValidateIn) (*udfValidOut, error) {
			out := &udfValidOut{Body: UdfValidationResult{Errors: []string{}}}
			name, err := s.validateUDF(ctx, in.Body.Language, in.Body.Definition, "")
			if err != nil {
				if e, ok := err.(*Error); ok && e.status == http.StatusBadRequest {
					out.Body.Errors = append(out.Body.Errors, e.Msg)
					return out, nil
				}
				return nil, err
			}
			if name != "" {
				out.Body.UdfName = &name
			}
			return out, nil
		})
}

// validateUDF checks a module and returns the UDF's name: given, or the
// one the module declares.
func (s *Server) validateUDF(ctx context.Context, language string, module []byte, name string) (string, error) {
	if language != "" && language != "wasm" {
		return "", badRequest("language: only 'wasm' modules are supported, not '%s'", language)
	}
	if len(module) == 0 {
		return "", badRequest("definition: the wasm module (base64) is empty")
	}
	if !bytes.HasPrefix(module, wasmMagic) {
		return "", badRequest("definition: not a WebAssembly module (it must start with \\0asm and version 1)")
	}
	if s.opts.UDFs != nil {
		declared, err := s.opts.UDFs.Validate(ctx, module)
		if err != nil {
			return "", badRequest("definition: %s", err)
		}
		if name == "" {
			name = declared
		}
	}
	if name != "" && !udfName.MatchString(name) {
		return "", badRequest("name: '%s' is not a SQL function name (letters, digits, '_')", name)
	}
	return name, nil
}

// callRE finds what looks like a function call: a name and "(".
var callRE = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)\s*\(`)

// calledUDFs adds to listed the stored UDFs the query calls by name, as
// Arroyo's global UDFs: usable from any pipeline without listing them in
// its udfs. A name is matched against the UDFs' names (for a module
// exporting one function, that function's name), case-insensitively, in
// the query's text; listing more than it calls costs only their loading.
// A module stored under another name than the functions it exports must
// still be listed. Without a wasm host nothing is added (and a listed UDF
// is refused when planning).
func (s *Server) calledUDFs(ctx context.Context, query string, listed []string) ([]string, error) {
	if s.opts.UDFs == nil {
		return listed, nil
	}
	calls := map[string]bool{}
	for _, m := range callRE.FindAllStringSubmatch(query, -1) {
		calls[strings.ToLower(m[1])] = true
	}
	us, err := s.opts.Store.ListUDFs(ctx)
	if err != nil {
		return nil, s.storeErr(err)
	}
	out := listed
	for i := len(us) - 1; i >= 0; i-- { // oldest first: a stable order
		n := us[i].Name
		if calls[strings.ToLower(n)] && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// udfUsers returns the pipelines calling the UDF name that run or will
// resume without a request: a job not yet stopped, finished or failed, or
// stop = none with a job that did not finish or fail (the cluster resumes
// those when it restarts). Deleting the UDF would make their next start
// (a restart after a failure, a rescale, a cluster restart) fail, so the
// delete is refused (409) while there are any. A stopped pipeline does not
// hold its UDFs: resuming it after the UDF is gone is a 400 naming it.
func (s *Server) udfUsers(ctx context.Context, name string) ([]string, error) {
	ps, _, err := s.opts.Store.ListPipelines(ctx, store.Page{})
	if err != nil {
		return nil, err
	}
	var users []string
	for i := range ps {
		p := &ps[i]
		if !slices.Contains(p.UDFs, name) {
			continue
		}
		jobs, err := s.opts.Store.ListJobs(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		live := len(jobs) > 0 && !store.Terminal(jobs[0].State)
		resumes := p.Stop == store.StopNone && !p.Preview &&
			(len(jobs) == 0 || (jobs[0].State != store.JobFinished && jobs[0].State != store.JobFailed))
		if live || resumes {
			users = append(users, p.ID)
		}
	}
	return users, nil
}

func udfView(u *store.UDF) GlobalUdf {
	return GlobalUdf{
		ID: u.ID, Name: u.Name, CreatedAt: micros(u.CreatedAt), UpdatedAt: micros(u.UpdatedAt),
		Definition:  fmt.Sprintf("wasm module, %d bytes, sha256 %x", len(u.Module), sha256.Sum256(u.Module)),
		Description: u.Description, Language: u.Language,
	}
}
