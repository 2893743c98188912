package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/sqlstore"
)

// fakeVK answers groups.getById and execute (one wall post per wall.get) in
// VK's shapes.
func fakeVK(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = r.ParseForm()
		switch r.URL.Path {
		case "/method/groups.getById":
			fmt.Fprint(w, `{"response":[{"id":218900,"name":"Администрация Курска","screen_name":"kursk_adm","is_closed":0,"type":"page"}]}`)
		case "/method/execute":
			n := strings.Count(r.Form.Get("code"), "API.wall.get(")
			var items []string
			for range n {
				items = append(items, `{"count":1,"items":[{"id":3412,"from_id":55501,"owner_id":-218900,"date":1701162000,"post_type":"post","text":"Третий день нет горячей воды в доме на улице Ленина","comments":{"count":0,"can_post":1},"likes":{"count":3}}]}`)
			}
			fmt.Fprintf(w, `{"response":[%s]}`, strings.Join(items, ","))
		default:
			fmt.Fprint(w, `{"error":{"error_code":3,"error_msg":"Unknown method passed"}}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// syncBuffer is a bytes.Buffer safe for the logger and the test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// An intake replica polls a fake VK and publishes; a worker replica routes
// and stores into SQLite; status shows the drained queue and the leases.
func TestIntakeWorkerStatus(t *testing.T) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	require.NoError(t, err)
	go ns.Start()
	t.Cleanup(ns.Shutdown)
	require.True(t, ns.ReadyForConnections(10*time.Second))
	vkSrv := fakeVK(t)
	dbPath := filepath.Join(t.TempDir(), "appeals.db")
	env := func(k string) string {
		if k == "VK_TOKEN" {
			return "tok"
		}
		return ""
	}
	common := []string{"-nats", ns.ClientURL(), "-lease-ttl", "1s"}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	start := func(name string, args ...string) *syncBuffer {
		var errOut syncBuffer
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(ctx, append(append([]string{}, common...), args...), env, &bytes.Buffer{}, &errOut); err != nil {
				t.Errorf("%s: %v\n%s", name, err, errOut.String())
			}
		}()
		return &errOut
	}
	start("intake", "-role", "intake", "-member", "intake-1", "-communities", "kursk_adm!", "-vk-api-url", vkSrv.URL+"/method/", "-interval", "100ms")
	start("worker", "-role", "worker", "-member", "worker-1", "-sqlite", dbPath)

	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(dbPath))
	require.NoError(t, err)
	defer db.Close()
	var stored []appeal.Appeal
	deadline := time.Now().Add(30 * time.Second)
	for len(stored) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		st, err := sqlstore.Open(ctx, db)
		if err != nil {
			continue
		}
		stored, _ = st.List(ctx, appeal.Filter{})
	}
	require.Len(t, stored, 1, "the post reached the store")
	assert.Equal(t, appeal.StatusRouted, stored[0].Status)
	assert.NotEmpty(t, stored[0].Assignment.Executor)

	var out, errOut bytes.Buffer
	require.NoError(t, run(ctx, append(common, "-role", "status"), env, &out, &errOut), errOut.String())
	assert.Contains(t, out.String(), "num_pending=0")
	assert.Contains(t, out.String(), "lease vk-walls/shard-0: intake-1")
	assert.Contains(t, out.String(), "lease singleton/escalate: worker-1")
	cancel()
	wg.Wait()
}
