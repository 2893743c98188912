package appealkit

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/appealkit/appealkit/source"
)

// ErrBadDeployment is matched (errors.Is) by every *ConfigError, so a caller
// can tell a wrong deployment file from an unreachable database.
var ErrBadDeployment = errors.New("appealkit: invalid deployment")

// ConfigError reports one problem in a deployment file with its position,
// "file:line:col: field: message", so an operator can open the file at the
// right place. Line and Col are 1-based, 0 when the problem has no single
// place. Problems inside the files a deployment names (rules, templates,
// gazetteer) keep their own packages' positioned errors.
type ConfigError struct {
	File  string // the deployment file's path
	Line  int    // 1-based line, 0 when unknown
	Col   int    // 1-based column, 0 when unknown
	Field string // the setting, e.g. "sources[0].token_env"
	Msg   string // what is wrong
	Err   error  // the cause, if any
}

// Error formats the problem as "file:line:col: field: message: cause".
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	}
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Is makes errors.Is(err, ErrBadDeployment) true.
func (e *ConfigError) Is(target error) bool { return target == ErrBadDeployment }

// Unwrap returns the cause.
func (e *ConfigError) Unwrap() error { return e.Err }

// SourceBuilder makes one kind of source from its settings in a deployment
// file. It reads its settings with SourceConfig.Decode and its secrets
// with SourceConfig.Env, and returns their errors unchanged, so that they
// point at the file's line.
type SourceBuilder func(cfg SourceConfig) (source.Source, error)

// SourceConfig is what a SourceBuilder gets: one entry of a deployment
// file's sources list.
type SourceConfig struct {
	// Name is the source's name (its Input name in the Pipeline).
	Name string
	// Kind is the registered kind that chose the builder.
	Kind string
	// Checkpoints keeps the source's cursor: the deployment's store when
	// it is a SQL store, else an in-memory set.
	Checkpoints source.Checkpoints
	// Logger is the deployment's logger.
	Logger *slog.Logger

	file   string
	field  string // "sources[i]"
	node   *yaml.Node
	getenv func(string) string
}

// Decode fills v, a pointer to a struct with yaml tags, from the source's
// settings. A setting v has no field for is an error (a typo in a
// deployment must not pass silently); "name" and "kind" are the
// deployment's and never reach v.
func (c SourceConfig) Decode(v any) error {
	return decodeStrict(c.file, c.field, c.node, v, "name", "kind")
}

// Env returns the secret held in the environment variable that the setting
// field (such as "token_env") names. A missing setting or an empty variable
// is an error naming both, so the operator knows what to export. Declare
// the setting in the struct given to Decode too (TokenEnv string
// `yaml:"token_env"`), since Decode refuses settings it does not know.
func (c SourceConfig) Env(field string) (string, error) {
	_, v := c.lookup(field)
	if v == nil || v.Value == "" {
		return "", c.errAt(c.node, field, "required: the name of the environment variable that holds the secret", nil)
	}
	val := c.getenv(v.Value)
	if val == "" {
		return "", c.errAt(v, field, fmt.Sprintf("environment variable %s is not set", v.Value), nil)
	}
	return val, nil
}

// Errorf reports a problem with the setting field (the whole source when
// field is empty or absent), at its position.
func (c SourceConfig) Errorf(field, format string, args ...any) error {
	n := c.node
	if _, v := c.lookup(field); v != nil {
		n = v
	}
	return c.errAt(n, field, fmt.Sprintf(format, args...), nil)
}

// Path resolves a path written in the deployment file: relative paths are
// relative to the file's directory, so a deployment runs from anywhere.
func (c SourceConfig) Path(p string) string { return resolvePath(c.file, p) }

func (c SourceConfig) lookup(field string) (k, v *yaml.Node) {
	for i := 0; i+1 < len(c.node.Content); i += 2 {
		if c.node.Content[i].Value == field {
			return c.node.Content[i], c.node.Content[i+1]
		}
	}
	return nil, nil
}

func (c SourceConfig) errAt(n *yaml.Node, field, msg string, err error) error {
	f := c.field
	if field != "" {
		f += "." + field
	}
	return &ConfigError{File: c.file, Line: n.Line, Col: n.Column, Field: f, Msg: msg, Err: err}
}

// decodeStrict decodes the mapping n into v, refusing a key v has no field
// for (skip lists keys the caller handles), with errors at their position.
func decodeStrict(file, field string, n *yaml.Node, v any, skip ...string) error {
	if n == nil {
		return nil
	}
	at := func(n *yaml.Node, sub, msg string, err error) error {
		f := field
		if sub != "" {
			f = strings.TrimPrefix(f+"."+sub, ".")
		}
		return &ConfigError{File: file, Line: n.Line, Col: n.Column, Field: f, Msg: msg, Err: err}
	}
	if n.Kind != yaml.MappingNode {
		return at(n, "", "want a mapping of settings", nil)
	}
	known := yamlKeys(v)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if known[k.Value] || contains(skip, k.Value) {
			continue
		}
		keys := make([]string, 0, len(known))
		for name := range known {
			keys = append(keys, name)
		}
		sort.Strings(keys)
		return at(k, k.Value, "unknown setting (known: "+strings.Join(keys, ", ")+")", nil)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if contains(skip, k.Value) {
			continue
		}
		// Decode one setting at a time, so that a wrong value is
		// reported at its own line.
		one := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{k, val}}
		if err := one.Decode(v); err != nil {
			var te *yaml.TypeError
			if errors.As(err, &te) && len(te.Errors) > 0 {
				err = errors.New(stripYAMLLine(te.Errors[0]))
			}
			return at(val, k.Value, "wrong value", err)
		}
	}
	return nil
}

// stripYAMLLine drops yaml.v3's own "line N: " prefix: ConfigError carries
// the position.
func stripYAMLLine(s string) string {
	if strings.HasPrefix(s, "line ") {
		if _, rest, ok := strings.Cut(s, ": "); ok {
			return rest
		}
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// yamlKeys lists the yaml keys of the struct v points to.
func yamlKeys(v any) map[string]bool {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	keys := map[string]bool{}
	if t == nil || t.Kind() != reflect.Struct {
		return keys
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		keys[name] = true
	}
	return keys
}

func resolvePath(file, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(file), p)
}

// Registry maps source kinds ("vk", "telegram", ...) to their builders. The
// shipped adapters are registered by source/builtin; a program adds its own
// kinds with Register, the way a plugin joins Benthos. A Registry is safe
// for concurrent use; the zero value is empty and ready.
type Registry struct {
	mu    sync.RWMutex
	kinds map[string]SourceBuilder
}

// NewRegistry returns an empty Registry.
func NewRegistry() *Registry { return &Registry{} }

// Register adds a source kind. An empty kind, a nil builder or a kind
// registered twice is an error.
func (r *Registry) Register(kind string, b SourceBuilder) error {
	if kind == "" || b == nil {
		return errors.New("appealkit: Registry.Register needs a kind and a builder")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.kinds[kind]; dup {
		return fmt.Errorf("appealkit: source kind %q is registered twice", kind)
	}
	if r.kinds == nil {
		r.kinds = map[string]SourceBuilder{}
	}
	r.kinds[kind] = b
	return nil
}

// Kinds lists the registered kinds, sorted.
func (r *Registry) Kinds() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.kinds))
	for k := range r.kinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (r *Registry) builder(kind string) SourceBuilder {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.kinds[kind]
}
