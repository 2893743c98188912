package learn

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"

	"github.com/appealkit/appealkit/classify"
)

const (
	modelMagic = "AKROUTE\x00"
	// modelVersion 2 adds the per-rule thresholds after the support
	// counts; version 1 files (without them) still load.
	modelVersion = 2
)

// Errors of LoadModel, checkable with errors.Is.
var (
	// ErrNotModel: the input is not a learned router file.
	ErrNotModel = errors.New("learn: not a learned router file")
	// ErrCorruptModel: the file is a learned router but damaged or
	// truncated.
	ErrCorruptModel = errors.New("learn: corrupt learned router file")
)

// Save writes the model in the versioned binary format LoadModel reads.
func (m *Model) Save(w io.Writer) error {
	le := binary.LittleEndian
	var p []byte
	p = le.AppendUint64(p, math.Float64bits(m.temp))
	p = le.AppendUint32(p, math.Float32bits(m.ctx))
	p = le.AppendUint32(p, uint32(len(m.calX)))
	for i := range m.calX {
		p = le.AppendUint32(p, math.Float32bits(m.calX[i]))
		p = le.AppendUint32(p, math.Float32bits(m.calY[i]))
	}
	p = le.AppendUint32(p, uint32(len(m.labels)))
	for i, l := range m.labels {
		p = le.AppendUint32(p, uint32(len(l)))
		p = append(p, l...)
		p = le.AppendUint32(p, uint32(m.counts[i]))
		p = le.AppendUint32(p, math.Float32bits(m.bias[i]))
	}
	p = le.AppendUint32(p, uint32(len(m.slots)))
	for i, h := range m.slots {
		p = le.AppendUint64(p, h)
		p = le.AppendUint32(p, uint32(m.index[i]))
	}
	p = le.AppendUint32(p, uint32(len(m.offs)))
	for _, o := range m.offs {
		p = le.AppendUint32(p, o)
	}
	for _, v := range m.idf {
		p = le.AppendUint32(p, math.Float32bits(v))
	}
	for i, c := range m.cls {
		p = le.AppendUint16(p, c)
		p = le.AppendUint32(p, math.Float32bits(m.w[i]))
	}
	p = le.AppendUint32(p, uint32(len(m.support)))
	for k, v := range m.support {
		p = le.AppendUint64(p, k)
		p = le.AppendUint32(p, uint32(v))
	}
	ids := slices.Sorted(maps.Keys(m.thresholds))
	p = le.AppendUint32(p, uint32(len(ids)))
	for _, id := range ids {
		p = le.AppendUint32(p, uint32(len(id)))
		p = append(p, id...)
		p = le.AppendUint64(p, math.Float64bits(m.thresholds[id]))
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(modelMagic)
	var hdr []byte
	hdr = le.AppendUint32(hdr, modelVersion)
	hdr = le.AppendUint64(hdr, uint64(len(p)))
	bw.Write(hdr)
	bw.Write(p)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("learn: saving model: %w", err)
	}
	return nil
}

// reader decodes the payload, remembering the first failure.
type reader struct {
	b   []byte
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		if r.err == nil {
			r.err = fmt.Errorf("%w: truncated", ErrCorruptModel)
		}
		return make([]byte, 8) // enough for the fixed-size reads; a bad length must not allocate it
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}
func (r *reader) u16() uint16 { return binary.LittleEndian.Uint16(r.take(2)) }
func (r *reader) u32() uint32 { return binary.LittleEndian.Uint32(r.take(4)) }
func (r *reader) u64() uint64 { return binary.LittleEndian.Uint64(r.take(8)) }

// count reads a length and checks that at least n*each bytes follow.
func (r *reader) count(each int) int {
	n := int(r.u32())
	if r.err == nil && n*each > len(r.b) {
		r.err = fmt.Errorf("%w: a count of %d does not fit the file", ErrCorruptModel, n)
		return 0
	}
	return n
}

// LoadModel reads a model that Save wrote. It checks the file's structure,
// so a damaged file gives ErrCorruptModel rather than a model that panics.
func LoadModel(rd io.Reader) (*Model, error) {
	all, err := io.ReadAll(rd)
	if err != nil {
		return nil, fmt.Errorf("learn: reading model: %w", err)
	}
	if !bytes.HasPrefix(all, []byte(modelMagic)) {
		return nil, ErrNotModel
	}
	r := &reader{b: all[len(modelMagic):]}
	version := r.u32()
	if r.err == nil && (version < 1 || version > modelVersion) {
		return nil, fmt.Errorf("%w: version %d, want 1 to %d", ErrCorruptModel, version, modelVersion)
	}
	if size := r.u64(); r.err == nil && size != uint64(len(r.b)) {
		return nil, fmt.Errorf("%w: payload of %d bytes, header says %d", ErrCorruptModel, len(r.b), size)
	}
	m := &Model{support: map[uint64]int32{}, cache: classify.NewStemCache(0)}
	m.temp = math.Float64frombits(r.u64())
	m.ctx = math.Float32frombits(r.u32())
	ncal := r.count(8)
	for range ncal {
		m.calX = append(m.calX, math.Float32frombits(r.u32()))
		m.calY = append(m.calY, math.Float32frombits(r.u32()))
	}
	k := r.count(12)
	if k > maxExecutors {
		return nil, fmt.Errorf("%w: %d executors", ErrCorruptModel, k)
	}
	for range k {
		m.labels = append(m.labels, string(r.take(int(r.u32()))))
		m.counts = append(m.counts, int32(r.u32()))
		m.bias = append(m.bias, math.Float32frombits(r.u32()))
	}
	ns := r.count(12)
	if r.err == nil && (ns == 0 || ns&(ns-1) != 0) {
		return nil, fmt.Errorf("%w: feature table of %d slots is not a power of two", ErrCorruptModel, ns)
	}
	m.slots, m.index = make([]uint64, ns), make([]int32, ns)
	for i := range ns {
		m.slots[i], m.index[i] = r.u64(), int32(r.u32())
	}
	no := r.count(4)
	m.offs = make([]uint32, no)
	for i := range no {
		m.offs[i] = r.u32()
	}
	if r.err == nil && no == 0 {
		r.err = fmt.Errorf("%w: no feature offsets", ErrCorruptModel)
	}
	if r.err == nil && (no-1)*4 > len(r.b) {
		r.err = fmt.Errorf("%w: truncated", ErrCorruptModel)
	}
	if r.err == nil {
		m.idf = make([]float32, no-1)
		for i := range m.idf {
			m.idf[i] = math.Float32frombits(r.u32())
		}
	}
	nw := 0
	if no > 0 {
		nw = int(m.offs[no-1])
	}
	if r.err == nil && nw*6 > len(r.b) {
		r.err = fmt.Errorf("%w: %d weights do not fit the file", ErrCorruptModel, nw)
	}
	if r.err != nil {
		return nil, r.err
	}
	m.cls, m.w = make([]uint16, nw), make([]float32, nw)
	for i := range nw {
		m.cls[i], m.w[i] = r.u16(), math.Float32frombits(r.u32())
	}
	nsup := r.count(12)
	for range nsup {
		kk := r.u64()
		m.support[kk] = int32(r.u32())
	}
	if version >= 2 {
		nt := r.count(12)
		if nt > 0 {
			m.thresholds = make(map[string]float64, nt)
		}
		for range nt {
			id := string(r.take(int(r.u32())))
			t := math.Float64frombits(r.u64())
			if r.err == nil && (math.IsNaN(t) || t < 0 || t > 1) {
				return nil, fmt.Errorf("%w: threshold %v for rule %q", ErrCorruptModel, t, id)
			}
			m.thresholds[id] = t
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the end", ErrCorruptModel, len(r.b))
	}
	// Every index the hot path follows must be in range.
	nf, used := no-1, 0
	for i, h := range m.slots {
		if h != 0 {
			used++
		}
		if h != 0 && (m.index[i] < 0 || int(m.index[i]) >= nf) {
			return nil, fmt.Errorf("%w: feature index %d out of range", ErrCorruptModel, m.index[i])
		}
	}
	if used == ns {
		return nil, fmt.Errorf("%w: feature table has no free slot", ErrCorruptModel)
	}
	for i := 1; i < no; i++ {
		if m.offs[i] < m.offs[i-1] {
			return nil, fmt.Errorf("%w: feature offsets go backwards", ErrCorruptModel)
		}
	}
	for _, c := range m.cls {
		if int(c) >= k {
			return nil, fmt.Errorf("%w: executor %d out of range", ErrCorruptModel, c)
		}
	}
	for i := range m.calX {
		if i > 0 && !(m.calX[i] >= m.calX[i-1]) || math.IsNaN(float64(m.calY[i])) {
			return nil, fmt.Errorf("%w: calibration out of order", ErrCorruptModel)
		}
	}
	if m.temp <= 0 || math.IsNaN(m.temp) || math.IsInf(m.temp, 0) {
		return nil, fmt.Errorf("%w: temperature %v", ErrCorruptModel, m.temp)
	}
	if len(m.bias) != k || len(m.idf) != nf {
		return nil, fmt.Errorf("%w: sizes do not match", ErrCorruptModel)
	}
	m.prepare()
	return m, nil
}
