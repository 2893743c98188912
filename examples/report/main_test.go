package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appealkit/appealkit/appeal/sqlstore"
	"github.com/appealkit/appealkit/appeal/stats/statstest"
)

func TestGeneratedSample(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-out", dir, "-n", "600"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "appeals 600,") {
		t.Errorf("summary: %s", out.String())
	}
	page, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="kpi-total"`, `data-value="600"`, `id="table-incidents"`, "<svg"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("report.html lacks %s", want)
		}
	}
	for _, f := range []string{"weeks.csv", "executors.csv"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestFromSQLiteStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "appeals.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlstore.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	data := statstest.Generate(statstest.Options{N: 1200, Seed: 4})
	for _, a := range data {
		if _, err := st.Put(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	var out bytes.Buffer
	dir := t.TempDir()
	if err := run(ctx, []string{"-db", path, "-out", dir, "-now", "2026-04-01T00:00:00Z"}, &out); err != nil {
		t.Fatal(err)
	}
	// 1200 appeals read through more than one page of 1000.
	if !strings.Contains(out.String(), "appeals 1200,") {
		t.Errorf("summary: %s", out.String())
	}
}

func TestSampleErrorsNameTheLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.jsonl")
	good, _ := json.Marshal(statstest.Generate(statstest.Options{N: 1})[0])
	os.WriteFile(path, append(append(good, '\n'), []byte("{\"network\": 5}\n")...), 0o644)
	err := run(context.Background(), []string{"-sample", path, "-out", t.TempDir()}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "bad.jsonl:2") {
		t.Errorf("err = %v", err)
	}
}

func TestMissingDatabaseIsNotCreated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.db")
	err := run(context.Background(), []string{"-db", path, "-out", t.TempDir()}, &bytes.Buffer{})
	if err == nil {
		t.Fatal("no error for a missing database")
	}
	if _, statErr := os.Stat(path); !os.IsNotExist(statErr) {
		t.Errorf("a database was created at %s", path)
	}
}

func TestEmptyDatabaseFileIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"-db", path, "-out", t.TempDir()}, &bytes.Buffer{})
	if !errors.Is(err, sqlstore.ErrNotAppealDB) {
		t.Fatalf("err = %v, want sqlstore.ErrNotAppealDB", err)
	}
	if fi, statErr := os.Stat(path); statErr != nil || fi.Size() != 0 {
		t.Errorf("the empty file was written to (%v)", statErr)
	}
}

func TestQuickstartSample(t *testing.T) {
	const sample = "../quickstart/sample.jsonl"
	if _, err := os.Stat(sample); err != nil {
		t.Skipf("%s absent", sample)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-sample", sample, "-out", t.TempDir()}, &out); err != nil {
		t.Fatal(err)
	}
}
