package appealkit

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/answer"
	"github.com/appealkit/appealkit/appeal/sqlstore"
	"github.com/appealkit/appealkit/classify"
	"github.com/appealkit/appealkit/route"
	"github.com/appealkit/appealkit/route/learn"
	"github.com/appealkit/appealkit/source"
)

// DeployConfig is what LoadDeployment needs besides the file.
type DeployConfig struct {
	// Sources knows the source kinds the file may name. Required when the
	// file lists sources; source/builtin.Registry has the shipped ones.
	Sources *Registry
	// Getenv reads the secrets the file names (default os.Getenv).
	Getenv func(string) string
	// Logger is handed to the sources (default slog.Default()).
	Logger *slog.Logger
	// Hooks observe the pipeline.
	Hooks Hooks
}

// Deployment is a ready pipeline and the parts it was built from, all
// described by one YAML file (see LoadDeployment). Close releases the
// database.
type Deployment struct {
	// Pipeline runs the sources into the store; call Run.
	Pipeline *Pipeline
	// Store keeps the appeals (a *sqlstore.Store, or an
	// *appeal.MemoryStore when the file names no database).
	Store appeal.Store
	// Checkpoints keeps the sources' cursors: the store when it is a SQL
	// store.
	Checkpoints source.Checkpoints
	// Classifier classifies the appeals.
	Classifier *classify.Engine
	// Rules routes them; nil when the file has no rules (appeals then stay
	// new). It reloads: see route.Reloader.Watch with RulesPath.
	Rules *route.Reloader
	// Router is the rules and the learned router (route.model) together;
	// nil without a model.
	Router *route.LearnedRouter
	// RulesPath is the rules file's path, resolved against the
	// deployment file's directory ("" without rules).
	RulesPath string
	// Templates are the answer templates; nil when the file names none.
	Templates *answer.Templates
	// Redact keys the authors' pseudonyms with the deployment's secret.
	Redact appeal.RedactOptions

	db *sql.DB
}

// Close closes the store and the database the deployment opened.
func (d *Deployment) Close() error {
	if d.db == nil {
		return nil
	}
	var err error
	if s, ok := d.Store.(interface{ Close() error }); ok {
		err = s.Close() // the SQL store's writer connection goes back first
	}
	return errors.Join(err, d.db.Close())
}

// deployFile is the deployment file's top level.
type deployFile struct {
	Store           yaml.Node   `yaml:"store"`
	Classify        yaml.Node   `yaml:"classify"`
	Route           yaml.Node   `yaml:"route"`
	Answers         yaml.Node   `yaml:"answers"`
	Pipeline        yaml.Node   `yaml:"pipeline"`
	PseudonymKeyEnv yaml.Node   `yaml:"pseudonym_key_env"`
	Sources         []yaml.Node `yaml:"sources"`
}

type storeSection struct {
	Driver string `yaml:"driver"` // sqlite or postgres; empty: in memory
	DSN    string `yaml:"dsn"`
	DSNEnv string `yaml:"dsn_env"`
}

type classifySection struct {
	Model           string   `yaml:"model"`
	Gazetteer       string   `yaml:"gazetteer"`
	MinTopicScore   *float64 `yaml:"min_topic_score"`
	AppealThreshold *float64 `yaml:"appeal_threshold"`
}

type routeSection struct {
	Rules     string   `yaml:"rules"`
	Model     string   `yaml:"model"`
	Threshold *float64 `yaml:"threshold"`
	KeepNoise bool     `yaml:"keep_noise"`
	PlaceZone *bool    `yaml:"place_zone"`
}

type answersSection struct {
	Templates string `yaml:"templates"`
}

type pipelineSection struct {
	Workers int    `yaml:"workers"`
	Queue   int    `yaml:"queue"`
	Actor   string `yaml:"actor"`
}

// LoadDeployment builds a ready Pipeline from one YAML file:
//
//	store:    {driver: sqlite, dsn: appeals.db}   # or {driver: postgres, dsn_env: APPEALKIT_PG_DSN}; none: in memory
//	classify: {model: model.bin, gazetteer: places.yaml, min_topic_score: 0.25}
//	route:    {rules: rules.yaml, model: router.bin, keep_noise: false, place_zone: true}
//	answers:  {templates: answers.yaml}
//	pipeline: {workers: 4}
//	pseudonym_key_env: APPEALKIT_PSEUDONYM_KEY
//	sources:
//	  - {name: kursk-vk, kind: vk, token_env: VK_TOKEN, communities: ["123", "mosreg!"]}
//
// With rules, deadlines run on the clock of the appeal's place when the
// country-wide gazetteer knows its time zone (place_zone: false keeps the
// calendars' zones); route.model adds a learned router (route/learn) with
// the per-rule thresholds saved with it, or route.threshold for all rules.
//
// Paths are relative to the file's directory. Secrets never sit in the file:
// a *_env setting names the environment variable that holds them, and an
// unset variable is an error naming it. Every problem in the file is a
// *ConfigError at its line and column; problems inside the files it names
// keep their own positioned errors (route.RuleError, answer.TemplateError,
// classify.GazetteerError). The SQL driver ("sqlite" from modernc.org/sqlite,
// "pgx" from github.com/jackc/pgx/v5/stdlib) must be registered with
// database/sql: importing source/builtin does it.
func LoadDeployment(ctx context.Context, path string, cfg DeployConfig) (d *Deployment, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("appealkit: reading the deployment: %w", err)
	}
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&root); err != nil {
		line, col, msg := route.LocateYAMLError(b, err)
		return nil, &ConfigError{File: path, Msg: "not valid YAML", Line: line, Col: col, Err: errors.New(strings.TrimPrefix(msg, "YAML syntax: "))}
	}
	if len(root.Content) == 0 {
		return nil, &ConfigError{File: path, Msg: "the file is empty"}
	}
	var f deployFile
	if err := decodeStrict(path, "", root.Content[0], &f); err != nil {
		return nil, err
	}
	var (
		st   storeSection
		cl   classifySection
		rt   routeSection
		an   answersSection
		pl   pipelineSection
		keyE string
	)
	for _, s := range []struct {
		field string
		n     *yaml.Node
		v     any
	}{{"store", &f.Store, &st}, {"classify", &f.Classify, &cl}, {"route", &f.Route, &rt}, {"answers", &f.Answers, &an}, {"pipeline", &f.Pipeline, &pl}} {
		if s.n.Kind == 0 {
			continue
		}
		if err := decodeStrict(path, s.field, s.n, s.v); err != nil {
			return nil, err
		}
	}
	at := func(n *yaml.Node, field, msg string, cause error) error {
		return &ConfigError{File: path, Line: n.Line, Col: n.Column, Field: field, Msg: msg, Err: cause}
	}

	d = &Deployment{}
	built := d // the error returns below set d to nil
	defer func() {
		if err != nil {
			_ = built.Close()
		}
	}()
	if f.PseudonymKeyEnv.Kind != 0 {
		if f.PseudonymKeyEnv.Kind != yaml.ScalarNode || f.PseudonymKeyEnv.Value == "" {
			return nil, at(&f.PseudonymKeyEnv, "pseudonym_key_env", "want the name of an environment variable", nil)
		}
		keyE = f.PseudonymKeyEnv.Value
		key := cfg.Getenv(keyE)
		if key == "" {
			return nil, at(&f.PseudonymKeyEnv, "pseudonym_key_env", fmt.Sprintf("environment variable %s is not set", keyE), nil)
		}
		d.Redact = appeal.RedactOptions{Key: []byte(key)}
	}

	// Store.
	switch st.Driver {
	case "":
		if st.DSN != "" || st.DSNEnv != "" {
			return nil, at(&f.Store, "store.driver", "required with a dsn: sqlite or postgres", nil)
		}
		d.Store = appeal.NewMemoryStore()
		d.Checkpoints = source.NewMemoryCheckpoints()
	case "sqlite", "postgres":
		dsn := st.DSN
		if st.DSNEnv != "" {
			if dsn = cfg.Getenv(st.DSNEnv); dsn == "" {
				return nil, at(&f.Store, "store.dsn_env", fmt.Sprintf("environment variable %s is not set", st.DSNEnv), nil)
			}
		}
		if dsn == "" {
			return nil, at(&f.Store, "store", "dsn or dsn_env is required", nil)
		}
		driver := "pgx"
		if st.Driver == "sqlite" {
			driver = "sqlite"
			if !strings.HasPrefix(dsn, "file:") && st.DSNEnv == "" {
				dsn = sqlstore.SQLiteDSN(resolvePath(path, dsn))
			}
		}
		if !slices.Contains(sql.Drivers(), driver) {
			return nil, at(&f.Store, "store.driver", fmt.Sprintf("database/sql driver %q is not registered: import github.com/appealkit/appealkit/source/builtin (or the driver itself)", driver), nil)
		}
		db, err := sql.Open(driver, dsn)
		if err != nil {
			return nil, at(&f.Store, "store", "cannot open the database", err)
		}
		d.db = db
		s, err := sqlstore.Open(ctx, db)
		if err != nil {
			// The DSN may hold a password: the cause is the driver's.
			return nil, at(&f.Store, "store", "cannot open the store", err)
		}
		d.Store, d.Checkpoints = s, s
	default:
		return nil, at(&f.Store, "store.driver", fmt.Sprintf("%q: want sqlite or postgres", st.Driver), nil)
	}

	// Classifier.
	var opts []classify.Option
	if cl.Model != "" {
		m, err := openAndLoad(resolvePath(path, cl.Model), "model",
			func(msg string, cause error) error { return at(&f.Classify, "classify.model", msg, cause) },
			func(r io.Reader) (*classify.Model, error) { return classify.Load(r) })
		if err != nil {
			return nil, err
		}
		opts = append(opts, classify.WithModel(m))
	}
	if cl.Gazetteer != "" {
		gp := resolvePath(path, cl.Gazetteer)
		r, err := os.Open(gp)
		if err != nil {
			return nil, at(&f.Classify, "classify.gazetteer", "cannot open the gazetteer", err)
		}
		g, err := classify.ParseGazetteer(r, gp)
		_ = r.Close()
		if err != nil {
			return nil, err // positioned in the gazetteer itself
		}
		opts = append(opts, classify.WithGazetteer(g))
	}
	if cl.AppealThreshold != nil {
		opts = append(opts, classify.WithAppealThreshold(*cl.AppealThreshold))
	}
	if d.Classifier, err = classify.New(opts...); err != nil {
		return nil, at(&f.Classify, "classify", "cannot build the classifier", err)
	}
	copts := ClassifyOptions{}
	if cl.MinTopicScore != nil {
		copts.MinTopicScore = *cl.MinTopicScore
	}

	// Rules and templates.
	var router AppealRouter = NoRouting{}
	var cal *route.Calendar
	if rt.Rules != "" {
		d.RulesPath = resolvePath(path, rt.Rules)
		if d.Rules, err = route.OpenReloader(d.RulesPath); err != nil {
			return nil, err // positioned in the rules file
		}
		if rt.PlaceZone == nil || *rt.PlaceZone {
			// Deadlines run on the clock of the appeal's place where the
			// country-wide gazetteer knows its zone (a region spanning
			// zones); elsewhere on the calendar's.
			d.Rules.SetPlaceZone(func(a *appeal.Appeal) *time.Location { return classify.MunicipalityLocation(a.Municipality) })
		}
		var rr RuleRouter = d.Rules
		if rt.Model != "" {
			if d.Router, err = loadRouter(path, rt, d.Rules, func(field, msg string, cause error) error { return at(&f.Route, field, msg, cause) }); err != nil {
				return nil, err
			}
			rr = d.Router
		}
		router = Route(rr, RouteOptions{KeepNoise: rt.KeepNoise})
		cal = d.Rules.Engine().DefaultCalendar()
	} else if rt.Model != "" {
		return nil, at(&f.Route, "route.model", "needs route.rules: the model decides only where rules let it", nil)
	} else if f.Route.Kind != 0 {
		return nil, at(&f.Route, "route.rules", "required: the rules file", nil)
	}
	if an.Templates != "" {
		if d.Templates, err = answer.ParseTemplatesFile(resolvePath(path, an.Templates), cal); err != nil {
			return nil, err // positioned in the templates file
		}
	}

	// Sources.
	inputs := make([]Input, 0, len(f.Sources))
	for i := range f.Sources {
		n := &f.Sources[i]
		field := fmt.Sprintf("sources[%d]", i)
		if n.Kind != yaml.MappingNode {
			return nil, at(n, field, "want a mapping with name and kind", nil)
		}
		sc := SourceConfig{Checkpoints: d.Checkpoints, Logger: cfg.Logger, file: path, field: field, node: n, getenv: cfg.Getenv}
		for j := 0; j+1 < len(n.Content); j += 2 {
			switch n.Content[j].Value {
			case "name":
				sc.Name = n.Content[j+1].Value
			case "kind":
				sc.Kind = n.Content[j+1].Value
			}
		}
		if sc.Name == "" || sc.Kind == "" {
			return nil, at(n, field, "name and kind are required", nil)
		}
		for _, in := range inputs {
			if in.Name == sc.Name {
				return nil, sc.Errorf("name", "name %q is used twice", sc.Name)
			}
		}
		var build SourceBuilder
		if cfg.Sources != nil {
			build = cfg.Sources.builder(sc.Kind)
		}
		if build == nil {
			var known []string
			if cfg.Sources != nil {
				known = cfg.Sources.Kinds()
			}
			if len(known) == 0 {
				return nil, sc.Errorf("kind", "no source kinds are registered: set DeployConfig.Sources (source/builtin.Registry() has the shipped ones)")
			}
			return nil, sc.Errorf("kind", "unknown source kind %q (registered: %s)", sc.Kind, strings.Join(known, ", "))
		}
		src, err := build(sc)
		if err != nil {
			var ce *ConfigError
			if errors.As(err, &ce) {
				return nil, err
			}
			return nil, at(n, field, "cannot build the "+sc.Kind+" source", err)
		}
		inputs = append(inputs, Input{Name: sc.Name, Source: src})
	}

	d.Pipeline, err = New(Config{
		Store:      d.Store,
		Classifier: Classify(d.Classifier, copts),
		Router:     router,
		Inputs:     inputs,
		Workers:    pl.Workers,
		Queue:      pl.Queue,
		Actor:      pl.Actor,
		Hooks:      cfg.Hooks,
	})
	if err != nil {
		return nil, at(&f.Pipeline, "pipeline", "invalid", err)
	}
	return d, nil
}

// openAndLoad opens a file the deployment names and decodes it with load;
// fail positions "cannot open the <what>" or "cannot load the <what>".
func openAndLoad[T any](file, what string, fail func(msg string, cause error) error, load func(io.Reader) (T, error)) (T, error) {
	var zero T
	r, err := os.Open(file)
	if err != nil {
		return zero, fail("cannot open the "+what, err)
	}
	defer r.Close()
	v, err := load(r)
	if err != nil {
		return zero, fail("cannot load the "+what, err)
	}
	return v, nil
}

// loadRouter loads the learned router of route.model and combines it with
// the rules in force: the model decides where the rules let it, with the
// per-rule thresholds saved with it (examples/routecheck -save), or
// route.threshold for all rules when that is set.
func loadRouter(path string, rt routeSection, rules *route.Reloader, at func(field, msg string, cause error) error) (*route.LearnedRouter, error) {
	m, err := openAndLoad(resolvePath(path, rt.Model), "learned router",
		func(msg string, cause error) error { return at("route.model", msg, cause) }, learn.LoadModel)
	if err != nil {
		return nil, err
	}
	if rt.Threshold != nil {
		if t := *rt.Threshold; !(t > 0 && t <= 1) {
			return nil, at("route.threshold", fmt.Sprintf("%v: want a confidence in (0, 1]", t), nil)
		}
		return rules.WithModel(m, *rt.Threshold), nil
	}
	return rules.WithModel(m, 0).WithRuleThresholds(m.Thresholds()), nil
}
