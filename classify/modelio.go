package classify

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"unicode/utf8"
)

// Model file format, version 1 (all integers little-endian):
//
//	magic   [16]byte "APPEALKIT-MODEL\n"
//	version uint32   (1)
//	length  uint64   payload length in bytes
//	payload          see Save
//	crc     uint32   CRC-32 (IEEE) of the payload
//
// The magic tells a model from any other file, the version lets later
// releases read old models or refuse them clearly, and the checksum catches
// truncation and corruption before a damaged model classifies anything.
const (
	modelMagic   = "APPEALKIT-MODEL\n"
	modelVersion = 1
	// maxModelPayload bounds what Load will allocate for a file that
	// claims to be huge.
	maxModelPayload = 1 << 31
)

// Errors Load returns; match them with errors.Is.
var (
	// ErrNotModel: the input is not an appealkit model file at all.
	ErrNotModel = errors.New("classify: not an appealkit model file")
	// ErrModelVersion: the file is a model of a version this release
	// cannot read.
	ErrModelVersion = errors.New("classify: unsupported model version")
	// ErrCorruptModel: the file is a model but damaged or truncated.
	ErrCorruptModel = errors.New("classify: corrupt model file")
)

// Save writes the model in the versioned binary format Load reads.
func (m *Model) Save(w io.Writer) error {
	k := len(m.labels)
	var p []byte
	// flags: bit 0 bigrams, bits 8-15 the stem-prefix length.
	p = binary.LittleEndian.AppendUint32(p, boolToU32(m.feat.bigrams)|uint32(m.feat.prefix&0xff)<<8)
	p = binary.LittleEndian.AppendUint32(p, uint32(m.topK))
	p = binary.LittleEndian.AppendUint64(p, math.Float64bits(m.temp))
	p = binary.LittleEndian.AppendUint32(p, uint32(k))
	for _, l := range m.labels {
		p = binary.LittleEndian.AppendUint32(p, uint32(len(l)))
		p = append(p, l...)
	}
	p = binary.LittleEndian.AppendUint32(p, uint32(len(m.hashes)))
	for _, h := range m.hashes {
		p = binary.LittleEndian.AppendUint64(p, h)
	}
	for f := range m.hashes {
		p = binary.LittleEndian.AppendUint32(p, math.Float32bits(m.idf(int32(f))))
	}
	for _, v := range m.bias {
		p = binary.LittleEndian.AppendUint32(p, math.Float32bits(v))
	}
	// Weights feature-major: w[f*k+c].
	for f := range m.hashes {
		for _, v := range m.weights(int32(f)) {
			p = binary.LittleEndian.AppendUint32(p, math.Float32bits(v))
		}
	}

	bw := bufio.NewWriter(w)
	var hdr []byte
	hdr = append(hdr, modelMagic...)
	hdr = binary.LittleEndian.AppendUint32(hdr, modelVersion)
	hdr = binary.LittleEndian.AppendUint64(hdr, uint64(len(p)))
	bw.Write(hdr)
	bw.Write(p)
	var crc [4]byte
	binary.LittleEndian.PutUint32(crc[:], crc32.ChecksumIEEE(p))
	bw.Write(crc[:])
	return bw.Flush()
}

func boolToU32(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// LoadOption configures Load.
type LoadOption func(*Model)

// WithModelCache makes a loaded model use a shared stem cache instead of a
// new one.
func WithModelCache(c *StemCache) LoadOption {
	return func(m *Model) {
		if c != nil {
			m.cache = c
		}
	}
}

// Load reads a model written by Save. A file that is not a model gives
// ErrNotModel, one of an unknown version ErrModelVersion, and a truncated or
// damaged one ErrCorruptModel; the error says what was wrong.
func Load(r io.Reader, opts ...LoadOption) (*Model, error) {
	hdr := make([]byte, len(modelMagic)+4+8)
	if n, err := io.ReadFull(r, hdr); err != nil {
		if n < len(modelMagic) || string(hdr[:len(modelMagic)]) != modelMagic {
			return nil, fmt.Errorf("%w: file is only %d bytes long", ErrNotModel, n)
		}
		return nil, fmt.Errorf("%w: header truncated at byte %d", ErrCorruptModel, n)
	}
	if string(hdr[:len(modelMagic)]) != modelMagic {
		return nil, fmt.Errorf("%w: bad magic %q", ErrNotModel, hdr[:min(len(modelMagic), 8)])
	}
	if v := binary.LittleEndian.Uint32(hdr[len(modelMagic):]); v != modelVersion {
		return nil, fmt.Errorf("%w: file has version %d, this release reads version %d", ErrModelVersion, v, modelVersion)
	}
	size := binary.LittleEndian.Uint64(hdr[len(modelMagic)+4:])
	if size > maxModelPayload {
		return nil, fmt.Errorf("%w: payload length %d is implausible", ErrCorruptModel, size)
	}
	body := make([]byte, size+4)
	if n, err := io.ReadFull(r, body); err != nil {
		return nil, fmt.Errorf("%w: truncated: payload of %d bytes expected, got %d", ErrCorruptModel, size+4, n)
	}
	p := body[:size]
	if got, want := crc32.ChecksumIEEE(p), binary.LittleEndian.Uint32(body[size:]); got != want {
		return nil, fmt.Errorf("%w: checksum mismatch (%08x, file says %08x)", ErrCorruptModel, got, want)
	}
	m, err := decodeModel(p)
	if err != nil {
		return nil, err
	}
	m.cache = NewStemCache(0)
	for _, o := range opts {
		o(m)
	}
	return m, nil
}

// payloadReader reads fixed-size fields and remembers the first overrun.
type payloadReader struct {
	p   []byte
	off int
	err error
}

func (r *payloadReader) take(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || r.off+n > len(r.p) {
		r.err = fmt.Errorf("%w: %s at byte %d runs past the end of the payload (%d bytes)", ErrCorruptModel, what, r.off, len(r.p))
		return nil
	}
	b := r.p[r.off : r.off+n]
	r.off += n
	return b
}

func (r *payloadReader) u32(what string) uint32 {
	if b := r.take(4, what); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (r *payloadReader) u64(what string) uint64 {
	if b := r.take(8, what); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

func (r *payloadReader) f32s(n int, what string) []float32 {
	b := r.take(4*n, what)
	if b == nil {
		return nil
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func decodeModel(p []byte) (*Model, error) {
	r := &payloadReader{p: p}
	m := &Model{}
	flags := r.u32("flags")
	if flags&^0xff01 != 0 {
		return nil, fmt.Errorf("%w: unknown feature flags %#x", ErrCorruptModel, flags)
	}
	m.feat = featureConfig{bigrams: flags&1 == 1, prefix: int(flags>>8) & 0xff}
	m.topK = int(r.u32("top-k"))
	m.temp = math.Float64frombits(r.u64("temperature"))
	k := int(r.u32("label count"))
	if r.err == nil && (k < 2 || k > len(p)) {
		return nil, fmt.Errorf("%w: label count %d", ErrCorruptModel, k)
	}
	for i := 0; i < k && r.err == nil; i++ {
		n := int(r.u32("label length"))
		b := r.take(n, "label")
		if r.err == nil && !utf8.Valid(b) {
			return nil, fmt.Errorf("%w: label %d is not UTF-8", ErrCorruptModel, i)
		}
		m.labels = append(m.labels, string(b))
	}
	nf := int(r.u32("feature count"))
	if r.err == nil && nf > len(p)/8 {
		return nil, fmt.Errorf("%w: feature count %d exceeds the payload", ErrCorruptModel, nf)
	}
	hb := r.take(8*nf, "feature hashes")
	idf := r.f32s(nf, "idf")
	m.bias = r.f32s(k, "bias")
	w := r.f32s(nf*k, "weights")
	if r.err != nil {
		return nil, r.err
	}
	if r.off != len(p) {
		return nil, fmt.Errorf("%w: %d unexpected bytes after the weights", ErrCorruptModel, len(p)-r.off)
	}
	if m.topK <= 0 || m.temp <= 0 || math.IsNaN(m.temp) || math.IsInf(m.temp, 0) {
		return nil, fmt.Errorf("%w: bad top-k %d or temperature %v", ErrCorruptModel, m.topK, m.temp)
	}
	for _, vs := range [][]float32{idf, m.bias, w} {
		for _, v := range vs {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("%w: a weight is %v", ErrCorruptModel, v)
			}
		}
	}
	m.hashes = make([]uint64, nf)
	for i := range m.hashes {
		m.hashes[i] = binary.LittleEndian.Uint64(hb[8*i:])
	}
	var ok bool
	if m.index, ok = newFeatIndex(m.hashes); !ok {
		return nil, fmt.Errorf("%w: duplicate feature hashes", ErrCorruptModel)
	}
	m.stride = k + 1
	m.rows = make([]float32, nf*m.stride)
	for f := 0; f < nf; f++ {
		m.rows[f*m.stride] = idf[f]
		copy(m.rows[f*m.stride+1:(f+1)*m.stride], w[f*k:(f+1)*k])
	}
	return m, nil
}
