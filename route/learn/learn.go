// Package learn compares routing rules with history and learns routing
// from it: given past appeals with the executor who answered each, it
// reports how many the current rules would send elsewhere, learns which
// executor answers which topic in which municipality (and which words point
// to an executor), and suggests rules for the rules file.
//
//	recs, _, err := learn.Open("history.jsonl", learn.Mapping{Codes: route.TopicCodes()})
//	if err != nil {
//		return err
//	}
//	rep := learn.Check(engine, recs, time.Now()) // how often the rules agree with who answered
//	fmt.Printf("agree=%.3f\n", rep.Agreement())
//	m, err := learn.Train(learn.Examples(recs, learn.NewResolver(engine)), learn.TrainConfig{})
//	if err != nil {
//		return err
//	}
//	router := route.WithModel(engine, m, 0.9) // the model decides where the rules fall back
//
// Train builds a Model, the learned router: one-vs-rest linear SVMs over an
// appeal's text (classify's normaliser and Snowball stems, unigrams,
// bigrams and each word crossed with the municipality), municipality,
// topics, municipality×topic, community, network and kind, with a
// confidence calibrated on held-out history. Save and LoadModel keep it in
// a file; route.WithModel lets it decide where the rules allow.
//
// History rarely uses the rubricator's topic codes or the rules file's
// executor ids, so a Mapping says which field is the topic and which the
// municipality, and how their values translate; executors are matched by
// id, full name or one of the aliases given in the rules file.
package learn

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"

	"github.com/appealkit/appealkit/appeal"
)

// Record is one historical appeal.
type Record struct {
	// Line is the record's line in the history file.
	Line int
	// Text is the appeal's text.
	Text string
	// Label is the raw value of the topic field; Topic the topic code it
	// maps to ("" when unmapped).
	Label, Topic string
	// District is the raw value of the municipality field; Municipality
	// what it maps to.
	District, Municipality string
	// Executor is who answered, as the history names it.
	Executor string
}

// Appeal builds the appeal the rules would have seen: the text, the topic
// with score 1 and the municipality.
func (r *Record) Appeal() *appeal.Appeal {
	a := &appeal.Appeal{Network: appeal.NetworkWeb, Kind: appeal.KindMessage, Text: r.Text, Municipality: r.Municipality}
	if r.Topic != "" {
		a.Topics = []appeal.TopicScore{{Code: r.Topic, Score: 1}}
	}
	return a
}

// Mapping says how history fields become appeal fields.
type Mapping struct {
	// TextField, TopicField, MunicipalityField and ExecutorField name the
	// JSON fields; empty means "text", "label", "district", "executor".
	TextField, TopicField, MunicipalityField, ExecutorField string
	// Topics maps a topic field value to a topic code. A value not in the
	// map is used as is when it is itself a code in Codes, else left
	// without a topic.
	Topics map[string]string
	// Codes are the topic codes the rules accept (route.TopicCodes()).
	Codes []string
	// Municipalities maps a district value to the municipality name the
	// rules use; a value not in the map is used as is.
	Municipalities map[string]string
}

func (m *Mapping) field(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// Stats describes what reading found.
type Stats struct {
	// Records read, and how many of them name an executor.
	Records, WithExecutor int
	// Labels counts topic field values; Unmapped those without a code.
	Labels, Unmapped map[string]int
	// HasMunicipality is true when any record had the municipality field.
	HasMunicipality bool
}

// Read reads JSON Lines history. Lines that are not JSON objects give an
// error naming the line.
func Read(r io.Reader, name string, m Mapping) ([]Record, Stats, error) {
	st := Stats{Labels: map[string]int{}, Unmapped: map[string]int{}}
	codes := map[string]bool{}
	for _, c := range m.Codes {
		codes[c] = true
	}
	tf, pf, mf, ef := m.field(m.TextField, "text"), m.field(m.TopicField, "label"), m.field(m.MunicipalityField, "district"), m.field(m.ExecutorField, "executor")
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var out []Record
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		var obj map[string]any
		if err := json.Unmarshal(b, &obj); err != nil {
			return nil, st, fmt.Errorf("learn: %s:%d: not a JSON object: %w", name, line, err)
		}
		rec := Record{Line: line, Text: str(obj[tf]), Label: str(obj[pf]), District: str(obj[mf]), Executor: strings.TrimSpace(str(obj[ef]))}
		if _, ok := obj[mf]; ok {
			st.HasMunicipality = true
		}
		if code, ok := m.Topics[rec.Label]; ok {
			rec.Topic = code
		} else if codes[rec.Label] {
			rec.Topic = rec.Label
		}
		if rec.Label != "" {
			st.Labels[rec.Label]++
			if rec.Topic == "" {
				st.Unmapped[rec.Label]++
			}
		}
		rec.Municipality = rec.District
		if v, ok := m.Municipalities[rec.District]; ok {
			rec.Municipality = v
		}
		st.Records++
		if rec.Executor != "" {
			st.WithExecutor++
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, st, fmt.Errorf("learn: reading %s: %w", name, err)
	}
	return out, st, nil
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	case float64:
		return fmt.Sprint(x)
	}
	return fmt.Sprint(v)
}

// Open reads a history file, gzip-compressed when its name ends in .gz.
func Open(path string, m Mapping) ([]Record, Stats, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, Stats{}, fmt.Errorf("learn: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil, Stats{}, fmt.Errorf("learn: %s: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}
	return Read(r, path, m)
}

// NormalizeName folds an executor name for comparison: lower case, ё as е,
// quotes and punctuation dropped, spaces collapsed.
func NormalizeName(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(s) {
		if r == 'ё' {
			r = 'е'
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
			continue
		}
		space = true
	}
	return b.String()
}
