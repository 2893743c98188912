package webhook

import (
	"container/list"
	"sync"
	"time"
)

type idemState int

const (
	idemNew idemState = iota
	idemInFlight
	idemDone
	idemMismatch
)

// idempotency remembers the replies to requests that carried an
// Idempotency-Key, bounded by count and age.
type idempotency struct {
	mu    sync.Mutex
	max   int
	ttl   time.Duration
	items map[string]*list.Element
	order *list.List // front = newest
}

type idemEntry struct {
	key    string
	digest [32]byte
	done   bool
	rep    reply
	at     time.Time
}

func newIdempotency(max int, ttl time.Duration) *idempotency {
	return &idempotency{max: max, ttl: ttl, items: map[string]*list.Element{}, order: list.New()}
}

// begin claims key for a request with the given body digest. It returns the
// stored reply when the same request already succeeded.
func (m *idempotency) begin(key string, digest [32]byte, now time.Time) (reply, idemState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expire(now)
	if el, ok := m.items[key]; ok {
		e := el.Value.(*idemEntry)
		switch {
		case e.digest != digest:
			return reply{}, idemMismatch
		case !e.done:
			return reply{}, idemInFlight
		default:
			return e.rep, idemDone
		}
	}
	m.items[key] = m.order.PushFront(&idemEntry{key: key, digest: digest, at: now})
	for m.order.Len() > m.max {
		m.remove(m.order.Back())
	}
	return reply{}, idemNew
}

// end records the outcome: a success is remembered, a failure forgets the
// key so that the sender's retry is processed again.
func (m *idempotency) end(key string, digest [32]byte, ok bool, rep reply, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	el, found := m.items[key]
	if !found {
		return
	}
	e := el.Value.(*idemEntry)
	if e.digest != digest || e.done {
		return
	}
	if !ok {
		m.remove(el)
		return
	}
	e.done, e.rep, e.at = true, rep, now
	m.order.MoveToFront(el)
}

func (m *idempotency) expire(now time.Time) {
	for el := m.order.Back(); el != nil; el = m.order.Back() {
		e := el.Value.(*idemEntry)
		if !e.done || now.Sub(e.at) < m.ttl {
			return
		}
		m.remove(el)
	}
}

func (m *idempotency) remove(el *list.Element) {
	delete(m.items, el.Value.(*idemEntry).key)
	m.order.Remove(el)
}
