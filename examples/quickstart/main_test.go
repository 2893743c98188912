package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuickstartRoutesTheSample(t *testing.T) {
	db := filepath.Join(t.TempDir(), "q.db")
	var out bytes.Buffer
	// Monday 12:00 Moscow time: a working day, so deadlines are in working hours.
	require.NoError(t, run(context.Background(), []string{"-db", db, "-now", "2026-11-23T12:00:00+03:00"}, &out))
	text := out.String()

	assert.Contains(t, text, "ID  ")
	assert.Contains(t, text, "EXECUTOR")
	// One table row per sample appeal.
	rows := regexp.MustCompile(`(?m)^(vk|ok|telegram|web):\S+ `).FindAllString(text, -1)
	assert.Len(t, rows, 46)
	assert.Contains(t, text, "Summary: 46 appeals")

	row := func(id string) string {
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(id) + ` .*$`).FindString(text)
		require.NotEmpty(t, m, "no row for %s", id)
		return m
	}
	// A pothole in a Курский район village goes to the district administration.
	assert.Regexp(t, `roads\s+Курский район\s+kursky-admin\s+24\.11 12:00\s+routed`, row("vk:-100_4000_c9000"))
	// A burst water main is urgent.
	assert.Regexp(t, `housing\.water\s+Льговский район\s+lgovsky-admin.*routed \(urgent\)`, row("ok:5105_70012"))
	// Stray dogs: the regional veterinary committee.
	assert.Contains(t, row("vk:-103_4010_c9010"), "veterinary-committee")
	// Gas smell: one calendar hour, whatever the district.
	assert.Regexp(t, `safety-committee\s+23\.11 13:00`, row("vk:-103_4024_c9024"))
	// Thanks, adverts and greetings are not appeals.
	for _, id := range []string{"vk:-100_4035_c9035", "vk:-101_5036", "ok:5102_70037", "telegram:-1002003_338", "vk:-104_4039_c9039"} {
		assert.Contains(t, row(id), "rejected", id)
	}
	assert.Contains(t, text, "Why ")
	assert.Contains(t, text, "by rule")

	// A second run on the same database replays nothing and stores nothing twice.
	var again bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-db", db, "-now", "2026-11-23T12:00:00+03:00"}, &again))
	assert.Contains(t, text, "За этот запуск: сохранено 46 за ", "the rate is in the summary")
	assert.Contains(t, again.String(), "appealkit quickstart: 0 new, 46 already stored", "the second run says it stored nothing")
	assert.NotContains(t, again.String(), "Summary:", "and does not print the first run's table as its own")
}

func TestQuickstartReadsAGzippedPortalExport(t *testing.T) {
	dir := t.TempDir()
	// Three made-up rows in the shape of the St Petersburg portal export.
	rows := `{"id": "1", "created": "2020-10-18T14:50:40.817676", "district": "Приморский", "label": "Дороги", "text": "Яма на дороге у дома 5, машины пробивают колёса"}
{"id": "2", "created": "2020-10-19T09:00:00", "district": "Невский", "label": "Мусор", "text": "Не вывозят мусор с контейнерной площадки третью неделю"}
{"id": "3", "created": "2020-10-20T10:00:00.5", "district": "Невский", "label": "Прочее", "text": "Спасибо за работу!"}
`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, err := zw.Write([]byte(rows))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	path := filepath.Join(dir, "portal.jsonl.gz")
	require.NoError(t, os.WriteFile(path, gz.Bytes(), 0o600))

	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-sample", path, "-db", filepath.Join(dir, "p.db"), "-now", "2026-11-23T12:00:00+03:00"}, &out))
	text := out.String()
	assert.Contains(t, text, "портальная выгрузка, 3 сообщений")
	assert.Contains(t, text, "Summary: 3 appeals")
	assert.Contains(t, text, "сохранено 3 за ")
	assert.Contains(t, text, "web:1 ")

	bad := filepath.Join(dir, "bad.jsonl")
	require.NoError(t, os.WriteFile(bad, []byte(`{"id": "1", "created": "yesterday", "text": "x"}`+"\n"), 0o600))
	err = run(context.Background(), []string{"-sample", bad}, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bad.jsonl:1: field created")
}

func TestQuickstartBadInputNamesTheFile(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"-rules", filepath.Join(t.TempDir(), "missing.yaml")}, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing.yaml")

	err = run(context.Background(), []string{"-now", "yesterday"}, &out)
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "-now"))
}
