package max

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/internal/httpapi"
)

// DefaultBaseURL is the MAX Bot API server.
const DefaultBaseURL = "https://platform-api.max.ru"

// maxResponseBytes caps one API response; /updates with limit 1000 stays
// well below it.
const maxResponseBytes = 32 << 20

// APIError is an error answer of the MAX Bot API: an HTTP status with
// {"code": "...", "message": "..."}. It matches source.ErrAuth for 401 (and
// the "verify.token" code), source.ErrTemporary for 5xx; a 429 comes wrapped
// in a *source.RateLimitError.
type APIError struct {
	// Op is the call that failed ("GET /updates").
	Op string
	// Status is the HTTP status; Code and Message are MAX's error key and
	// text.
	Status  int
	Code    string
	Message string
}

// Error formats the error with a hint for the statuses an operator can fix.
func (e *APIError) Error() string {
	msg := fmt.Sprintf("max: %s: HTTP %d %s: %s", e.Op, e.Status, e.Code, e.Message)
	switch {
	case e.Is(source.ErrAuth):
		msg += " (the bot token was refused: check it on business.max.ru)"
	case e.Status == http.StatusForbidden:
		msg += " (the bot lacks a permission here: make it an administrator with read_all_messages)"
	case e.Status == http.StatusMethodNotAllowed && strings.HasSuffix(e.Op, "/updates"):
		msg += " (a webhook subscription is active: long polling and webhooks cannot run together)"
	}
	return msg
}

// Is maps the status to the behaviour sentinels of package source.
func (e *APIError) Is(target error) bool {
	switch target {
	case source.ErrAuth:
		return e.Status == http.StatusUnauthorized || e.Code == "verify.token"
	case source.ErrTemporary:
		return e.Status >= 500
	}
	return false
}

// client calls the Bot API. The token travels in the Authorization header
// only; errors are scrubbed of it all the same.
type client struct {
	base  string
	token string
	http  *httpapi.Client
}

// call sends method path?query with body as JSON (nil: no body) and decodes
// a 200 answer into out (nil: ignored).
func (c *client) call(ctx context.Context, method, path string, query url.Values, body, out any) error {
	op := method + " " + path
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("max: %s: encode request: %w", op, err)
		}
		rd = bytes.NewReader(b)
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var req *http.Request
	var err error
	if rd != nil {
		req, err = http.NewRequest(method, u, rd)
	} else {
		req, err = http.NewRequest(method, u, nil)
	}
	if err != nil {
		return fmt.Errorf("max: %s: %s", op, c.http.Scrub(err.Error()))
	}
	req.Header.Set("Authorization", c.token)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(ctx, req, "max: "+op)
	if err != nil {
		return err
	}
	if res.Status != http.StatusOK {
		apiErr := &APIError{Op: op, Status: res.Status}
		var e struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		if json.Unmarshal(res.Body, &e) == nil {
			// An upstream may echo the request; the token must not reach
			// logs through it.
			apiErr.Code, apiErr.Message = c.http.Scrub(e.Code), c.http.Scrub(e.Message)
		}
		if res.Status == http.StatusTooManyRequests {
			wait := time.Second
			if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && s > 0 {
				wait = time.Duration(s) * time.Second
			}
			return &source.RateLimitError{Wait: wait, Err: apiErr}
		}
		return apiErr
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(res.Body, out); err != nil {
		return fmt.Errorf("max: %s: %w: %s", op, source.ErrMalformed, httpapi.DescribeJSON(err))
	}
	return nil
}

// Wire types of the Bot API (schema: github.com/max-messenger/api-schema),
// limited to what becomes an appeal.

type updateList struct {
	Updates []json.RawMessage `json:"updates"`
	Marker  *int64            `json:"marker"`
}

type update struct {
	UpdateType string   `json:"update_type"`
	Timestamp  int64    `json:"timestamp"` // ms
	Message    *message `json:"message,omitempty"`
	// message_removed, comment_removed
	MessageID string `json:"message_id,omitempty"`
	ChatID    int64  `json:"chat_id,omitempty"`
	PostID    string `json:"post_id,omitempty"`
}

type user struct {
	UserID    int64  `json:"user_id"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name,omitempty"`
	Username  string `json:"username,omitempty"`
	IsBot     bool   `json:"is_bot"`
}

type recipient struct {
	ChatID   int64  `json:"chat_id"`
	ChatType string `json:"chat_type"` // dialog, chat, channel
	UserID   int64  `json:"user_id,omitempty"`
	PostID   string `json:"post_id,omitempty"` // comments
}

type linkedMessage struct {
	Type    string      `json:"type"` // reply, forward
	ChatID  int64       `json:"chat_id,omitempty"`
	Message messageBody `json:"message"`
}

type attachment struct {
	Type    string `json:"type"`
	Payload struct {
		URL string `json:"url,omitempty"`
	} `json:"payload"`
	Latitude  float64 `json:"latitude,omitempty"`
	Longitude float64 `json:"longitude,omitempty"`
}

type messageBody struct {
	MID         string       `json:"mid"`
	Seq         int64        `json:"seq"`
	Text        string       `json:"text,omitempty"`
	Attachments []attachment `json:"attachments,omitempty"`
}

type message struct {
	Sender    *user          `json:"sender,omitempty"`
	Recipient recipient      `json:"recipient"`
	Timestamp int64          `json:"timestamp"` // ms
	Link      *linkedMessage `json:"link,omitempty"`
	Body      messageBody    `json:"body"`
	URL       string         `json:"url,omitempty"`
}

// Requests.

type newMessageLink struct {
	Type string `json:"type"`
	MID  string `json:"mid"`
}

type newMessageBody struct {
	Text string          `json:"text"`
	Link *newMessageLink `json:"link,omitempty"`
}

type sendResult struct {
	Message message `json:"message"`
}

type subscriptionRequest struct {
	URL         string   `json:"url"`
	Secret      string   `json:"secret"`
	UpdateTypes []string `json:"update_types"`
}

type simpleResult struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
}
