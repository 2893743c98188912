package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source/webhook"
)

// The sample is loaded on the first start only: the store keeps the
// replay's checkpoint, so a second start on the same -db adds nothing.
func TestStartLoadsTheSampleOnceAndPrintsTheUsers(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "console.db")
	args := []string{"-db", db, "-bcrypt-cost", "4"}
	for run := 1; run <= 2; run++ {
		o, err := parseFlags(args)
		require.NoError(t, err)
		var out bytes.Buffer
		c, err := start(ctx, o, &out)
		require.NoError(t, err)
		all, err := c.Store.List(ctx, appeal.Filter{})
		require.NoError(t, err)
		assert.Len(t, all, 46, "run %d", run)
		text := out.String()
		for _, u := range demoUsers {
			assert.Contains(t, text, u.Login)
			require.NotEmpty(t, c.Passwords[u.Login])
			assert.Contains(t, text, "пароль "+c.Passwords[u.Login], "the password is printed at start")
			_, ok := c.Users.Authenticate(u.Login, c.Passwords[u.Login])
			assert.True(t, ok, u.Login)
		}
		assert.Contains(t, text, "Администрация Курского района")
		c.Close()
	}
	// -as-written: some of the sample is overdue, some is not.
	o, _ := parseFlags(args)
	c, err := start(ctx, o, &bytes.Buffer{})
	require.NoError(t, err)
	defer c.Close()
	overdue, err := c.Store.List(ctx, appeal.Filter{OverdueAt: time.Now()})
	require.NoError(t, err)
	open, err := c.Store.List(ctx, appeal.Filter{Statuses: []appeal.Status{appeal.StatusRouted}})
	require.NoError(t, err)
	assert.NotEmpty(t, overdue)
	assert.Less(t, len(overdue), len(open))
}

func TestUsersFileAndBadFlags(t *testing.T) {
	t.Setenv("VK_TOKEN", "")
	dir := t.TempDir()
	users := filepath.Join(dir, "users.txt")
	require.NoError(t, os.WriteFile(users, []byte("chief:moderator::s3cret:Главный модератор\n"), 0o600))
	o, err := parseFlags([]string{"-db", filepath.Join(dir, "c.db"), "-users", users, "-bcrypt-cost", "4"})
	require.NoError(t, err)
	var out bytes.Buffer
	c, err := start(context.Background(), o, &out)
	require.NoError(t, err)
	defer c.Close()
	_, ok := c.Users.Authenticate("chief", "s3cret")
	assert.True(t, ok)
	assert.NotContains(t, out.String(), "s3cret", "passwords from a file are not printed")

	_, err = parseFlags([]string{"-tls-cert", "cert.pem"})
	assert.ErrorContains(t, err, "-tls-key")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-approve", "sometimes"}, "-approve"},
		{[]string{"-users", filepath.Join(dir, "missing.txt")}, "missing.txt"},
		{[]string{"-rules", filepath.Join(dir, "missing.yaml")}, "missing.yaml"},
		{[]string{"-vk-communities", "123"}, "VK_TOKEN"},
	} {
		o, err := parseFlags(append([]string{"-db", filepath.Join(dir, "bad.db")}, tc.args...))
		require.NoError(t, err)
		_, err = start(context.Background(), o, &bytes.Buffer{})
		require.Error(t, err, tc.args)
		assert.True(t, strings.Contains(err.Error(), tc.want), "%v: %v", tc.args, err)
	}
}

// A web form's appeal posted to /intake goes through the live pipeline
// into the store, routed, while the console runs.
func TestWebhookIntakeIsALiveSource(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	o, err := parseFlags([]string{"-db", filepath.Join(dir, "c.db"), "-bcrypt-cost", "4", "-webhook-secret", "form-secret"})
	require.NoError(t, err)
	c, err := start(ctx, o, &bytes.Buffer{})
	require.NoError(t, err)
	defer c.Close()
	srv := httptest.NewServer(c.Handler)
	defer srv.Close()

	body := []byte(`{"external_id":"form-1","kind":"message","text":"В Беседино на улице Садовой не горят фонари уже неделю","author":{"id":"f1","name":"Ирина"},"created_at":"` +
		time.Now().UTC().Format(time.RFC3339) + `"}`)
	post := func(sig string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/intake", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if sig != "" {
			req.Header.Set("X-Signature-256", sig)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusUnauthorized, post(""), "unsigned")
	require.Eventually(t, func() bool { return post(webhook.Sign([]byte("form-secret"), body)) == http.StatusAccepted },
		5*time.Second, 20*time.Millisecond, "accepted once the live pipeline runs")
	a, err := c.Store.Get(ctx, appeal.NewID(appeal.NetworkWeb, "form-1"))
	require.NoError(t, err)
	assert.Equal(t, appeal.StatusRouted, a.Status)
	assert.NotEmpty(t, a.Executor())

}
