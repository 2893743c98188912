package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/source"
)

func TestDoReadsBoundedBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte(strings.Repeat("x", 20)))
	}))
	defer srv.Close()
	c := &Client{HTTP: srv.Client(), MaxBytes: 20}
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	res, err := c.Do(context.Background(), req, "test: get")
	require.NoError(t, err)
	assert.Equal(t, http.StatusTeapot, res.Status)
	assert.Len(t, res.Body, 20)

	c.MaxBytes = 19
	_, err = c.Do(context.Background(), req, "test: get")
	assert.ErrorIs(t, err, source.ErrMalformed)
	assert.Contains(t, err.Error(), "test: get")
}

func TestTransportErrorIsTemporaryAndScrubbed(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/botSECRET-TOKEN/getMe"
	srv.Close() // connection refused from now on
	c := &Client{HTTP: &http.Client{}, MaxBytes: 1 << 10, Secrets: []string{"SECRET-TOKEN"}}
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	_, err := c.Do(context.Background(), req, "test: getMe")
	require.Error(t, err)
	assert.ErrorIs(t, err, source.ErrTemporary)
	assert.NotContains(t, err.Error(), "SECRET-TOKEN")
}

func TestCancelledContextIsReturnedAsIs(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	_, err := (&Client{HTTP: srv.Client(), MaxBytes: 10}).Do(ctx, req, "x")
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, errors.Is(err, source.ErrTemporary))
}

func TestDescribeJSON(t *testing.T) {
	var v struct {
		N int `json:"n"`
	}
	assert.Equal(t, "field n: got JSON string, want int", DescribeJSON(json.Unmarshal([]byte(`{"n":"a"}`), &v)))
	assert.Contains(t, DescribeJSON(json.Unmarshal([]byte(`{"n":}`), &v)), "broken JSON at byte")
}

func ExampleClient_Do() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	c := &Client{HTTP: srv.Client(), MaxBytes: 1 << 20, Secrets: []string{"token"}}
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	res, err := c.Do(context.Background(), req, "demo: ping")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Status, string(res.Body))
	// Output: 200 {"ok":true}
}
