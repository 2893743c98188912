// Package httpapi is the plumbing the JSON-over-HTTP adapters (ok,
// telegram, max, instagram) share. Calling out: send a request, map
// transport faults to source.ErrTemporary without leaking the URL (which
// may hold a token), read a bounded body, and phrase JSON decoding errors
// with the field they are about. Being called (push.go): check a webhook
// secret, read a pushed body within its cap, answer. What an answer means
// (an error envelope, a status code) stays in each adapter: the networks
// disagree on it.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/appealkit/appealkit/source"
)

// Client sends requests for one adapter. The zero value is not usable: set
// HTTP. It is safe for concurrent use.
type Client struct {
	// HTTP makes the calls.
	HTTP *http.Client
	// Secrets are replaced by "<token>" in every error text (a transport
	// error may quote the URL or a header).
	Secrets []string
	// MaxBytes caps one response body; a longer one is ErrMalformed.
	MaxBytes int64
}

// Response is a read answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends req and reads the whole answer. what prefixes every error
// ("telegram: getUpdates"). A transport fault or a body cut short matches
// source.ErrTemporary, a body over MaxBytes source.ErrMalformed; when ctx
// ended, ctx's error is returned as is. The status code is not judged.
func (c *Client) Do(ctx context.Context, req *http.Request, what string) (*Response, error) {
	res, err := c.HTTP.Do(req.WithContext(ctx))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // *url.Error prints the URL
		}
		return nil, fmt.Errorf("%s: %w: %s", what, source.ErrTemporary, c.Scrub(err.Error()))
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, c.MaxBytes+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%s: %w: reading response: %s", what, source.ErrTemporary, c.Scrub(err.Error()))
	}
	if int64(len(raw)) > c.MaxBytes {
		return nil, fmt.Errorf("%s: %w: response over %d bytes", what, source.ErrMalformed, c.MaxBytes)
	}
	return &Response{Status: res.StatusCode, Header: res.Header, Body: raw}, nil
}

// Scrub replaces every secret in s by "<token>".
func (c *Client) Scrub(s string) string {
	for _, sec := range c.Secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "<token>")
		}
	}
	return s
}

// DescribeJSON phrases a decoding error with the field it is about.
func DescribeJSON(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("field %s: got JSON %s, want %s", te.Field, te.Value, te.Type)
		}
		return fmt.Sprintf("got JSON %s, want %s", te.Value, te.Type)
	case errors.As(err, &se):
		return fmt.Sprintf("broken JSON at byte %d: %v", se.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON"
	}
	return err.Error()
}
