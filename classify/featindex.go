package classify

import "math/bits"

// featIndex maps feature hashes to feature numbers with open addressing
// and linear probing in one flat array: one cache line per lookup, where a
// Go map costs several on a model of a hundred thousand features.
type featIndex struct {
	slots []featSlot
	shift uint // 64 - log2(len(slots))
}

type featSlot struct {
	key uint64 // feature hash + 1; 0 marks an empty slot
	num int32
}

// newFeatIndex indexes hashes: hashes[i] gets feature number i. It reports
// false if a hash occurs twice.
func newFeatIndex(hashes []uint64) (*featIndex, bool) {
	size := 8
	for size < 2*len(hashes) {
		size <<= 1
	}
	ix := &featIndex{slots: make([]featSlot, size), shift: uint(64 - bits.TrailingZeros(uint(size)))}
	for i, h := range hashes {
		s := ix.home(h)
		for ix.slots[s].key != 0 {
			if ix.slots[s].key == h+1 {
				return nil, false
			}
			s = (s + 1) & (len(ix.slots) - 1)
		}
		ix.slots[s] = featSlot{key: h + 1, num: int32(i)}
	}
	return ix, true
}

// home spreads the hash over the table (Fibonacci hashing).
func (ix *featIndex) home(h uint64) int {
	return int(((h + 1) * 0x9e3779b97f4a7c15) >> ix.shift)
}

// get returns the feature number of hash h.
func (ix *featIndex) get(h uint64) (int32, bool) {
	mask := len(ix.slots) - 1
	for s := ix.home(h); ; s = (s + 1) & mask {
		switch ix.slots[s].key {
		case h + 1:
			return ix.slots[s].num, true
		case 0:
			return 0, false
		}
	}
}
