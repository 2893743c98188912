package main

import (
	"bytes"
	"context"
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
	for _, id := range []string{"vk:-100_4035_c9035", "vk:-101_5036", "ok:5102_70037", "telegram:-1002003:338", "vk:-104_4039_c9039"} {
		assert.Contains(t, row(id), "rejected", id)
	}
	assert.Contains(t, text, "Why ")
	assert.Contains(t, text, "by rule")

	// A second run on the same database replays nothing and stores nothing twice.
	var again bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-db", db, "-now", "2026-11-23T12:00:00+03:00"}, &again))
	assert.Contains(t, again.String(), "Summary: 46 appeals")
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
