package jetstream_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source/jetstream"
)

// startServer runs an embedded NATS server with JetStream on disk in dir
// (a fresh temp dir when dir is ""), on port (a free one when 0).
func startServer(t testing.TB, dir string, port int) *server.Server {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	if port == 0 {
		port = -1
	}
	srv, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir,
		NoLog: true, NoSigs: true,
	})
	require.NoError(t, err)
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("embedded NATS server did not start")
	}
	t.Cleanup(func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	})
	return srv
}

// connect opens a connection that reconnects for ever, closed at cleanup.
func connect(t testing.TB, url string) (*nats.Conn, natsjs.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond), nats.Name(t.Name()))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := natsjs.New(nc)
	require.NoError(t, err)
	return nc, js
}

var streamSeq atomic.Int64

// freshConfig returns a Config with names no other test of the run uses.
func freshConfig() jetstream.Config {
	n := streamSeq.Add(1)
	return jetstream.Config{
		Stream: fmt.Sprintf("APPEALS_%d", n), Subject: fmt.Sprintf("appeals%d", n),
		DeadStream: fmt.Sprintf("DEAD_%d", n), DeadSubject: fmt.Sprintf("dead%d", n),
		Consumer: "workers",
	}
}

// testAppeal is appeal n of a network, valid and unique.
func testAppeal(network string, n int, text string) appeal.Appeal {
	return appeal.Appeal{
		Network: appeal.Network(network), Kind: appeal.KindPost,
		ExternalID: fmt.Sprintf("%d", n), Text: text,
		CreatedAt: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Second),
	}
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
