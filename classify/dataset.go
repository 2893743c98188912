package classify

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
)

// ErrBadData: a line of an examples file is not a usable example.
var ErrBadData = errors.New("classify: bad example data")

// DataError names the file and line of a bad example. It matches ErrBadData.
type DataError struct {
	File string // the name given to ReadExamples
	Line int    // 1-based line number
	Msg  string // what is wrong
	Err  error  // the underlying error, if any
}

// Error formats the error as file:line: message.
func (e *DataError) Error() string {
	s := fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is makes errors.Is(err, ErrBadData) true.
func (e *DataError) Is(target error) bool { return target == ErrBadData }

// Unwrap returns the underlying error (a JSON syntax error, for one).
func (e *DataError) Unwrap() error { return e.Err }

// ReadExamples reads JSON Lines of examples: one object a line with at least
// "text" and "label" (other fields are ignored). Gzip-compressed input is
// recognised by its magic bytes. Blank lines are skipped. name is used in
// errors (a file name). A line that is not JSON, or has no label, gives a
// *DataError with its line number.
func ReadExamples(r io.Reader, name string) ([]Example, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, &DataError{File: name, Line: 0, Msg: "bad gzip header", Err: err}
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 1<<16)
	}
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 0, 1<<16), 16<<20)
	var out []Example
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var ex Example
		if err := json.Unmarshal(b, &ex); err != nil {
			return nil, &DataError{File: name, Line: line, Msg: "not a JSON object with text and label", Err: err}
		}
		if ex.Label == "" {
			return nil, &DataError{File: name, Line: line, Msg: `field "label" is missing or empty`}
		}
		out = append(out, ex)
	}
	if err := sc.Err(); err != nil {
		return nil, &DataError{File: name, Line: line + 1, Msg: "read failed", Err: err}
	}
	return out, nil
}

// SplitExamples splits examples deterministically into a training share
// frac (0 < frac < 1) and a test rest, stratified by label so that rare
// labels land on both sides. The same seed always gives the same split. The
// input is not modified.
func SplitExamples(examples []Example, frac float64, seed uint64) (train, test []Example) {
	order := make([]int, len(examples))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(seed, 0x5911))
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(examples[a].Label, examples[b].Label) })
	// Within each label, the first frac go to training.
	for i := 0; i < len(order); {
		j := i
		for j < len(order) && examples[order[j]].Label == examples[order[i]].Label {
			j++
		}
		nTrain := int(float64(j-i)*frac + 0.5)
		if nTrain == j-i && j-i > 1 {
			nTrain-- // keep at least one for testing when there are two
		}
		for k := i; k < j; k++ {
			if k-i < nTrain {
				train = append(train, examples[order[k]])
			} else {
				test = append(test, examples[order[k]])
			}
		}
		i = j
	}
	return train, test
}
