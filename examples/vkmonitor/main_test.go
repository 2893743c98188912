package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
)

// fakeVK answers the two methods the monitor needs in VK's shapes: groups.getById
// and execute (whose wall.get calls get one post each, with a phone number in it).
func fakeVK(t *testing.T, token string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer "+token {
			fmt.Fprint(w, `{"error":{"error_code":5,"error_msg":"User authorization failed: invalid access_token (4).","request_params":[]}}`)
			return
		}
		_ = r.ParseForm()
		switch r.URL.Path {
		case "/method/groups.getById":
			fmt.Fprint(w, `{"response":[{"id":218900,"name":"Администрация Курска","screen_name":"kursk_adm","is_closed":0,"type":"page"}]}`)
		case "/method/execute":
			n := strings.Count(r.Form.Get("code"), "API.wall.get(")
			var items []string
			for range n {
				items = append(items, `{"count":1,"items":[{"id":3412,"from_id":55501,"owner_id":-218900,"date":1701162000,"post_type":"post","text":"Третий день нет воды, звоните +7 912 345-67-89","comments":{"count":0,"can_post":1},"likes":{"count":3}}]}`)
			}
			fmt.Fprintf(w, `{"response":[%s]}`, strings.Join(items, ","))
		default:
			fmt.Fprint(w, `{"error":{"error_code":3,"error_msg":"Unknown method passed"}}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestRunPrintsRedactedJSONLines(t *testing.T) {
	srv := fakeVK(t, "tok")
	var out, errOut bytes.Buffer
	cp := filepath.Join(t.TempDir(), "cp.json")
	args := []string{"-communities", "kursk_adm!", "-api-url", srv.URL + "/method/", "-once", "-checkpoints", cp}
	if err := run(context.Background(), args, env(map[string]string{"VK_TOKEN": "tok"}), &out, &errOut); err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	sc := bufio.NewScanner(&out)
	var got []appeal.Appeal
	for sc.Scan() {
		var a appeal.Appeal
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("line %q is not an appeal: %v", sc.Text(), err)
		}
		got = append(got, a)
	}
	if len(got) != 1 {
		t.Fatalf("got %d lines, want 1:\n%s", len(got), out.String())
	}
	a := got[0]
	if a.ID != "vk:-218900_3412" || a.URL != "https://vk.com/wall-218900_3412" || !a.Community.Official {
		t.Errorf("appeal = %+v", a)
	}
	if a.Status != appeal.StatusRouted || a.Executor() == "" || a.Deadline().IsZero() || !a.HasTopic("housing.water") || len(a.History) != 1 {
		t.Errorf("appeal not classified and routed: status %s, executor %q, deadline %v, topics %v", a.Status, a.Executor(), a.Deadline(), a.Topics)
	}
	if strings.Contains(out.String(), "55501") || strings.Contains(out.String(), "345-67-89") {
		t.Errorf("personal data printed in clear:\n%s", out.String())
	}

	// Second run over the same checkpoint file prints nothing new.
	out.Reset()
	if err := run(context.Background(), args, env(map[string]string{"VK_TOKEN": "tok"}), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Errorf("second run printed again:\n%s", out.String())
	}

	// -show-authors prints them.
	out.Reset()
	args = []string{"-communities", "kursk_adm", "-api-url", srv.URL, "-once", "-show-authors", "-raw"}
	if err := run(context.Background(), args, env(map[string]string{"VK_TOKEN": "tok"}), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"id":"55501"`) {
		t.Errorf("-show-authors did not show the author:\n%s", out.String())
	}
	if !strings.Contains(out.String(), `"status":"new"`) {
		t.Errorf("-raw classified or routed:\n%s", out.String())
	}
}

func TestRunErrors(t *testing.T) {
	srv := fakeVK(t, "tok")
	ctx := context.Background()
	var out, errOut bytes.Buffer
	for name, tc := range map[string]struct {
		args []string
		env  map[string]string
		want string
	}{
		"no token":       {[]string{"-communities", "1"}, nil, "VK_TOKEN"},
		"no communities": {nil, map[string]string{"VK_TOKEN": "tok"}, "-communities"},
		"bad token kind": {[]string{"-communities", "1", "-token", "bot"}, map[string]string{"VK_TOKEN": "tok"}, "-token"},
		"refused token":  {[]string{"-communities", "1", "-api-url", srv.URL + "/method/"}, map[string]string{"VK_TOKEN": "bad"}, "authorization failed"},
		"missing rules":  {[]string{"-communities", "1", "-rules", "/nonexistent/rules.yaml"}, map[string]string{"VK_TOKEN": "tok"}, "rules.yaml"},
	} {
		t.Run(name, func(t *testing.T) {
			err := run(ctx, tc.args, env(tc.env), &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want it to mention %q", err, tc.want)
			}
		})
	}
}

// With the network down, -once gives up after -timeout and says what
// failed, instead of retrying for ever.
func TestOnceGivesUpWhenVKIsUnreachable(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	url := down.URL + "/method/"
	down.Close()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	err := run(ctx, []string{"-communities", "1", "-api-url", url, "-once", "-timeout", "700ms"}, env(map[string]string{"VK_TOKEN": "tok"}), &out, &errOut)
	require.Error(t, err)
	assert.Less(t, time.Since(start), 5*time.Second)
	for _, want := range []string{"-once", "700ms", url, "groups.getById", "connection refused"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Contains(t, errOut.String(), "vk: retrying", "each failure is logged")
	assert.Empty(t, out.String())
}

// APPEALKIT_PSEUDONYM_KEY keys the authors' pseudonyms with the
// deployment's secret: the pseudonym is the HMAC of the author's id under
// that key, the same in every run.
func TestPseudonymKeyFromEnvironment(t *testing.T) {
	srv := fakeVK(t, "tok")
	var out, errOut bytes.Buffer
	args := []string{"-communities", "kursk_adm", "-api-url", srv.URL + "/method/", "-once", "-raw"}
	key := "секрет развёртывания"
	require.NoError(t, run(context.Background(), args, env(map[string]string{"VK_TOKEN": "tok", "APPEALKIT_PSEUDONYM_KEY": key}), &out, &errOut))
	var a appeal.Appeal
	require.NoError(t, json.Unmarshal(bytes.TrimSpace(out.Bytes()), &a))
	assert.Equal(t, appeal.Pseudonym([]byte(key), "55501"), a.Author.ID)
	assert.NotContains(t, out.String(), "55501")
}
