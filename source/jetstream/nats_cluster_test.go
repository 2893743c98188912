package jetstream_test

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit"
	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source/jetstream"
)

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startCluster runs three embedded NATS servers clustered with JetStream,
// as in the three-machine layout.
func startCluster(t testing.TB) []*server.Server {
	t.Helper()
	ports := []int{freePort(t), freePort(t), freePort(t)}
	var routes []*url.URL
	for _, p := range ports {
		routes = append(routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", p)})
	}
	var srvs []*server.Server
	for i, p := range ports {
		srv, err := server.NewServer(&server.Options{
			ServerName: fmt.Sprintf("n%d", i+1), Host: "127.0.0.1", Port: -1,
			JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
			Cluster: server.ClusterOpts{Name: "appealkit", Host: "127.0.0.1", Port: p},
			Routes:  routes,
		})
		require.NoError(t, err)
		go srv.Start()
		t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
		srvs = append(srvs, srv)
	}
	for _, s := range srvs {
		require.True(t, s.ReadyForConnections(20*time.Second))
	}
	return srvs
}

// On a NATS cluster of three with replicated streams, losing the server
// that leads the appeals stream mid-stream loses nothing: the others elect
// a new leader, the clients reconnect, every appeal is stored and routed.
func TestClusterServerLost(t *testing.T) {
	if testing.Short() {
		t.Skip("a three-server cluster takes seconds to form")
	}
	srvs := startCluster(t)
	var urls []string
	for _, s := range srvs {
		urls = append(urls, s.ClientURL())
	}
	all := strings.Join(urls, ",")
	_, js := connect(t, all)
	cfg := freshConfig()
	cfg.Replicas = 3
	cfg.AckWait = 2 * time.Second
	ctx := ctxTimeout(t, 2*time.Minute)
	waitUntil(t, 30*time.Second, "JetStream cluster ready", func() bool {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		return jetstream.Setup(sctx, js, cfg) == nil
	})
	const n = 3000
	publishAll(t, ctx, js, cfg, n, func(i int) string { return fmt.Sprintf("не работает лифт %d", i) })

	store := appeal.NewMemoryStore()
	out := newOutcomes()
	startWorker(t, all, cfg, store, out)
	startWorker(t, all, cfg, store, out)
	waitUntil(t, time.Minute, "a third routed", func() bool { return out.count(appealkit.OutcomeRouted) >= n/3 })

	info, err := js.Stream(ctx, cfg.Stream)
	require.NoError(t, err)
	leader := info.CachedInfo().Cluster.Leader
	for _, s := range srvs {
		if s.Name() == leader {
			s.Shutdown()
		}
	}
	at := out.count(appealkit.OutcomeRouted)
	require.Less(t, at, n, "the workers finished before the server was lost: the test proves nothing")
	waitUntil(t, 90*time.Second, "every appeal routed", func() bool { return out.count(appealkit.OutcomeRouted) >= n })
	stored, routed := storedRouted(t, store)
	assert.Equal(t, n, stored)
	assert.Equal(t, n, routed)
	t.Logf("stream leader %s shut down after %d of %d were routed; %d duplicates dropped by the store", leader, at, n, out.count(appealkit.OutcomeDuplicate))
}
