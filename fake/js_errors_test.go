package fake

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
)

var updateErrors = flag.Bool("update-errors", false, "rewrite js_errors.go's server errors from nats-server's errors.json")

// serverErrorsJSON is nats-server's server/errors.json, from the module cache.
type serverErrorJSON struct {
	Constant    string `json:"constant"`
	Code        int    `json:"code"`
	ErrorCode   int    `json:"error_code"`
	Description string `json:"description"`
}

func readServerErrorsJSON(t *testing.T) []serverErrorJSON {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/nats-io/nats-server/v2").Output()
	if err != nil {
		t.Fatalf("finding nats-server's module: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "server", "errors.json"))
	if err != nil {
		t.Fatalf("reading errors.json: %v", err)
	}
	var errs []serverErrorJSON
	if err := json.Unmarshal(b, &errs); err != nil {
		t.Fatalf("decoding errors.json: %v", err)
	}
	return errs
}

// tableVarName is the Go name of a server error's table entry: its identifier, first letters
// lower case ("JSStreamNotFoundErr" is jsStreamNotFoundErr).
func tableVarName(id string) string {
	if strings.HasPrefix(id, "JS") {
		return "js" + id[2:]
	}
	return strings.ToLower(id[:1]) + id[1:]
}

// TestErrorTable checks every server entry of the table against nats-server's own table
// (server.ApiErrors, keyed by the identifier whose value is the err_code) and errors.json: the
// identifier, code, err_code and description template, and that no server error is missing.
func TestErrorTable(t *testing.T) {
	jsonErrs := readServerErrorsJSON(t)
	if *updateErrors {
		writeServerErrors(t, jsonErrs)
		return
	}
	byCode := map[int]serverErrorJSON{}
	for _, e := range jsonErrs {
		byCode[e.ErrorCode] = e
	}
	seen := map[int]string{}
	for _, e := range serverErrorTable {
		if prev, dup := seen[e.errCode]; dup {
			t.Errorf("%s: err_code %d declared twice (also %s)", e.id, e.errCode, prev)
		}
		seen[e.errCode] = e.id
		want, ok := server.ApiErrors[server.ErrorIdentifier(e.errCode)]
		if !ok {
			t.Errorf("%s: err_code %d is not in server.ApiErrors", e.id, e.errCode)
			continue
		}
		if e.code != want.Code || e.errCode != int(want.ErrCode) || e.description != want.Description {
			t.Errorf("%s: table has {%d %d %q}, server.ApiErrors has {%d %d %q}",
				e.id, e.code, e.errCode, e.description, want.Code, want.ErrCode, want.Description)
		}
		if j := byCode[e.errCode]; j.Constant != e.id {
			t.Errorf("err_code %d: table names it %s, errors.json %s", e.errCode, e.id, j.Constant)
		}
	}
	for id := range server.ApiErrors {
		if _, ok := seen[int(id)]; !ok {
			t.Errorf("server error %s (err_code %d) is not in the table: run go test ./fake -run TestErrorTable -update-errors",
				byCode[int(id)].Constant, id)
		}
	}
}

// writeServerErrors rewrites the block of js_errors.go between the markers from errors.json.
func writeServerErrors(t *testing.T, errs []serverErrorJSON) {
	sort.Slice(errs, func(i, j int) bool { return errs[i].Constant < errs[j].Constant })
	var b bytes.Buffer
	for _, e := range errs {
		fmt.Fprintf(&b, "\t%s = serverErr(%q, %d, %d, %s)\n", tableVarName(e.Constant), e.Constant, e.Code, e.ErrorCode, strconv.Quote(e.Description))
	}
	src, err := os.ReadFile("js_errors.go")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "\t// BEGIN server errors\n", "\t// END server errors\n"
	i, j := bytes.Index(src, []byte(begin)), bytes.Index(src, []byte(end))
	if i < 0 || j < i {
		t.Fatal("js_errors.go: the server errors markers are missing")
	}
	out := append(append(append([]byte(nil), src[:i+len(begin)]...), b.Bytes()...), src[j:]...)
	if out, err = format.Source(out); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("js_errors.go", out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFakeErrorsApart checks the fake's own errors: none takes a server err_code or identifier.
func TestFakeErrorsApart(t *testing.T) {
	ids := map[string]bool{}
	for _, e := range serverErrorTable {
		ids[e.id] = true
	}
	codes := map[int]string{}
	for _, e := range fakeErrorTable {
		if _, ok := server.ApiErrors[server.ErrorIdentifier(e.errCode)]; ok {
			t.Errorf("%s: err_code %d is nats-server's", e.id, e.errCode)
		}
		if e.errCode <= 10000+len(server.ApiErrors)*4 || e.errCode > 65535 {
			t.Errorf("%s: err_code %d is not well apart from nats-server's", e.id, e.errCode)
		}
		if ids[e.id] || strings.HasPrefix(e.id, "JS") {
			t.Errorf("%s: the identifier looks like nats-server's", e.id)
		}
		if prev, dup := codes[e.errCode]; dup {
			t.Errorf("%s: err_code %d also used by %s", e.id, e.errCode, prev)
		}
		codes[e.errCode] = e.id
	}
}

// TestErrorFill checks that err fills placeholders as the server's constructors do.
func TestErrorFill(t *testing.T) {
	cases := []struct {
		got  *apiError
		want *server.ApiError
	}{
		{jsStreamWrongLastSequenceErrF.err(uint64(7)), server.NewJSStreamWrongLastSequenceError(7)},
		{jsInvalidJSONErr.err(errors.New("json: unknown field \"x\"")), server.NewJSInvalidJSONError(errors.New("json: unknown field \"x\""))},
		{jsSequenceNotFoundErrF.err(uint64(3)), server.NewJSSequenceNotFoundError(3)},
		{jsStreamWrongLastMsgIDErrF.err("abc"), server.NewJSStreamWrongLastMsgIDError("abc")},
		{jsRestoreSubscribeFailedErrF.err(errors.New("boom"), "snap.x"), server.NewJSRestoreSubscribeFailedError(errors.New("boom"), "snap.x")},
		{jsStreamExternalDelPrefixOverlapsErrF.err("dp", "foo.>"), server.NewJSStreamExternalDelPrefixOverlapsError("dp", "foo.>")},
		{jsStreamNotFoundErr.err(), server.NewJSStreamNotFoundError()},
	}
	for _, c := range cases {
		if c.got.Code != c.want.Code || c.got.ErrCode != int(c.want.ErrCode) || c.got.Description != c.want.Description {
			t.Errorf("got %+v, server sends %+v", *c.got, *c.want)
		}
	}
}

// TestErrorsOnlyFromTable parses the package's non-test files: an apiError is made only in
// js_errors.go, table entries are declared only there, and each use of an entry passes as many
// arguments as its description has placeholders.
func TestErrorsOnlyFromTable(t *testing.T) {
	entries := map[string]*jsError{}
	for _, e := range serverErrorTable {
		entries[tableVarName(e.id)] = e
	}
	for _, e := range fakeErrorTable {
		entries[tableVarName(e.id)] = e
	}
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CompositeLit:
				if id, ok := n.Type.(*ast.Ident); ok && (id.Name == "apiError" || id.Name == "jsError") && name != "js_errors.go" {
					t.Errorf("%s: a %s literal outside js_errors.go: declare the error in its table", fset.Position(n.Pos()), id.Name)
				}
			case *ast.CallExpr:
				switch fn := n.Fun.(type) {
				case *ast.Ident:
					if fn.Name == "new" && len(n.Args) == 1 && name != "js_errors.go" {
						if id, ok := n.Args[0].(*ast.Ident); ok && (id.Name == "apiError" || id.Name == "jsError") {
							t.Errorf("%s: new(%s) outside js_errors.go: declare the error in its table", fset.Position(n.Pos()), id.Name)
						}
					}
					if (fn.Name == "jsErr" || fn.Name == "serverErr" || fn.Name == "fakeErr") && name != "js_errors.go" {
						t.Errorf("%s: %s outside js_errors.go: declare the error in its table", fset.Position(n.Pos()), fn.Name)
					}
				case *ast.SelectorExpr:
					x, ok := fn.X.(*ast.Ident)
					if !ok || fn.Sel.Name != "err" {
						break
					}
					if e, ok := entries[x.Name]; ok && len(n.Args) != len(e.placeholders()) {
						t.Errorf("%s: %s.err has %d arguments, its description %q has %d placeholders",
							fset.Position(n.Pos()), x.Name, len(n.Args), e.description, len(e.placeholders()))
					}
				}
			}
			return true
		})
	}
}
