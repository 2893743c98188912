package appealkit_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit"
	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/answer"
	"github.com/appealkit/appealkit/classify"
	"github.com/appealkit/appealkit/examples/rules"
	"github.com/appealkit/appealkit/route"
	"github.com/appealkit/appealkit/route/learn"
	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/builtin"
	"github.com/appealkit/appealkit/source/replay"
)

// writeDeployment writes files (name → content) into a temporary directory
// and returns the path of deploy.yaml.
func writeDeployment(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600))
	}
	return filepath.Join(dir, "deploy.yaml")
}

// deploymentDir is an empty directory for a deployment and a function
// that writes one of its files.
func deploymentDir(t *testing.T) (string, func(name, body string)) {
	dir := t.TempDir()
	return dir, func(name, body string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600))
	}
}

// saveModel saves a classifier model or a learned router to path.
func saveModel(t *testing.T, path string, m interface{ Save(io.Writer) error }) {
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, m.Save(f))
	require.NoError(t, f.Close())
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestLoadDeploymentRunsReplayIntoSQLite(t *testing.T) {
	path := writeDeployment(t, map[string]string{
		"rules.yaml": string(rules.Region),
		"deploy.yaml": `store:
  driver: sqlite
  dsn: appeals.db
route:
  rules: rules.yaml
pseudonym_key_env: KEY
sources:
  - name: file
    kind: replay
    path: in.jsonl
`,
	})
	f, err := os.Create(filepath.Join(filepath.Dir(path), "in.jsonl"))
	require.NoError(t, err)
	w := replay.NewWriter(f)
	require.NoError(t, w.Write(appeal.Appeal{Network: appeal.NetworkVK, ExternalID: "-1_10", Text: "В Курске на улице Ленина огромная яма на дороге, машины бьют колёса"}))
	require.NoError(t, w.Write(appeal.Appeal{Network: appeal.NetworkVK, ExternalID: "-1_11", Text: "Всех с праздником!"}))
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())

	ctx := context.Background()
	d, err := appealkit.LoadDeployment(ctx, path, appealkit.DeployConfig{Sources: builtin.Registry(), Getenv: env(map[string]string{"KEY": "secret"})})
	require.NoError(t, err)
	defer d.Close()
	assert.Equal(t, []byte("secret"), d.Redact.Key)
	require.NotNil(t, d.Rules)

	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, d.Pipeline.Run(rctx))

	road, err := d.Store.Get(ctx, appeal.NewID(appeal.NetworkVK, "-1_10"))
	require.NoError(t, err)
	assert.Equal(t, appeal.StatusRouted, road.Status)
	require.NotNil(t, road.Assignment)
	assert.NotEmpty(t, road.Assignment.Executor)
	noise, err := d.Store.Get(ctx, appeal.NewID(appeal.NetworkVK, "-1_11"))
	require.NoError(t, err)
	assert.Equal(t, appeal.StatusRejected, noise.Status)

	// The store keeps the replay's cursor: a second load and run reads
	// nothing twice.
	cur, err := d.Checkpoints.Load(ctx, "replay:"+filepath.Join(filepath.Dir(path), "in.jsonl"))
	require.NoError(t, err)
	assert.NotEmpty(t, cur)
}

func TestLoadDeploymentErrorsPointAtTheFile(t *testing.T) {
	cases := []struct {
		name, file string
		want       string // in the error, after the file name
	}{
		{"unset token", "sources:\n  - name: kursk\n    kind: vk\n    token_env: VK_TOKEN\n    communities: [\"123\"]\n",
			":4:16: sources[0].token_env: environment variable VK_TOKEN is not set"},
		{"no token_env", "sources:\n  - name: kursk\n    kind: telegram\n",
			":2:5: sources[0].token_env: required"},
		{"typo in a source", "sources:\n  - name: f\n    kind: replay\n    pth: x.jsonl\n",
			":4:5: sources[0].pth: unknown setting (known: path, skip_bad_lines)"},
		{"typo at the top", "stor:\n  driver: sqlite\n",
			":1:1: stor: unknown setting"},
		{"unknown kind", "sources:\n  - name: f\n    kind: vkontakte\n",
			":3:11: sources[0].kind: unknown source kind \"vkontakte\" (registered: max, replay, telegram, vk)"},
		{"wrong type", "pipeline:\n  workers: many\n",
			":2:12: pipeline.workers: wrong value"},
		{"bad driver", "store:\n  driver: oracle\n  dsn: x\n",
			":2:3: store.driver: \"oracle\": want sqlite or postgres"},
		{"unset dsn env", "store:\n  driver: postgres\n  dsn_env: PG_DSN\n",
			":2:3: store.dsn_env: environment variable PG_DSN is not set"},
		{"unset pseudonym key", "pseudonym_key_env: APPEALKIT_PSEUDONYM_KEY\n",
			":1:20: pseudonym_key_env: environment variable APPEALKIT_PSEUDONYM_KEY is not set"},
		{"twice the same name", "sources:\n  - {name: f, kind: replay, path: a}\n  - {name: f, kind: replay, path: b}\n",
			":3:12: sources[1].name: name \"f\" is used twice"},
		{"not yaml", "store: [\n", ":1:1: not valid YAML"},
		// yaml.v3 blames the line where the list item began, or does not
		// say tab: the error names the line that is wrong, and why.
		{"dedented key", "sources:\n  - name: f\n    kind: replay\n  path: a\n",
			":4:3: not valid YAML: \"path:\" is indented 2 spaces, less than the list item it belongs to (line 2"},
		{"tab", "store:\n\tdriver: sqlite\n", ":2:1: not valid YAML: a tab character in the indentation"},
		{"key env not a name", "pseudonym_key_env: [A]\n", ":1:20: pseudonym_key_env: want the name of an environment variable"},
		{"sources not a list", "sources: {name: f}\n", ":1:10: sources: wrong value"},
		{"store not a mapping", "store: sqlite\n", ":1:8: store: want a mapping of settings"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeDeployment(t, map[string]string{"deploy.yaml": c.file})
			_, err := appealkit.LoadDeployment(context.Background(), path, appealkit.DeployConfig{Sources: builtin.Registry(), Getenv: env(nil)})
			require.Error(t, err)
			assert.True(t, errors.Is(err, appealkit.ErrBadDeployment), "%v", err)
			assert.Contains(t, err.Error(), path+c.want)
		})
	}
}

func TestLoadDeploymentWithoutRegistry(t *testing.T) {
	path := writeDeployment(t, map[string]string{"deploy.yaml": "sources:\n  - {name: f, kind: replay, path: a}\n"})
	_, err := appealkit.LoadDeployment(context.Background(), path, appealkit.DeployConfig{})
	require.ErrorContains(t, err, path+":2:21: sources[0].kind: no source kinds are registered: set DeployConfig.Sources")
}

func TestLoadDeploymentKeepsTheRulesFilePosition(t *testing.T) {
	path := writeDeployment(t, map[string]string{
		"rules.yaml":  "executors:\n  x: {name: X}\nrules:\n  - id: r\n    when: {topc: roads}\n    executor: x\n",
		"deploy.yaml": "route:\n  rules: rules.yaml\n",
	})
	_, err := appealkit.LoadDeployment(context.Background(), path, appealkit.DeployConfig{})
	var re *route.RuleError
	require.ErrorAs(t, err, &re)
	assert.True(t, strings.HasSuffix(re.File, "rules.yaml"), re.File)
	assert.Positive(t, re.Line)
}

// A program's own kind joins the shipped ones through the registry.
func TestLoadDeploymentCustomKind(t *testing.T) {
	reg := builtin.Registry()
	type portal struct {
		URL    string `yaml:"url"`
		KeyEnv string `yaml:"key_env"`
		Pages  int    `yaml:"pages"`
		secret string
	}
	var got portal
	require.NoError(t, reg.Register("portal", func(c appealkit.SourceConfig) (source.Source, error) {
		if err := c.Decode(&got); err != nil {
			return nil, err
		}
		var err error
		if got.secret, err = c.Env("key_env"); err != nil {
			return nil, err
		}
		if got.Pages < 1 {
			return nil, c.Errorf("pages", "want at least 1, got %d", got.Pages)
		}
		return idle{}, nil
	}))
	require.Error(t, reg.Register("portal", nil))
	require.Error(t, reg.Register("vk", func(appealkit.SourceConfig) (source.Source, error) { return nil, nil }), "a kind twice")

	path := writeDeployment(t, map[string]string{"deploy.yaml": "sources:\n  - name: gov\n    kind: portal\n    url: https://example.org\n    key_env: PORTAL_KEY\n    pages: 0\n"})
	_, err := appealkit.LoadDeployment(context.Background(), path, appealkit.DeployConfig{Sources: reg, Getenv: env(map[string]string{"PORTAL_KEY": "k"})})
	require.ErrorContains(t, err, path+":6:12: sources[0].pages: want at least 1, got 0")
	assert.Equal(t, "https://example.org", got.URL)
	assert.Equal(t, "k", got.secret)
}

// idle is a source with nothing to deliver.
type idle struct{}

func (idle) Run(ctx context.Context, sink source.Sink) error { return nil }

// The classifier's gazetteer and model and the answer templates come from
// the files the deployment names; their own errors keep their positions.
func TestLoadDeploymentClassifierAndTemplates(t *testing.T) {
	dir, write := deploymentDir(t)
	write("rules.yaml", string(rules.Region))
	write("places.yaml", "municipalities:\n  - name: Курский район\n    settlements: [Беседино]\n")
	write("answers.yaml", "templates:\n  - topic: roads\n    kind: interim\n    text: \"Принято. Исполнитель — {{.Executor}}.\"\n")
	m, err := classify.Train([]classify.Example{
		{Text: "яма на дороге", Label: "roads"}, {Text: "разбитый асфальт на дороге", Label: "roads"},
		{Text: "не вывозят мусор", Label: "garbage"}, {Text: "переполнены мусорные контейнеры", Label: "garbage"},
	}, classify.TrainConfig{})
	require.NoError(t, err)
	saveModel(t, filepath.Join(dir, "model.bin"), m)
	write("deploy.yaml", "classify: {model: model.bin, gazetteer: places.yaml, min_topic_score: 0.3}\nroute: {rules: rules.yaml}\nanswers: {templates: answers.yaml}\n")

	ctx := context.Background()
	d, err := appealkit.LoadDeployment(ctx, filepath.Join(dir, "deploy.yaml"), appealkit.DeployConfig{})
	require.NoError(t, err)
	defer d.Close()
	require.NotNil(t, d.Templates)
	assert.Equal(t, filepath.Join(dir, "rules.yaml"), d.RulesPath)
	a := appeal.Appeal{Text: "В Беседино яма на дороге"}
	require.NoError(t, d.Classifier.ClassifyAppeal(ctx, &a))
	assert.Equal(t, "roads", a.TopTopic(), "the model's label")
	assert.Equal(t, "Курский район", a.Municipality, "the gazetteer's place")

	write("answers.yaml", "templates:\n  - topic: roads\n    kind: interim\n    text: \"{{.Nonsense}}\"\n")
	_, err = appealkit.LoadDeployment(ctx, filepath.Join(dir, "deploy.yaml"), appealkit.DeployConfig{})
	var te *answer.TemplateError
	require.ErrorAs(t, err, &te, "%v", err)
	assert.Contains(t, err.Error(), "answers.yaml")

	write("deploy.yaml", "classify: {model: missing.bin}\n")
	_, err = appealkit.LoadDeployment(ctx, filepath.Join(dir, "deploy.yaml"), appealkit.DeployConfig{})
	require.ErrorIs(t, err, os.ErrNotExist)
	assert.Contains(t, err.Error(), "deploy.yaml:1:11: classify.model: cannot open the model")
}

// route.model loads a learned router saved with its per-rule thresholds:
// the model decides where the rules fall back, and a bad model or
// threshold is an error at its line.
func TestLoadDeploymentLearnedRouter(t *testing.T) {
	dir, write := deploymentDir(t)
	write("rules.yaml", string(rules.Region))
	var ex []learn.Example
	for range 30 {
		ex = append(ex,
			learn.Example{Appeal: &appeal.Appeal{Text: "в поликлинике не принимает врач, запись закрыта"}, Executor: "health-committee"},
			learn.Example{Appeal: &appeal.Appeal{Text: "в школе холодно, дети сидят в куртках"}, Executor: "education-committee"},
		)
	}
	m, err := learn.Train(ex, learn.TrainConfig{})
	require.NoError(t, err)
	saveModel(t, filepath.Join(dir, "router.bin"), m.WithThresholds(map[string]float64{"fallback": 0.3}))
	write("deploy.yaml", "route: {rules: rules.yaml, model: router.bin}\n")

	ctx := context.Background()
	d, err := appealkit.LoadDeployment(ctx, filepath.Join(dir, "deploy.yaml"), appealkit.DeployConfig{})
	require.NoError(t, err)
	defer d.Close()
	require.NotNil(t, d.Router)
	now := time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)
	dec := d.Router.RouteExplain(&appeal.Appeal{Text: "врач не принимает, в поликлинике закрыта запись"}, now)
	assert.True(t, dec.Learned, "%v", dec.Trace)
	assert.Equal(t, "health-committee", dec.Executor)
	assert.Equal(t, "fallback", dec.RuleID)

	for _, c := range []struct{ file, want string }{
		{"route: {rules: rules.yaml, model: missing.bin}\n", "deploy.yaml:1:8: route.model: cannot open the learned router"},
		{"route: {rules: rules.yaml, model: rules.yaml}\n", "deploy.yaml:1:8: route.model: cannot load the learned router"},
		{"route: {rules: rules.yaml, model: router.bin, threshold: 1.5}\n", "deploy.yaml:1:8: route.threshold: 1.5: want a confidence in (0, 1]"},
		{"route: {model: router.bin}\n", "deploy.yaml:1:8: route.model: needs route.rules"},
	} {
		write("deploy.yaml", c.file)
		_, err = appealkit.LoadDeployment(ctx, filepath.Join(dir, "deploy.yaml"), appealkit.DeployConfig{})
		require.Error(t, err, c.file)
		assert.ErrorIs(t, err, appealkit.ErrBadDeployment)
		assert.Contains(t, err.Error(), c.want)
	}
}

// With rules, deadlines run on the clock of the appeal's place by default.
func TestLoadDeploymentPlaceZone(t *testing.T) {
	dir, write := deploymentDir(t)
	write("rules.yaml", `
calendars:
  office: {timezone: Europe/Moscow, production: none, hours: {mon-fri: 09:00-18:00}}
executors: [{id: a}]
defaults: {calendar: office, respond_within: 8h}
fallback: {executor: a}
rules: []
`)
	now := time.Date(2025, 3, 3, 6, 0, 0, 0, time.UTC) // Monday: 09:00 in Moscow, 13:00 in Krasnoyarsk
	a := &appeal.Appeal{Municipality: "город Красноярск"}
	for _, c := range []struct {
		file string
		want time.Time
	}{
		{"route: {rules: rules.yaml}\n", time.Date(2025, 3, 4, 5, 0, 0, 0, time.UTC)},                     // 5h Monday, 3h Tuesday, Krasnoyarsk time
		{"route: {rules: rules.yaml, place_zone: false}\n", time.Date(2025, 3, 3, 14, 0, 0, 0, time.UTC)}, // 17:00 in Moscow
	} {
		write("deploy.yaml", c.file)
		d, err := appealkit.LoadDeployment(context.Background(), filepath.Join(dir, "deploy.yaml"), appealkit.DeployConfig{})
		require.NoError(t, err)
		got := d.Rules.Route(a, now).Deadline
		assert.True(t, c.want.Equal(got), "%s: %v", c.file, got)
		assert.True(t, time.Date(2025, 3, 3, 14, 0, 0, 0, time.UTC).Equal(d.Rules.Route(&appeal.Appeal{}, now).Deadline), "no place: the calendar's zone")
		require.NoError(t, d.Close())
	}
}
