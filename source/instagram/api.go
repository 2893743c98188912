package instagram

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/internal/httpapi"
)

// DefaultBaseURL is the Graph API host and version for a business account
// connected through Facebook Login (graph.instagram.com serves Instagram
// Login tokens with the same shapes).
const DefaultBaseURL = "https://graph.facebook.com/v21.0"

const maxResponseBytes = 16 << 20

// APIError is an error answer of the Graph API ({"error": {"message",
// "type", "code", "error_subcode"}}). It matches source.ErrAuth for code
// 190 (token expired or revoked) and 102 (session), source.ErrTemporary for
// codes 1 and 2 and HTTP 5xx; throttling codes (4, 17, 32, 613) come wrapped
// in a *source.RateLimitError.
type APIError struct {
	// Op is the call that failed ("GET /{media-id}/comments").
	Op      string
	Status  int
	Code    int
	Subcode int
	Type    string
	Message string
}

// Error formats the error with a hint for credential problems.
func (e *APIError) Error() string {
	msg := fmt.Sprintf("instagram: %s: HTTP %d, error %d (%s): %s", e.Op, e.Status, e.Code, e.Type, e.Message)
	switch {
	case e.Is(source.ErrAuth):
		msg += " (the access token expired or was revoked: issue a new long-lived token)"
	case e.Code == 10 || e.Code == 200:
		msg += " (the token lacks instagram_manage_comments or the account is not a business account)"
	}
	return msg
}

// Is maps the code to the behaviour sentinels of package source.
func (e *APIError) Is(target error) bool {
	switch target {
	case source.ErrAuth:
		return e.Code == 190 || e.Code == 102
	case source.ErrTemporary:
		return e.Code == 1 || e.Code == 2 || e.Status >= 500 && !isThrottle(e.Code)
	}
	return false
}

func isThrottle(code int) bool { return code == 4 || code == 17 || code == 32 || code == 613 }

// client calls the Graph API. The token goes in the access_token
// parameter, so errors are scrubbed of it.
type client struct {
	base  string
	token string
	http  *httpapi.Client
}

// call sends method path with the form values (query for GET, body for
// POST) and decodes a 200 answer into out.
func (c *client) call(ctx context.Context, method, path string, form url.Values, out any) error {
	op := method + " " + opName(path)
	v := url.Values{}
	for k, vs := range form {
		v[k] = vs
	}
	v.Set("access_token", c.token)
	var req *http.Request
	var err error
	if method == http.MethodGet {
		req, err = http.NewRequest(method, c.base+path+"?"+v.Encode(), nil)
	} else {
		req, err = http.NewRequest(method, c.base+path, strings.NewReader(v.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if err != nil {
		return fmt.Errorf("instagram: %s: %s", op, c.http.Scrub(err.Error()))
	}
	res, err := c.http.Do(ctx, req, "instagram: "+op)
	if err != nil {
		return err
	}
	var env struct {
		Error *struct {
			Message string `json:"message"`
			Type    string `json:"type"`
			Code    int    `json:"code"`
			Subcode int    `json:"error_subcode"`
		} `json:"error"`
	}
	if json.Unmarshal(res.Body, &env) == nil && env.Error != nil {
		e := &APIError{Op: op, Status: res.Status, Code: env.Error.Code, Subcode: env.Error.Subcode,
			Type: env.Error.Type, Message: c.http.Scrub(env.Error.Message)}
		if isThrottle(e.Code) || res.Status == http.StatusTooManyRequests {
			return &source.RateLimitError{Wait: time.Minute, Err: e}
		}
		return e
	}
	if res.Status >= 500 || res.Status == http.StatusTooManyRequests {
		return fmt.Errorf("instagram: %s: %w: HTTP %d", op, source.ErrTemporary, res.Status)
	}
	if res.Status != http.StatusOK {
		return fmt.Errorf("instagram: %s: %w: HTTP %d without a Graph API error", op, source.ErrMalformed, res.Status)
	}
	if err := json.Unmarshal(res.Body, out); err != nil {
		return fmt.Errorf("instagram: %s: %w: %s", op, source.ErrMalformed, httpapi.DescribeJSON(err))
	}
	return nil
}

// opName replaces ids in path by their role, so errors and logs name the
// call without the ids.
func opName(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) == 2 {
		switch parts[1] {
		case "comments":
			return "/{media-id}/comments"
		case "replies":
			return "/{comment-id}/replies"
		case "media":
			return "/{ig-user-id}/media"
		}
	}
	return path
}

// Wire types of the Graph API, limited to what becomes an appeal.

type igUser struct {
	ID       string `json:"id"`
	Username string `json:"username"`
}

type igComment struct {
	ID        string  `json:"id"`
	Text      string  `json:"text"`
	Timestamp string  `json:"timestamp"` // "2017-05-19T23:27:28+0000"
	Username  string  `json:"username"`
	From      *igUser `json:"from"`
	ParentID  string  `json:"parent_id"`
	Replies   *struct {
		Data []igComment `json:"data"`
	} `json:"replies"`
}

type paging struct {
	Cursors struct {
		Before string `json:"before"`
		After  string `json:"after"`
	} `json:"cursors"`
	Next string `json:"next"`
}

type commentsPage struct {
	Data   []igComment `json:"data"`
	Paging *paging     `json:"paging"`
}

type mediaPage struct {
	Data []struct {
		ID        string `json:"id"`
		Permalink string `json:"permalink"`
	} `json:"data"`
}

// webhook payload: {"object":"instagram","entry":[{"id","time","changes":[{"field","value"}]}]}

type hookPayload struct {
	Object string      `json:"object"`
	Entry  []hookEntry `json:"entry"`
}

type hookEntry struct {
	ID      string       `json:"id"`
	Time    int64        `json:"time"`
	Changes []hookChange `json:"changes"`
	// Instagram Login apps may get the change directly in the entry.
	Field string          `json:"field"`
	Value json.RawMessage `json:"value"`
}

type hookChange struct {
	Field string          `json:"field"`
	Value json.RawMessage `json:"value"`
}

type hookComment struct {
	ID    string  `json:"id"`
	Text  string  `json:"text"`
	From  *igUser `json:"from"`
	Media struct {
		ID               string `json:"id"`
		MediaProductType string `json:"media_product_type"`
	} `json:"media"`
	ParentID string `json:"parent_id"`
}
