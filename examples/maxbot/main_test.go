package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeMAX serves one page of updates (a comment with a phone number, its
// edit, a message removed) and then holds long polls; it records replies.
func fakeMAX(t *testing.T, token string) (*httptest.Server, *[]string) {
	var mu sync.Mutex
	var replies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != token {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"code":"verify.token","message":"Invalid access_token"}`)
			return
		}
		switch {
		case r.URL.Path == "/updates" && r.URL.Query().Get("marker") == "":
			fmt.Fprint(w, `{"updates":[`+
				`{"update_type":"comment_created","timestamp":1767258000100,"message":{"sender":{"user_id":5001,"first_name":"Ирина","is_bot":false},`+
				`"recipient":{"chat_type":"channel","chat_id":-70801090403050,"post_id":"mid.post"},"timestamp":1767258000000,`+
				`"body":{"mid":"mid.c-1","seq":1,"text":"Нет света на Садовой, звоните +7 912 345-67-89"}}},`+
				`{"update_type":"comment_edited","timestamp":1767258060100,"message":{"sender":{"user_id":5001,"first_name":"Ирина","is_bot":false},`+
				`"recipient":{"chat_type":"channel","chat_id":-70801090403050,"post_id":"mid.post"},"timestamp":1767258000000,`+
				`"body":{"mid":"mid.c-1","seq":1,"text":"Нет света на Садовой, 12"}}},`+
				`{"update_type":"comment_removed","timestamp":1767258120100,"message_id":"mid.c-1","chat_id":-70801090403050,"user_id":5001,"post_id":"mid.post"}`+
				`],"marker":3}`)
		case r.URL.Path == "/updates":
			select {
			case <-r.Context().Done():
			case <-time.After(50 * time.Millisecond):
				fmt.Fprint(w, `{"updates":[],"marker":3}`)
			}
		case strings.HasSuffix(r.URL.Path, "/comments") && r.Method == http.MethodPost:
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			replies = append(replies, r.URL.Path+" "+string(body))
			mu.Unlock()
			fmt.Fprint(w, `{"message":{"recipient":{"chat_type":"channel","chat_id":-70801090403050},"timestamp":1767260000000,"body":{"mid":"mid.answer","seq":2,"text":"ok"}}}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"code":"not.found","message":"no such path"}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &replies
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestLongPollPrintsNewEditedDeleted(t *testing.T) {
	srv, _ := fakeMAX(t, "tok")
	var out, errOut lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	cp := filepath.Join(t.TempDir(), "max.json")
	go func() {
		done <- run(ctx, []string{"-api-url", srv.URL, "-checkpoints", cp, "-official", "-70801090403050"}, env(map[string]string{"MAX_TOKEN": "tok"}), &out, &errOut, nil)
	}()
	require.Eventually(t, func() bool { return strings.Count(out.String(), "\n") >= 3 }, 5*time.Second, 10*time.Millisecond, errOut.String())
	cancel()
	require.NoError(t, <-done)

	var events []string
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	for sc.Scan() {
		var line struct {
			Event  string
			Appeal struct {
				ID        string
				Text      string
				Author    struct{ ID string }
				Community struct{ Official bool }
				History   []struct{ Note string }
			}
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &line))
		events = append(events, line.Event)
		assert.Equal(t, "max:-70801090403050/mid.post/mid.c-1", line.Appeal.ID)
		assert.True(t, strings.HasPrefix(line.Appeal.Author.ID, "anon-"), "authors are pseudonymised")
		assert.True(t, line.Appeal.Community.Official)
		assert.NotContains(t, sc.Text(), "912 345-67-89", "phone numbers are masked")
	}
	assert.Equal(t, []string{"new", "edited", "deleted"}, events)
	assert.NotContains(t, errOut.String(), "tok\"")
}

func TestReplyAndErrors(t *testing.T) {
	srv, replies := fakeMAX(t, "tok")
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"-api-url", srv.URL, "-reply", "max:-70801090403050/mid.post/mid.c-1", "Ремонт освещения — до 1 декабря"},
		env(map[string]string{"MAX_TOKEN": "tok"}), &out, &errOut, nil)
	require.NoError(t, err)
	assert.Contains(t, out.String(), "-70801090403050/mid.post/mid.answer")
	require.Len(t, *replies, 1)
	assert.Contains(t, (*replies)[0], "/messages/mid.post/comments")
	assert.Contains(t, (*replies)[0], `"mid":"mid.c-1"`)

	err = run(context.Background(), []string{"-api-url", srv.URL}, env(map[string]string{"MAX_TOKEN": "wrong-secret-token"}), &out, &errOut, nil)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "wrong-secret-token")
	assert.Error(t, run(context.Background(), nil, env(nil), &out, &errOut, nil))
	assert.ErrorContains(t, run(context.Background(), []string{"-webhook", "127.0.0.1:0"}, env(map[string]string{"MAX_TOKEN": "tok"}), &out, &errOut, nil), "MAX_WEBHOOK_SECRET", "no secret")
	assert.Error(t, run(context.Background(), []string{"-official", "abc"}, env(map[string]string{"MAX_TOKEN": "tok"}), &out, &errOut, nil))
}

func TestWebhook(t *testing.T) {
	srv, _ := fakeMAX(t, "tok")
	var out, errOut lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-api-url", srv.URL, "-webhook", "127.0.0.1:0"}, env(map[string]string{"MAX_TOKEN": "tok", "MAX_WEBHOOK_SECRET": "s3cret-value"}),
			&out, &errOut, func(a string) { addr <- a })
	}()
	url := "http://" + <-addr
	body := `{"update_type":"message_created","timestamp":1767258000100,"message":{"sender":{"user_id":7,"first_name":"Анна","is_bot":false},` +
		`"recipient":{"chat_type":"dialog","chat_id":90001},"timestamp":1767258000000,"body":{"mid":"mid.d-1","seq":1,"text":"Не вывозят мусор"}}}`
	var code int
	require.Eventually(t, func() bool {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("X-Max-Bot-Api-Secret", "s3cret-value")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		res.Body.Close()
		code = res.StatusCode
		return code == http.StatusOK
	}, 5*time.Second, 10*time.Millisecond)
	assert.Contains(t, out.String(), `"max:90001/mid.d-1"`)
	cancel()
	require.NoError(t, <-done)
}
