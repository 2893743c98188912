package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source/replay"
)

// portalRow is one message of a city portal export such as the St
// Petersburg sample (../shared/data/spb): an id, a local creation time
// without a zone, and the text. The other fields (the portal's own
// category, district and executor) are left out: classifying and routing
// is the pipeline's job.
type portalRow struct {
	ID      string `json:"id"`
	Created string `json:"created"`
	Text    string `json:"text"`
}

// openMaybeGzip opens path, decompressing it when it starts with the gzip
// magic bytes.
func openMaybeGzip(path string) (io.Reader, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReaderSize(f, 1<<16)
	if m, _ := br.Peek(2); len(m) == 2 && m[0] == 0x1f && m[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("%s: gzip header: %w", path, err)
		}
		return zr, f.Close, nil
	}
	return br, f.Close, nil
}

// isPortalExport reports whether the first line of path is a portal row
// (it has "created" and "text" but no "network") rather than an appeal.
func isPortalExport(path string) (bool, error) {
	r, closeFn, err := openMaybeGzip(path)
	if err != nil {
		return false, err
	}
	defer closeFn()
	line, err := bufio.NewReaderSize(r, 1<<16).ReadBytes('\n')
	if err != nil && len(line) == 0 {
		return false, nil
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(bytes.TrimSpace(line), &probe) != nil {
		return false, nil // not JSON: let replay name the bad line
	}
	_, created := probe["created"]
	_, text := probe["text"]
	_, network := probe["network"]
	return created && text && !network, nil
}

// convertPortal writes the portal rows of src as appeals (network web,
// kind message, created in Moscow time) to dst, the JSONL file replay reads.
// It returns how many it wrote; a bad row gives an error naming its line.
func convertPortal(src, dst string) (int, error) {
	r, closeFn, err := openMaybeGzip(src)
	if err != nil {
		return 0, err
	}
	defer closeFn()
	msk, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		return 0, err
	}
	out, err := os.Create(dst)
	if err != nil {
		return 0, err
	}
	w := replay.NewWriter(out)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), replay.DefaultMaxLineBytes)
	n, line := 0, 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var row portalRow
		if err := json.Unmarshal(b, &row); err != nil {
			out.Close()
			return n, fmt.Errorf("%s:%d: %w", src, line, err)
		}
		at, err := time.ParseInLocation("2006-01-02T15:04:05.999999", row.Created, msk)
		if err != nil {
			out.Close()
			return n, fmt.Errorf("%s:%d: field created: %w", src, line, err)
		}
		if err := w.Write(appeal.Appeal{Network: appeal.NetworkWeb, Kind: appeal.KindMessage, ExternalID: row.ID,
			Text: row.Text, CreatedAt: at}); err != nil {
			out.Close()
			return n, fmt.Errorf("%s:%d: %w", src, line, err)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		out.Close()
		return n, fmt.Errorf("%s: %w", src, err)
	}
	if err := w.Flush(); err != nil {
		out.Close()
		return n, err
	}
	return n, out.Close()
}
