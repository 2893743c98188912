package ok

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/appealkit/appealkit/source"
	"github.com/appealkit/appealkit/source/internal/httpapi"
)

// DefaultBaseURL is the REST endpoint of the OK API.
const DefaultBaseURL = "https://api.ok.ru/fb.do"

const maxResponseBytes = 16 << 20

// APIError is an error answer of the OK API ({"error_code":..,
// "error_msg":..}). Its Is method maps the code to the sentinels of package
// source: 101–104 (bad application key, expired or wrong session, bad
// signature), 401 and 453 match source.ErrAuth; 2 (service unavailable),
// 30, 31 and 9999 match source.ErrTemporary. Flood and limit codes (7, 8,
// 11) come wrapped in a *source.RateLimitError.
type APIError struct {
	// Method is the OK API method that failed.
	Method string
	// Code is error_code, Msg is error_msg as OK wrote it.
	Code int
	Msg  string
}

// Error formats the error with a hint for credential problems.
func (e *APIError) Error() string {
	msg := fmt.Sprintf("ok: %s: error %d: %s", e.Method, e.Code, e.Msg)
	if e.Is(source.ErrAuth) {
		msg += " (check the application key, secret key and access token)"
	}
	return msg
}

// Is maps error codes to behaviour.
func (e *APIError) Is(target error) bool {
	switch target {
	case source.ErrAuth:
		switch e.Code {
		case 101, 102, 103, 104, 401, 453:
			return true
		}
	case source.ErrTemporary:
		switch e.Code {
		case 2, 30, 31, 9999:
			return true
		}
	}
	return false
}

// groupInaccessible reports codes that concern one group (it was deleted,
// closed, or restricts the app): that group is skipped with a warning and
// the others go on.
func groupInaccessible(err error) bool {
	var e *APIError
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code {
	case 10, 160, 200, 300, 456, 457, 458:
		return true
	}
	return false
}

func isRateLimitCode(code int) bool { return code == 7 || code == 8 || code == 11 }

// client signs and sends OK API calls.
type client struct {
	baseURL string
	appKey  string
	token   string
	secret  string // md5(access_token + application_secret_key), lower hex
	http    *httpapi.Client
}

func newClient(baseURL, appKey, appSecret, token string, hc *http.Client) *client {
	return &client{
		baseURL: baseURL, appKey: appKey, token: token,
		http:   &httpapi.Client{HTTP: hc, Secrets: []string{token}, MaxBytes: maxResponseBytes},
		secret: md5hex(token + appSecret),
	}
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// Sign returns the OK API signature of params: the lower-hex MD5 of every
// "key=value" pair but sig and access_token, sorted by key and
// concatenated without separators, followed by sessionSecret, which is the
// lower-hex md5(access_token + application_secret_key).
func Sign(params url.Values, sessionSecret string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k == "sig" || k == "access_token" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(params.Get(k))
	}
	b.WriteString(sessionSecret)
	return md5hex(b.String())
}

// call invokes method with params and decodes the JSON answer into out.
func (c *client) call(ctx context.Context, method string, params url.Values, out any) error {
	form := url.Values{}
	for k, v := range params {
		form[k] = v
	}
	form.Set("application_key", c.appKey)
	form.Set("format", "json")
	form.Set("method", method)
	form.Set("sig", Sign(form, c.secret))
	form.Set("access_token", c.token)

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("ok: %s: %w", method, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := c.http.Do(ctx, req, "ok: "+method)
	if err != nil {
		return err
	}
	raw := res.Body
	if res.Status >= 500 || res.Status == http.StatusTooManyRequests {
		if res.Status == http.StatusTooManyRequests {
			return &source.RateLimitError{Err: fmt.Errorf("ok: %s: HTTP 429", method)}
		}
		return fmt.Errorf("ok: %s: %w: HTTP %d", method, source.ErrTemporary, res.Status)
	}
	if !utf8.Valid(raw) {
		return fmt.Errorf("ok: %s: %w: response is not valid UTF-8", method, source.ErrMalformed)
	}
	// An error answer is an object with error_code; a result may be an
	// object, an array or a scalar.
	var e struct {
		Code *int   `json:"error_code"`
		Msg  string `json:"error_msg"`
	}
	if len(raw) > 0 && raw[0] == '{' && json.Unmarshal(raw, &e) == nil && e.Code != nil {
		apiErr := &APIError{Method: method, Code: *e.Code, Msg: e.Msg}
		if isRateLimitCode(apiErr.Code) {
			return &source.RateLimitError{Err: apiErr}
		}
		return apiErr
	}
	if res.Status != http.StatusOK {
		return fmt.Errorf("ok: %s: %w: HTTP %d without an OK API error", method, source.ErrMalformed, res.Status)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("ok: %s: %w: %s", method, source.ErrMalformed, describeJSON(err))
	}
	return nil
}

func describeJSON(err error) string { return httpapi.DescribeJSON(err) }

// Wire types, limited to what becomes an appeal.

type topicsResponse struct {
	MediaTopics []topic  `json:"media_topics"`
	Anchor      string   `json:"anchor"`
	HasMore     bool     `json:"has_more"`
	Entities    entities `json:"entities"`
}

type entities struct {
	Users  []entityUser  `json:"users"`
	Groups []entityGroup `json:"groups"`
}

type entityUser struct {
	UID       string `json:"uid"`
	Name      string `json:"name"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

type entityGroup struct {
	UID  string `json:"uid"`
	Name string `json:"name"`
}

type topic struct {
	ID        string  `json:"id"`
	CreatedMs int64   `json:"created_ms"`
	AuthorRef string  `json:"author_ref"` // "user:123" or "group:456"
	OwnerRef  string  `json:"owner_ref"`
	Media     []media `json:"media"`
}

type media struct {
	Type string `json:"type"` // text, photo, link, video, poll...
	Text string `json:"text"`
	URL  string `json:"url"`
}

type commentsResponse struct {
	Comments []comment `json:"comments"`
	Anchor   string    `json:"anchor"`
	HasMore  bool      `json:"has_more"`
	Entities entities  `json:"entities"`
}

type comment struct {
	ID               string `json:"id"`
	Text             string `json:"text"`
	Date             string `json:"date"` // "2006-01-02 15:04:05", Config.Location
	AuthorID         string `json:"author_id"`
	AuthorName       string `json:"author_name"`
	AuthorType       string `json:"author_type"` // USER or GROUP (the group answering)
	ReplyToCommentID string `json:"reply_to_comment_id"`
}

func (e *entities) userName(uid string) string {
	for _, u := range e.Users {
		if u.UID == uid {
			if u.Name != "" {
				return u.Name
			}
			return strings.TrimSpace(u.FirstName + " " + u.LastName)
		}
	}
	return ""
}
