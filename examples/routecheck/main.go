// Command routecheck compares a rules file with routing history: how many
// past appeals the current rules would send to someone other than the
// executor who actually answered, where they disagree, and which rules the
// history suggests. Given a second history (-train, or a saved -model) it
// also trains the learned router (route/learn) and measures rules only,
// model only and both together (route.WithModel) on -history, with the
// agreement/coverage curve over the model's confidence. Without -history
// it lints the rules file and exits non-zero on errors.
//
//	go run ./examples/routecheck -rules examples/rules/region.yaml -history ../shared/data/kursk/train.jsonl
//	go run ./examples/routecheck -rules examples/rules/spb.yaml -train OLD.jsonl -history NEW.jsonl
//	go run ./examples/routecheck -rules examples/rules/spb.yaml -split /tmp/spb -data ../shared/data/spb/dev.jsonl.gz
//	go run ./examples/routecheck -rules examples/rules/spb.yaml
//
// -split writes the split it measures on (train.jsonl and test.jsonl under
// the directory), so that other tools can be measured on the same appeals:
// St Petersburg history (with "created") is split by date, the older 80 %
// for training; other history (Kursk) in file order, the first 80 %.
//
// History is JSON Lines (optionally gzip-compressed) with the text, a topic
// label, optionally a district and the executor. Labels are not topic
// codes: routecheck maps the label sets of the two bundled datasets to
// codes (see builtinTopics) and takes -map for others. Districts are used
// as municipality names as they are, or through -map. Executors in history
// are matched to the rules' executors by id, name or alias.
//
// The texts are real people's words: routecheck prints counts, executor
// names and frequent word stems, never a text. The last line is
// "agree=0.xxxx n=N": the share of the N appeals with an executor that the
// rules (with a model: rules and model together) send to that executor.
package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // rules files name IANA zones; do not depend on the host's tz database

	"gopkg.in/yaml.v3"

	"github.com/appealkit/appealkit/classify"
	"github.com/appealkit/appealkit/route"
	"github.com/appealkit/appealkit/route/learn"
)

// builtinTopics maps the labels of the two bundled datasets to topic codes.
// Kursk (17 coarse classes): "housing_landscaping" mixes housing and
// landscaping; it is read as housing, the larger part. SPb (15 portal
// categories, Russian names).
var builtinTopics = map[string]string{
	// Kursk
	"housing_landscaping": "housing", "roads": "roads", "ecology": "ecology", "transport": "transport",
	"healthcare": "healthcare", "social_benefits": "social", "social_support": "social", "education": "education",
	"animals": "animals", "construction": "construction", "culture": "culture_sport", "sport": "culture_sport",
	"trade": "trade", "communications": "communications", "labour": "other", "gov_services": "other",
	// St Petersburg
	"Благоустройство": "landscaping",
	"Содержание МКД":  "housing.management",
	"Нарушение правил пользования общим имуществом":  "housing.management",
	"Нарушение порядка пользования общим имуществом": "housing.management",
	"Фасад":                 "housing.building",
	"Кровля":                "housing.building",
	"Подвалы":               "housing.building",
	"Водоснабжение":         "housing.water",
	"Водоотведение":         "housing.sewerage",
	"Центральное отопление": "housing.heating",
	"Санитарное состояние":  "garbage",
	"Повреждения или неисправность элементов уличной инфраструктуры":                   "landscaping",
	"Незаконная информационная и (или) рекламная конструкция":                          "trade",
	"Состояние рекламных или информационных конструкций":                               "trade",
	"Незаконная реализация товаров с торгового оборудования (прилавок, ящик, с земли)": "trade",
}

// mapFile is the -map file: label → topic code, district → municipality.
type mapFile struct {
	Topics         map[string]string `yaml:"topics"`         // history label → topic code
	Municipalities map[string]string `yaml:"municipalities"` // history district → municipality
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "routecheck:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error { return check(args, out, nil) }

// check is run, leaving the scores of a -train/-history measurement in
// last when it is not nil.
func check(args []string, out io.Writer, last *scores) error {
	fs := flag.NewFlagSet("routecheck", flag.ContinueOnError)
	rulesPath := fs.String("rules", "", "rules file (YAML)")
	historyPath := fs.String("history", "", "history, JSON Lines, optionally .gz")
	mapPath := fs.String("map", "", "optional YAML {topics: {label: code}, municipalities: {district: name}}")
	topicField := fs.String("topic-field", "label", "history field read as the topic")
	munField := fs.String("municipality-field", "district", "history field read as the municipality")
	at := fs.String("at", "2025-03-03T10:00:00+03:00", "routing time (RFC 3339): time-of-day rules see it")
	suggest := fs.Int("suggest", 12, "how many suggested rules to print")
	trainPath := fs.String("train", "", "history to train the learned router on (JSON Lines, optionally .gz); measured on -history")
	modelPath := fs.String("model", "", "load a saved learned router instead of training one")
	savePath := fs.String("save", "", "save the trained learned router to this file")
	threshold := fs.Float64("threshold", 0, "confidence the learned router needs to decide where a rule lets it; 0: per rule, the rule's agreement with the training history (with -model: 0.5)")
	splitDir := fs.String("split", "", "split -data into DIR/train.jsonl and DIR/test.jsonl (by created date when present, else in file order), then train on one and measure on the other")
	dataPath := fs.String("data", "", "the history -split splits")
	folds := fs.Int("folds", 0, "with -split and -data: cut -data into this many consecutive parts (DIR/foldN) and measure each against a model trained on the others (k-fold); the last line is the mean")
	region := fs.String("region", "", "the deployment's region (\"Курская область\"): cities several regions share resolve there")
	places := fs.Bool("places", true, "find the municipality in the text (country-wide gazetteer) for history without one, as the pipeline's classifier does")
	minAgree := fs.Float64("min-agree", 0, "exit non-zero when the (combined) agreement is below this: a quality floor for CI")
	var tc learn.TrainConfig
	fs.IntVar(&tc.Epochs, "epochs", 0, "passes of training per executor, at most (0: default)")
	fs.Float64Var(&tc.C, "c", 0, "cost of a margin violation in training (0: default)")
	fs.Float64Var(&tc.Context, "context", 0, "value of a context feature next to the text (0: default)")
	fs.IntVar(&tc.MinCount, "min-count", 0, "appeals a text feature must occur in (0: default)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *folds != 0 {
		if *splitDir == "" || *dataPath == "" {
			return errors.New("-folds needs -split DIR and -data")
		}
		return crossValidate(fs, *dataPath, *splitDir, *folds, *minAgree, out)
	}
	if *splitDir != "" {
		if *dataPath == "" {
			return errors.New("-split needs -data")
		}
		tr, te, desc, err := splitFile(*dataPath, *splitDir, 0.8)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "split:   %s\n         train %s, test %s\n", desc, tr, te)
		*trainPath, *historyPath = tr, te
	}
	if *rulesPath == "" {
		fs.Usage()
		return errors.New("-rules is required")
	}
	now, err := time.Parse(time.RFC3339, *at)
	if err != nil {
		return fmt.Errorf("-at: %w", err)
	}
	e, err := route.ParseFile(*rulesPath)
	if err != nil {
		return err
	}
	if *historyPath == "" {
		return lint(e, *rulesPath, out)
	}
	m := learn.Mapping{TopicField: *topicField, MunicipalityField: *munField, Topics: map[string]string{}, Codes: route.TopicCodes()}
	for k, v := range builtinTopics {
		m.Topics[k] = v
	}
	if *mapPath != "" {
		b, err := os.ReadFile(*mapPath)
		if err != nil {
			return err
		}
		var mf mapFile
		if err := yaml.Unmarshal(b, &mf); err != nil {
			return fmt.Errorf("-map %s: %w", *mapPath, err)
		}
		for k, v := range mf.Topics {
			if !e.KnowsTopic(v) {
				return fmt.Errorf("-map %s: label %q maps to unknown topic code %q", *mapPath, k, v)
			}
			m.Topics[k] = v
		}
		m.Municipalities = mf.Municipalities
	}
	recs, st, err := learn.Open(*historyPath, m)
	if err != nil {
		return err
	}
	var gaz *classify.Gazetteer
	if *places {
		if gaz, err = classify.NewCountryGazetteer(classify.CountryOptions{Region: *region}); err != nil {
			return err
		}
	}
	found := findPlaces(gaz, recs)
	autoMapped := matchDistricts(e, recs)

	fmt.Fprintf(out, "rules:   %s (%s): %d rules, %d executors, fallback %s\n", *rulesPath, e.Name(), len(e.Rules()), len(e.Executors()), e.FallbackExecutor())
	fmt.Fprintf(out, "history: %s: %d appeals, %d name an executor\n", *historyPath, st.Records, st.WithExecutor)
	fmt.Fprintf(out, "mapping: topic from %q (%d labels, %d mapped to topic codes", *topicField, len(st.Labels), len(st.Labels)-len(st.Unmapped))
	if len(st.Unmapped) > 0 {
		fmt.Fprintf(out, "; unmapped, routed without a topic: %s", strings.Join(sortedKeys(st.Unmapped), ", "))
	}
	fmt.Fprint(out, ")\n")
	if st.HasMunicipality {
		fmt.Fprintf(out, "         municipality from %q as is", *munField)
		if len(m.Municipalities) > 0 {
			fmt.Fprintf(out, " or through -map (%d names)", len(m.Municipalities))
		}
		if autoMapped > 0 {
			fmt.Fprintf(out, "; %d district names matched to the rules' municipalities as \"<name> район\"", autoMapped)
		}
		fmt.Fprintln(out)
	} else if gaz != nil {
		fmt.Fprintf(out, "         no %q field: municipality found in the text by the country-wide gazetteer for %d appeals\n", *munField, found)
	} else {
		fmt.Fprintf(out, "         no %q field: appeals are routed without a municipality\n", *munField)
	}

	rep := learn.Check(e, recs, now)
	res := learn.NewResolver(e)
	hist := map[string]int{}
	for _, r := range recs {
		if r.Executor != "" {
			hist[r.Executor]++
		}
	}
	known := 0
	for name := range hist {
		if res.Resolve(name) != "" {
			known++
		}
	}
	fmt.Fprintf(out, "\nexecutors: %d in history, %d of them known to the rules (by id, name or alias), answering %d of %d appeals\n", len(hist), known, rep.Known, rep.N)
	fmt.Fprintf(out, "decisions: %d to the executor who answered, %d more with them as co-executor, %d to someone else (%d by the fallback, %d rejected)\n",
		rep.Agree, rep.AgreeAny-rep.Agree, rep.N-rep.Agree, rep.Fallback, rep.Rejected)
	if rep.Known > 0 && rep.Known < rep.N {
		fmt.Fprintf(out, "           among the %d appeals whose executor the rules know, %.1f%% go to that executor\n", rep.Known, 100*float64(rep.Agree)/float64(rep.Known))
	}

	fmt.Fprintln(out, "\nrules by use (appeals decided, agreeing with history):")
	for i, r := range rep.Rules {
		if i == 15 {
			fmt.Fprintf(out, "  ... %d more\n", len(rep.Rules)-i)
			break
		}
		fmt.Fprintf(out, "  %-28s %6d  %5.1f%%\n", r.RuleID, r.N, 100*float64(r.Agree)/float64(max(r.N, 1)))
	}
	fmt.Fprintln(out, "\nmost frequent disagreements (rule: sent to → answered in history):")
	for i, c := range rep.Confusions {
		if i == 12 {
			break
		}
		fmt.Fprintf(out, "  %5d  %s: %s → %s\n", c.Count, c.RuleID, c.Routed, c.History)
	}

	if *trainPath == "" && *modelPath == "" {
		// Without a second history, a quick in-history estimate of what
		// learning would give (every fifth appeal held out).
		train, test := learn.Holdout(recs, 5)
		model := learn.Learn(train)
		fmt.Fprintf(out, "\ncounted from history (trained on %d, tested on %d held-out appeals; -train OLD.jsonl trains the learned router):\n", len(train), len(test))
		fmt.Fprintf(out, "  label×district table:             accuracy %.4f\n", learn.Accuracy(test, model.PredictTable))
		fmt.Fprintf(out, "  naive Bayes on text stems+label:  accuracy %.4f\n", learn.Accuracy(test, model.PredictText))
	}

	full := learn.Learn(recs)
	sugs := learn.Suggest(recs, 10, 0.6)
	fmt.Fprintf(out, "\nsuggested rules (topic×municipality with one executor answering ≥60%% of ≥10 appeals) that the rules now route elsewhere:\n")
	shown := 0
	newExec := map[string]string{}
	topicWide := map[string]string{} // topic → executor already suggested city- or region-wide
	for _, s := range sugs {
		if shown == *suggest {
			break
		}
		id := res.Resolve(s.Executor)
		probe := learn.Record{Topic: s.Topic, Municipality: s.Municipality}
		d := e.Route(probe.Appeal(), now)
		if id != "" && d.Executor == id || s.Municipality != "" && topicWide[s.Topic] == s.Executor {
			continue
		}
		if s.Municipality == "" {
			topicWide[s.Topic] = s.Executor
		}
		if id == "" {
			id = newExec[s.Executor]
			if id == "" {
				id = fmt.Sprintf("new-%d", len(newExec)+1)
				newExec[s.Executor] = id
			}
		}
		shown++
		fmt.Fprintf(out, "  # %d of %d appeals about %s (labels %s)", s.Support, s.Total, cmp.Or(s.Topic, "no topic"), shortList(s.Labels))
		if s.Municipality != "" {
			fmt.Fprintf(out, " from %s", s.Municipality)
		}
		fmt.Fprintf(out, " were answered by %q; now rule %s sends them to %s\n", s.Executor, d.RuleID, d.Executor)
		fmt.Fprintf(out, "  - id: learned-%d\n    when: {", shown)
		var conds []string
		if s.Topic != "" {
			conds = append(conds, "topics: ["+s.Topic+"]")
		}
		if s.Municipality != "" {
			conds = append(conds, "municipality: "+s.Municipality)
		}
		fmt.Fprintf(out, "%s}\n    executor: %s\n", strings.Join(conds, ", "), id)
	}
	if len(newExec) > 0 {
		fmt.Fprintln(out, "  # executors the rules do not have yet (add under executors:):")
		for _, name := range sortedKeys(newExec) {
			fmt.Fprintf(out, "  #   - {id: %s, name: %q}\n", newExec[name], name)
		}
	}
	if shown == 0 {
		fmt.Fprintln(out, "  (none)")
	}
	kws := full.Keywords(20, 0.9)
	if len(kws) > 0 {
		fmt.Fprintln(out, "\nword stems that point to one executor (≥90% of ≥20 appeals), candidates for keywords:")
		for i, k := range kws {
			if i == 10 {
				break
			}
			fmt.Fprintf(out, "  %-8s → %s (%d of %d)\n", k.Stem, k.Executor, k.Support, k.Total)
		}
	}
	if *trainPath == "" && *modelPath == "" {
		fmt.Fprintf(out, "\nagree=%.4f n=%d\n", rep.Agreement(), rep.N)
		return floor(rep.Agreement(), *minAgree)
	}
	sc, err := evaluate(out, evalConfig{e: e, mapping: m, test: recs, rules: rep, trainPath: *trainPath, modelPath: *modelPath,
		savePath: *savePath, threshold: *threshold, now: now, train: tc, gaz: gaz})
	if err != nil {
		return err
	}
	if last != nil {
		*last = sc
	}
	return floor(sc.combined, *minAgree)
}

// crossValidate runs the measurement of -split once per fold of -data
// with the other flags as given, and prints each fold's agreements and
// their mean. The folds stay in DIR/foldN, so a peer can be run on exactly
// the same parts.
func crossValidate(fs *flag.FlagSet, dataPath, dir string, k int, minAgree float64, out io.Writer) error {
	parts, err := splitFolds(dataPath, dir, k)
	if err != nil {
		return err
	}
	var common []string
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "folds", "split", "data", "train", "history", "model", "save", "min-agree":
		default:
			common = append(common, "-"+f.Name+"="+f.Value.String())
		}
	})
	fmt.Fprintf(out, "%d-fold cross-validation of %s (consecutive parts, each tested once; DIR/foldN holds them)\n", k, dataPath)
	fmt.Fprintf(out, "  %-6s %6s  %-10s %-10s %s\n", "fold", "n", "rules", "model", "combined")
	var sum scores
	for i, p := range parts {
		var sc scores
		args := append(slices.Clone(common), "-train", p[0], "-history", p[1])
		if err := check(args, io.Discard, &sc); err != nil {
			return fmt.Errorf("fold %d: %w", i+1, err)
		}
		fmt.Fprintf(out, "  %-6d %6d  %-10.4f %-10.4f %.4f\n", i+1, sc.n, sc.rules, sc.model, sc.combined)
		sum.rules += sc.rules
		sum.model += sc.model
		sum.combined += sc.combined
		sum.n += sc.n
	}
	kf := float64(k)
	fmt.Fprintf(out, "  %-6s %6d  %-10.4f %-10.4f %.4f\n", "mean", sum.n, sum.rules/kf, sum.model/kf, sum.combined/kf)
	fmt.Fprintf(out, "\nagree=%.4f n=%d\n", sum.combined/kf, sum.n)
	return floor(sum.combined/kf, minAgree)
}

// ErrBelowFloor: the agreement is below -min-agree.
var ErrBelowFloor = errors.New("agreement below the floor")

func floor(agree, min float64) error {
	if agree < min {
		return fmt.Errorf("%w: %.4f < %.4f", ErrBelowFloor, agree, min)
	}
	return nil
}

// findPlaces sets the municipality of records that have none from the
// places their text names, and returns how many it set.
func findPlaces(g *classify.Gazetteer, recs []learn.Record) int {
	if g == nil {
		return 0
	}
	n := 0
	for i := range recs {
		r := &recs[i]
		if r.Municipality != "" {
			continue
		}
		for _, p := range g.Find(r.Text) {
			if p.Municipality != "" {
				r.Municipality = p.Municipality
				n++
				break
			}
		}
	}
	return n
}

// matchDistricts maps district names the rules do not know, like
// "Невский", to "Невский район" when the rules' executors serve a
// municipality of that name. It returns how many names it matched.
func matchDistricts(e *route.Engine, recs []learn.Record) int {
	known := map[string]bool{}
	for _, x := range e.Executors() {
		if x.Municipality != "" {
			known[x.Municipality] = true
		}
	}
	matched := map[string]bool{}
	for i := range recs {
		r := &recs[i]
		if r.Municipality == "" || known[r.Municipality] {
			continue
		}
		if alt := r.Municipality + " район"; known[alt] {
			matched[r.Municipality] = true
			r.Municipality = alt
		}
	}
	return len(matched)
}

// shortList joins labels, each cut to 30 letters, at most three of them.
func shortList(labels []string) string {
	var parts []string
	for i, l := range labels {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("+%d more", len(labels)-i))
			break
		}
		if r := []rune(l); len(r) > 30 {
			l = string(r[:30]) + "…"
		}
		parts = append(parts, l)
	}
	return strings.Join(parts, " | ")
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
