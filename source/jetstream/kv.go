package jetstream

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	natsjs "github.com/nats-io/nats.go/jetstream"
)

// Checkpoints is source.Checkpoints in a JetStream KV bucket, shared by the
// intake replicas: when a community moves to another replica, that replica
// resumes from the cursor the previous one saved. Each Save is one KV put,
// replicated like the bucket. It is safe for concurrent use.
type Checkpoints struct {
	kv natsjs.KeyValue
}

// CheckpointsConfig names the checkpoint bucket.
type CheckpointsConfig struct {
	// Bucket is the KV bucket (default "appealkit_checkpoints").
	Bucket string
	// Replicas is how many servers keep it (default 1; 3 in a cluster of 3).
	Replicas int
	// MemoryStorage keeps it in memory: for tests only.
	MemoryStorage bool
}

// OpenCheckpoints creates the bucket if needed and returns checkpoints in it.
func OpenCheckpoints(ctx context.Context, js natsjs.JetStream, cfg CheckpointsConfig) (*Checkpoints, error) {
	if cfg.Bucket == "" {
		cfg.Bucket = "appealkit_checkpoints"
	}
	st := natsjs.FileStorage
	if cfg.MemoryStorage {
		st = natsjs.MemoryStorage
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, natsjs.KeyValueConfig{
		Bucket: cfg.Bucket, Description: "appealkit: intake sources' cursors",
		History: 1, Storage: st, Replicas: max(cfg.Replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("jetstream: checkpoint bucket %s: %w", cfg.Bucket, err)
	}
	return &Checkpoints{kv: kv}, nil
}

// Load returns the cursor saved under key, or "" when none was saved.
func (c *Checkpoints) Load(ctx context.Context, key string) (string, error) {
	e, err := c.kv.Get(ctx, kvKey(key))
	switch {
	case errors.Is(err, natsjs.ErrKeyNotFound):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("jetstream: load checkpoint %q: %w", key, err)
	}
	return string(e.Value()), nil
}

// Save stores cursor under key.
func (c *Checkpoints) Save(ctx context.Context, key, cursor string) error {
	if _, err := c.kv.Put(ctx, kvKey(key), []byte(cursor)); err != nil {
		return fmt.Errorf("jetstream: save checkpoint %q: %w", key, err)
	}
	return nil
}

// kvKey escapes s into a KV key token: letters, digits, '-' and '_' stay,
// every other byte becomes =XX (hex), so that distinct names never collide
// and none contains the '.' that separates tokens.
func kvKey(s string) string {
	if s == "" {
		return "="
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	return b.String()
}

// unKVKey reverses kvKey.
func unKVKey(k string) string {
	if k == "=" {
		return ""
	}
	var b strings.Builder
	for i := 0; i < len(k); i++ {
		if k[i] == '=' && i+2 < len(k) {
			if v, err := strconv.ParseUint(k[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(k[i])
	}
	return b.String()
}
