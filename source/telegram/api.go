package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/internal/httpapi"
)

// DefaultBaseURL is the public Bot API server.
const DefaultBaseURL = "https://api.telegram.org"

// maxResponseBytes caps one API response; getUpdates with limit 100 stays
// far below it.
const maxResponseBytes = 32 << 20

// APIError is an error answer of the Bot API ({"ok":false,...}). It
// matches source.ErrAuth for 401/404 (the token was refused) and
// source.ErrTemporary for 5xx; a 429 comes wrapped in a
// *source.RateLimitError carrying retry_after.
type APIError struct {
	// Method is the Bot API method that failed.
	Method      string
	Code        int    // error_code (the HTTP status)
	Description string // as Telegram wrote it
}

// Error formats the error with a hint for the codes an operator can fix.
func (e *APIError) Error() string {
	msg := fmt.Sprintf("telegram: %s: %d %s", e.Method, e.Code, e.Description)
	switch e.Code {
	case http.StatusUnauthorized, http.StatusNotFound:
		msg += " (the bot token was refused: check it with @BotFather)"
	case http.StatusConflict:
		msg += " (another getUpdates poller or a webhook is active for this bot: stop it, or call DeleteWebhook)"
	}
	return msg
}

// Is maps the code to the behaviour sentinels of package source.
func (e *APIError) Is(target error) bool {
	switch target {
	case source.ErrAuth:
		return e.Code == http.StatusUnauthorized || e.Code == http.StatusNotFound
	case source.ErrTemporary:
		return e.Code >= 500
	}
	return false
}

// client calls Bot API methods. The token is part of every URL, so errors
// never carry the URL (net/http's *url.Error would print it).
type client struct {
	base string // BaseURL + "/bot" + token
	http *httpapi.Client
}

type apiResponse struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  *struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// call posts params as JSON to method and decodes the result into out.
func (c *client) call(ctx context.Context, method string, params any, out any) error {
	body, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("telegram: %s: encode request: %w", method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/"+method, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("telegram: %s: %s", method, c.scrub(err.Error()))
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.http.Do(ctx, req, "telegram: "+method)
	if err != nil {
		return err
	}
	raw := res.Body
	var env apiResponse
	if err := json.Unmarshal(raw, &env); err != nil {
		if res.Status >= 500 || res.Status == http.StatusTooManyRequests {
			return fmt.Errorf("telegram: %s: %w: HTTP %d with a non-JSON body", method, source.ErrTemporary, res.Status)
		}
		return fmt.Errorf("telegram: %s: %w: HTTP %d, response is not Bot API JSON: %v", method, source.ErrMalformed, res.Status, err)
	}
	if !env.OK {
		code := env.ErrorCode
		if code == 0 {
			code = res.Status
		}
		apiErr := &APIError{Method: method, Code: code, Description: env.Description}
		if code == http.StatusTooManyRequests {
			wait := time.Second
			if env.Parameters != nil && env.Parameters.RetryAfter > 0 {
				wait = time.Duration(env.Parameters.RetryAfter) * time.Second
			}
			return &source.RateLimitError{Wait: wait, Err: apiErr}
		}
		return apiErr
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(env.Result, out); err != nil {
		return fmt.Errorf("telegram: %s: %w: result: %s", method, source.ErrMalformed, describeJSON(err))
	}
	return nil
}

// scrub removes the token from a message, in case an error quotes a URL.
func (c *client) scrub(s string) string { return c.http.Scrub(s) }

// describeJSON phrases a decoding error with the field it is about.
func describeJSON(err error) string { return httpapi.DescribeJSON(err) }

// Wire types of the Bot API, limited to what becomes an appeal.

type update struct {
	UpdateID          int64    `json:"update_id"`
	Message           *message `json:"message,omitempty"`
	EditedMessage     *message `json:"edited_message,omitempty"`
	ChannelPost       *message `json:"channel_post,omitempty"`
	EditedChannelPost *message `json:"edited_channel_post,omitempty"`
}

type user struct {
	ID        int64  `json:"id"`
	IsBot     bool   `json:"is_bot"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name,omitempty"`
	Username  string `json:"username,omitempty"`
}

type chat struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"` // private, group, supergroup, channel
	Title     string `json:"title,omitempty"`
	Username  string `json:"username,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
}

type messageOrigin struct {
	Type      string `json:"type"` // user, hidden_user, chat, channel
	Chat      *chat  `json:"chat,omitempty"`
	MessageID int64  `json:"message_id,omitempty"`
}

type fileRef struct {
	FileID string `json:"file_id"`
}

type location struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
}

type message struct {
	MessageID          int64          `json:"message_id"`
	MessageThreadID    int64          `json:"message_thread_id,omitempty"`
	From               *user          `json:"from,omitempty"`
	SenderChat         *chat          `json:"sender_chat,omitempty"`
	Date               int64          `json:"date"`
	EditDate           int64          `json:"edit_date,omitempty"`
	Chat               chat           `json:"chat"`
	IsAutomaticForward bool           `json:"is_automatic_forward,omitempty"`
	ForwardOrigin      *messageOrigin `json:"forward_origin,omitempty"`
	// Before Bot API 7.0 the origin came in these two fields.
	ForwardFromChat      *chat     `json:"forward_from_chat,omitempty"`
	ForwardFromMessageID int64     `json:"forward_from_message_id,omitempty"`
	ReplyToMessage       *message  `json:"reply_to_message,omitempty"`
	AuthorSignature      string    `json:"author_signature,omitempty"`
	Text                 string    `json:"text,omitempty"`
	Caption              string    `json:"caption,omitempty"`
	Photo                []fileRef `json:"photo,omitempty"`
	Document             *fileRef  `json:"document,omitempty"`
	Video                *fileRef  `json:"video,omitempty"`
	Voice                *fileRef  `json:"voice,omitempty"`
	Location             *location `json:"location,omitempty"`
}

// channelOrigin returns the channel and post id an automatic forward in a
// discussion group mirrors.
func (m *message) channelOrigin() (*chat, int64) {
	if o := m.ForwardOrigin; o != nil && o.Type == "channel" && o.Chat != nil {
		return o.Chat, o.MessageID
	}
	if m.ForwardFromChat != nil && m.ForwardFromChat.Type == "channel" {
		return m.ForwardFromChat, m.ForwardFromMessageID
	}
	if m.SenderChat != nil && m.SenderChat.Type == "channel" {
		return m.SenderChat, 0
	}
	return nil, 0
}
