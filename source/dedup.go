package source

import (
	"container/list"
	"sync"
)

// Dedup remembers the most recent ids it was shown, up to a fixed number, and
// reports repeats. Sources use it to drop the duplicates that polling windows
// and redelivered webhooks produce; it is a filter against noise, not the
// guarantee of effectively-once (the Store's idempotent Put is). Safe for
// concurrent use.
type Dedup struct {
	mu    sync.Mutex
	size  int
	order *list.List // front = most recently seen
	index map[string]*list.Element
}

// NewDedup returns a window of the size most recently seen ids; size < 1 is
// taken as 1.
func NewDedup(size int) *Dedup {
	if size < 1 {
		size = 1
	}
	return &Dedup{size: size, order: list.New(), index: make(map[string]*list.Element, size)}
}

// Seen records id and reports whether it was already in the window. A
// repeated id becomes the most recent again.
func (d *Dedup) Seen(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e, ok := d.index[id]; ok {
		d.order.MoveToFront(e)
		return true
	}
	d.index[id] = d.order.PushFront(id)
	if d.order.Len() > d.size {
		last := d.order.Back()
		d.order.Remove(last)
		delete(d.index, last.Value.(string))
	}
	return false
}

// Has reports whether id is in the window, without recording it.
func (d *Dedup) Has(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.index[id]
	return ok
}

// Forget removes id from the window, so that it is let through again. Call
// it when the sink refused an appeal whose id was already recorded.
func (d *Dedup) Forget(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e, ok := d.index[id]; ok {
		d.order.Remove(e)
		delete(d.index, id)
	}
}

// Len returns how many ids the window holds.
func (d *Dedup) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.order.Len()
}
