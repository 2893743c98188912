package jetstream_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/jetstream"
	"github.com/appealkit/appealkit/source/sourcetest"
)

// The worker source passes the conformance suite: the upstream is a stream
// the suite's items were published to, and each NewSource is another worker
// on the same durable consumer (the consumer's acks are the checkpoint).
func TestConformance(t *testing.T) {
	srv := startServer(t, "", 0)
	sourcetest.Run(t, sourcetest.Features{Checkpointed: true, Quiet: 500 * time.Millisecond},
		func(t *testing.T, up sourcetest.Upstream) sourcetest.NewSource {
			_, js := connect(t, srv.ClientURL())
			cfg := freshConfig()
			cfg.AckWait = 2 * time.Second
			cfg.MaxDeliveries = 1000 // the suite's refusing sink must not dead-letter
			cfg.Backoff = source.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond, Jitter: 0.1}
			ctx := ctxTimeout(t, 10*time.Second)
			require.NoError(t, jetstream.Setup(ctx, js, cfg))
			pub, err := jetstream.NewPublisher(js, cfg)
			require.NoError(t, err)
			sink := pub.Sink()
			for i, it := range up.Items {
				require.NoError(t, sink(ctx, testAppeal("vk", i+1, "жалоба: "+it.Text)))
			}
			return func(source.Checkpoints) source.Source {
				s, err := jetstream.NewSource(js, cfg)
				require.NoError(t, err)
				return s
			}
		})
}
