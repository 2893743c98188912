package source

import "context"

type replyKeyCtx struct{}

// WithReplyKey returns a context that carries the idempotency key of the
// answer a Replier is asked to post. Repliers of networks that deduplicate
// (VK guid and random_id) send it, so that posting the same answer again
// after a crash is dropped by the network instead of shown twice.
func WithReplyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, replyKeyCtx{}, key)
}

// ReplyKey returns the key WithReplyKey put in ctx, or "".
func ReplyKey(ctx context.Context) string {
	k, _ := ctx.Value(replyKeyCtx{}).(string)
	return k
}
