// Package apicheck enforces the project's public-API standard on the whole
// module: every non-main package has a package doc comment, and every
// exported name — type, function, method of an exported type, constant and
// variable — has a doc comment. A constant or variable group with a doc
// comment documents all its members; in an undocumented group each exported
// member needs its own comment (above it or at the end of its line). The
// methods of an exported interface need their own comments too, unless the
// interface has just the one method, which its type comment then describes
// (as io.Reader's does). Struct fields are not checked.
//
// It also checks that every library package outside examples/ has at least
// one Example function, and that the main entry points listed in
// entryExamples have theirs.
//
// It lives under appeal/internal because the repository's top level is
// fixed; it only reads source files, so it checks every package wherever it
// sits. Run it alone with
//
//	go test ./appeal/internal/apicheck
package apicheck

import (
	"errors"
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestExportedNamesDocumented fails with one line per undocumented exported
// name (file:line, relative to the module root), grouped by package in
// subtests so that `go test -run TestExportedNamesDocumented/route` narrows
// the report to one package.
func TestExportedNamesDocumented(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := loadPackages(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 10 {
		// The module has well over ten library packages; finding fewer means
		// the walk went wrong and the check would pass vacuously.
		t.Fatalf("found only %d library packages under %s", len(pkgs), root)
	}
	for _, p := range pkgs {
		t.Run(p.rel, func(t *testing.T) {
			for _, gap := range undocumented(p) {
				t.Error(gap)
			}
		})
	}
}

// entryExamples names, per package, the Example functions of its main entry
// points: what a reader looks for first. A Run that needs a *testing.T
// (storetest, sourcetest) has an Example showing the shape of the call.
var entryExamples = map[string][]string{
	".":                      {"ExampleNew", "ExampleLoadDeployment"},
	"appeal/incident":        {"ExampleGroup", "ExampleGrouper_Add"},
	"appeal/report":          {"ExampleWriteHTML", "ExampleWriteCSV"},
	"appeal/sqlstore":        {"ExampleOpen"},
	"appeal/stats":           {"ExampleNew", "ExampleFromSlice"},
	"appeal/stats/statstest": {"ExampleGenerate"},
	"appeal/storetest":       {"ExampleRun"},
	"source":                 {"ExampleRetry", "ExampleOpenFileCheckpoints"},
	"source/instagram":       {"ExampleNew", "ExampleNewWebhook"},
	"source/max":             {"ExampleNew", "ExampleNewWebhook"},
	"source/ok":              {"ExampleNew"},
	"source/replay":          {"ExampleNew"},
	"source/sourcetest":      {"ExampleRun"},
	"source/telegram":        {"ExampleNew", "ExampleNewWebhook"},
	"source/vk":              {"ExampleNewMonitor", "ExampleNewCallbackHandler"},
	"source/webhook":         {"ExampleNew"},
}

// TestPackagesHaveExamples fails for a library package outside examples/
// without any Example function, and for a missing entry-point Example.
func TestPackagesHaveExamples(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := loadPackages(root)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, p := range pkgs {
		seen[p.rel] = true
		if p.rel == "examples" || strings.HasPrefix(p.rel, "examples/") {
			continue // helpers of the example programs, not API
		}
		have, err := exampleFuncs(filepath.Join(root, filepath.FromSlash(p.rel)))
		if err != nil {
			t.Fatal(err)
		}
		if len(have) == 0 {
			t.Errorf("%s: no Example function in its _test.go files", p.rel)
		}
		for _, want := range entryExamples[p.rel] {
			if !have[want] {
				t.Errorf("%s: no %s", p.rel, want)
			}
		}
	}
	for rel := range entryExamples {
		if !seen[rel] {
			t.Errorf("entryExamples lists %s, which is not a library package any more", rel)
		}
	}
}

// exampleFuncs returns the names of the Example functions in dir's test
// files.
func exampleFuncs(dir string) (map[string]bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	out := map[string]bool{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("apicheck: %w", err)
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && strings.HasPrefix(fd.Name.Name, "Example") {
				out[fd.Name.Name] = true
			}
		}
	}
	return out, nil
}

// TestCheckerFindsGaps runs the checker on a small package written with one
// gap of every kind it must catch, and with the documented forms it must
// accept, so that the module-wide test cannot pass because the checker
// looks at nothing.
func TestCheckerFindsGaps(t *testing.T) {
	const src = `package bad

// Doc is documented.
type Doc struct{}

type NoDoc struct{}

// M is documented.
func (Doc) M() {}

func (Doc) N() {}

func (*NoDoc) P() {}

func (unexported) Q() {}

type unexported struct{}

// F is documented.
func F() {}

func G() *Doc { return nil }

// Group documents all its members.
const (
	A = 1
	B = 2
)

const (
	// C has its own comment.
	C = 3
	D = 4 // D has a line comment.
	E = 5
	f = 6
)

var V, W int

//go:noinline
func H() {}

// One's single method is described here.
type One interface{ Do() }

// Two needs comments on its methods.
type Two interface {
	// Do is documented.
	Do()
	Undo()
	Redo() // Redo has a line comment.
	fmt.Stringer
}
`
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.go")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	pkgs, err := loadPackages(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 1 {
		t.Fatalf("got %d packages, want 1", len(pkgs))
	}
	var got []string
	for _, gap := range undocumented(pkgs[0]) {
		// "bad.go:7: type NoDoc has no doc comment" → "7 type NoDoc"
		pos, rest, _ := strings.Cut(gap, ": ")
		got = append(got, pos[strings.LastIndex(pos, ":")+1:]+" "+strings.TrimSuffix(rest, " has no doc comment"))
	}
	want := []string{
		"1 package bad",
		"6 type NoDoc",
		"11 method Doc.N",
		"13 method NoDoc.P",
		"22 func G",
		"34 const E",
		"38 var V",
		"38 var W",
		"41 func H",
		"50 method Two.Undo",
	}
	if !slices.Equal(got, want) {
		t.Errorf("gaps:\n got %q\nwant %q", got, want)
	}
}

// pkg is one parsed library package.
type pkg struct {
	rel   string // directory relative to the module root, "." for the root
	fset  *token.FileSet
	root  string // module root, to print positions relative to it
	files []*ast.File
}

// moduleRoot walks up from the working directory (the test's package
// directory) to the directory holding go.mod. Walking is much faster than
// asking `go env GOMOD` and needs no toolchain on PATH.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("apicheck: no go.mod above the working directory")
		}
		dir = parent
	}
}

// loadPackages parses the non-test Go files of every directory under root,
// skipping what the go tool skips (testdata, vendor, names starting with "."
// or "_", nested modules) and main packages, which export nothing.
func loadPackages(root string) ([]pkg, error) {
	var pkgs []pkg
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != root {
			if name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir
			}
		}
		p, ok, err := parseDir(root, path)
		if err != nil {
			return err
		}
		if ok {
			pkgs = append(pkgs, p)
		}
		return nil
	})
	return pkgs, err
}

// parseDir parses the library files of one directory. Files whose package
// clause differs from the directory's package (a `//go:build ignore`
// generator, say) are left out, as the go tool leaves them out.
func parseDir(root, dir string) (pkg, bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return pkg{}, false, err
	}
	rel, err := filepath.Rel(root, dir)
	if err != nil {
		return pkg{}, false, err
	}
	p := pkg{rel: filepath.ToSlash(rel), fset: token.NewFileSet(), root: root}
	byName := map[string][]*ast.File{}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") ||
			strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") {
			continue
		}
		f, err := parser.ParseFile(p.fset, filepath.Join(dir, n), nil, parser.ParseComments)
		if err != nil {
			return pkg{}, false, fmt.Errorf("apicheck: %w", err)
		}
		pn := f.Name.Name
		if byName[pn] == nil {
			names = append(names, pn)
		}
		byName[pn] = append(byName[pn], f)
	}
	// The package is the one most files belong to (ignored generators are
	// the odd ones out); main packages are programs, not API.
	best := ""
	for _, n := range names {
		if best == "" || len(byName[n]) > len(byName[best]) {
			best = n
		}
	}
	if best == "" || best == "main" {
		return pkg{}, false, nil
	}
	p.files = byName[best]
	return p, true, nil
}

// undocumented lists the package's gaps as "file:line: what has no doc
// comment", in source order.
func undocumented(p pkg) []string {
	type gap struct {
		pos  token.Position
		what string
	}
	var gaps []gap
	seen := map[token.Pos]bool{}
	add := func(pos token.Pos, what string) {
		if seen[pos] {
			return
		}
		seen[pos] = true
		gaps = append(gaps, gap{p.fset.Position(pos), what})
	}

	d, err := doc.NewFromFiles(p.fset, p.files, "example.invalid/"+p.rel)
	if err != nil {
		return []string{fmt.Sprintf("%s: go/doc: %v", p.rel, err)}
	}
	if strings.TrimSpace(d.Doc) == "" {
		// Point at the first file's package clause: any file may carry it.
		first := p.files[0]
		for _, f := range p.files[1:] {
			if p.fset.Position(f.Package).Filename < p.fset.Position(first.Package).Filename {
				first = f
			}
		}
		add(first.Package, "package "+d.Name)
	}

	values := func(vs []*doc.Value) {
		for _, v := range vs {
			if strings.TrimSpace(v.Doc) != "" {
				continue
			}
			kind := v.Decl.Tok.String()
			for _, s := range v.Decl.Specs {
				vs := s.(*ast.ValueSpec)
				if hasText(vs.Doc) || hasText(vs.Comment) {
					continue
				}
				for _, n := range vs.Names {
					if n.IsExported() {
						add(n.Pos(), kind+" "+n.Name)
					}
				}
			}
		}
	}
	funcs := func(fs []*doc.Func) {
		for _, f := range fs {
			if strings.TrimSpace(f.Doc) != "" {
				continue
			}
			if f.Recv == "" {
				add(f.Decl.Name.Pos(), "func "+f.Name)
			} else {
				add(f.Decl.Name.Pos(), "method "+strings.TrimPrefix(f.Recv, "*")+"."+f.Name)
			}
		}
	}

	values(d.Consts)
	values(d.Vars)
	funcs(d.Funcs)
	for _, ty := range d.Types {
		if strings.TrimSpace(ty.Doc) == "" {
			add(typeNamePos(ty), "type "+ty.Name)
		}
		interfaceMethods(ty, add)
		values(ty.Consts)
		values(ty.Vars)
		funcs(ty.Funcs)
		// Methods promoted from an embedded type of this package (Level > 0)
		// are reported at their own declaration; seen dedupes them.
		funcs(ty.Methods)
	}

	slices.SortFunc(gaps, func(a, b gap) int {
		if c := strings.Compare(a.pos.Filename, b.pos.Filename); c != 0 {
			return c
		}
		return a.pos.Line - b.pos.Line
	})
	out := make([]string, len(gaps))
	for i, g := range gaps {
		file := g.pos.Filename
		if rel, err := filepath.Rel(p.root, file); err == nil {
			file = filepath.ToSlash(rel)
		}
		out[i] = fmt.Sprintf("%s:%d: %s has no doc comment", file, g.pos.Line, g.what)
	}
	return out
}

// interfaceMethods reports the undocumented exported methods of an
// interface with more than one method.
func interfaceMethods(ty *doc.Type, add func(token.Pos, string)) {
	ts := typeSpec(ty)
	if ts == nil {
		return
	}
	it, ok := ts.Type.(*ast.InterfaceType)
	if !ok || it.Methods.NumFields() < 2 {
		return
	}
	for _, m := range it.Methods.List {
		if _, isFunc := m.Type.(*ast.FuncType); !isFunc || hasText(m.Doc) || hasText(m.Comment) {
			continue // embedded interfaces and type terms are documented where declared
		}
		for _, n := range m.Names {
			if n.IsExported() {
				add(n.Pos(), "method "+ty.Name+"."+n.Name)
			}
		}
	}
}

// typeSpec finds the type's spec in its declaration.
func typeSpec(ty *doc.Type) *ast.TypeSpec {
	for _, s := range ty.Decl.Specs {
		if ts, ok := s.(*ast.TypeSpec); ok && ts.Name.Name == ty.Name {
			return ts
		}
	}
	return nil
}

// typeNamePos finds the position of the type's name in its declaration.
func typeNamePos(ty *doc.Type) token.Pos {
	if ts := typeSpec(ty); ts != nil {
		return ts.Name.Pos()
	}
	return ty.Decl.Pos()
}

// hasText reports whether a comment group says something; go:build and
// other directives alone do not count.
func hasText(cg *ast.CommentGroup) bool {
	return cg != nil && strings.TrimSpace(cg.Text()) != ""
}
