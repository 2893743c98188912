// Package vk brings appeals from VK (ВКонтакте) through the official API,
// on github.com/SevereCloud/vksdk/v2:
//
//   - Monitor watches a list of communities (госпаблики, city pages): new
//     wall posts via wall.get and new comments and replies via
//     wall.getComments, batched 25 calls per execute request, so 1,000
//     communities cost 40 requests per quiet polling cycle. Each community
//     keeps its own cursor in source.Checkpoints.
//   - LongPoll receives the portal's own community events through the Bots
//     Long Poll API (wall_post_new, wall_reply_new, message_new,
//     board_post_new, photo_comment_new, and the edits wall_reply_edit,
//     board_post_edit, photo_comment_edit). With
//     LongPollConfig.ConfigureGroup it first switches Long Poll on in the
//     community's settings and enables those events: that changes the
//     community's settings, which is why it is off by default.
//   - CallbackHandler is the same for the Callback API: an http.Handler that
//     VK POSTs events to.
//   - Search finds posts across all of VK by keywords with newsfeed.search.
//   - Replier posts an official answer back: wall.createComment on behalf of
//     the community, or messages.send.
//
// # Edits
//
// Citizens edit their comments (to add the address, the house number). VK
// sends the edited comment under the same external id, which the Store's
// idempotent Put would drop, so LongPoll and CallbackHandler hand
// wall_reply_edit, board_post_edit and photo_comment_edit to their Edits
// field, a source.EditSink — typically source.StoreEdits(store), with
// source.WithEditHook to classify the new text again. The long-poll ts is
// saved, and the callback answers "ok", only after Edits accepted the edit.
// With Edits nil, edits are skipped. VK does not say when a comment was
// edited; Edit.EditedAt is when the event arrived. Monitor and Search read
// walls and search results, which show the current text of a comment or
// post they meet for the first time, but do not notice later edits.
//
// # External ids
//
// Every appeal's ExternalID is stable and says where the message lives (its
// appeal ID is "vk:" + ExternalID):
//
//	post                "-123_456"          wall post 456 of community 123 (owner id is negative for communities)
//	comment / reply     "-123_456_c789"     comment 789 under that post
//	discussion comment  "-123_t45_c678"     comment 678 in board topic 45
//	photo comment       "-123_p45_c678"     comment 678 under photo 45
//	private message     "-123_m222_4392"    message 4392 (conversation_message_id) of peer 222 in community 123's inbox
//
// ParseExternalID reads them back; the Replier uses it to answer in place.
//
// # Errors
//
// VK error codes map to the source package's behaviour: 5 (authorization
// failed) → source.ErrAuth; 6 (too many requests), 9 (flood control) and 29
// (method quota) → *source.RateLimitError with a wait; 10 (internal error)
// and 1 (unknown error, "try later"), HTTP 5xx answers whatever their body,
// and network failures → source.ErrTemporary; 15, 18 and 30 (access denied,
// deleted, private) → ErrUnavailable, and the Monitor skips that community
// with a warning and goes on; 14 (captcha) → *CaptchaError (a person must
// solve it; nothing is retried). Undecodable responses → source.ErrMalformed.
// The original *api.Error stays in the chain for errors.As.
//
// # Rate limits
//
// VK allows 3 requests per second for a user (or service) token and 20 for a
// community token. Set API.TokenKind and the client spaces its requests
// accordingly with a golang.org/x/time/rate limiter that honours ctx; the
// SDK's own limiter (api.VK.Limit), which sleeps without a context and
// retries error 6 at once, is switched off.
package vk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/SevereCloud/vksdk/v2/api"
	"golang.org/x/time/rate"

	"github.com/appealkit/appealkit/source"
)

// TokenKind says what sort of access token is used; it sets the request
// rate VK allows.
type TokenKind int

const (
	// UserToken is a user's (or an app's service) token: 3 requests per
	// second. Needed for newsfeed.search and for reading communities the
	// portal does not administer.
	UserToken TokenKind = iota
	// GroupToken is a community's token: 20 requests per second. Needed for
	// long poll, messages.send and answering as the community.
	GroupToken
)

// RequestsPerSecond returns VK's limit for the token kind.
func (k TokenKind) RequestsPerSecond() float64 {
	if k == GroupToken {
		return api.LimitGroupToken
	}
	return api.LimitUserToken
}

// String names the token kind.
func (k TokenKind) String() string {
	if k == GroupToken {
		return "group token"
	}
	return "user token"
}

// API configures access to the VK API. Every source in this package takes
// one.
type API struct {
	// Token is the access token. Required.
	Token string
	// TokenKind sets the request rate: 3/s for UserToken (the default), 20/s
	// for GroupToken.
	TokenKind TokenKind
	// RequestsPerSecond overrides the rate TokenKind implies.
	RequestsPerSecond float64
	// Limiter, when set, is used instead of a limiter of the source's own;
	// share one between all sources that use the same token.
	Limiter *rate.Limiter
	// URL is the method endpoint; default api.MethodURL
	// ("https://api.vk.com/method/"). Point it at any VK-compatible server,
	// e.g. an httptest server in tests; a bare host ("http://127.0.0.1:8080")
	// gets VK's "/method/" path.
	URL string
	// Version is the API version sent with each call; default the SDK's.
	Version string
	// HTTPClient, default http.DefaultClient.
	HTTPClient *http.Client
	// Backoff spaces retries of temporary failures and rate limits.
	Backoff source.Backoff
	// Logger receives warnings (skipped communities, backoffs) with personal
	// data redacted; nil means slog.Default().
	Logger *slog.Logger
}

// client is the shared plumbing: the SDK client, the limiter, error
// mapping and retries.
type client struct {
	vk      *api.VK
	lim     *rate.Limiter
	backoff source.Backoff
	log     *slog.Logger
	count   *atomic.Int64 // requests sent, when someone counts them
}

func newClient(a API) (*client, error) {
	if strings.TrimSpace(a.Token) == "" {
		return nil, errors.New("vk: API.Token is empty")
	}
	vk := api.NewVK(a.Token)
	// The SDK's limiter sleeps without honouring ctx and retries error 6
	// immediately; ours waits on ctx and backs off.
	vk.Limit = 0
	if a.URL != "" {
		u, err := url.Parse(a.URL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("vk: API.URL %q is not an absolute URL", a.URL)
		}
		if u.Path == "" || u.Path == "/" {
			u.Path = "/method/" // a bare host means VK's layout
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		vk.MethodURL = u.String()
	}
	if a.Version != "" {
		vk.Version = a.Version
	}
	hc := http.DefaultClient
	if a.HTTPClient != nil {
		hc = a.HTTPClient
	}
	vk.Client = withStatusCheck(hc)
	lim := a.Limiter
	if lim == nil {
		rps := a.RequestsPerSecond
		if rps <= 0 {
			rps = a.TokenKind.RequestsPerSecond()
		}
		lim = source.NewLimiter(rps)
	}
	return &client{vk: vk, lim: lim, backoff: a.Backoff, log: source.Logger(a.Logger)}, nil
}

// call runs one API method once: wait for the limiter, call, map the error.
func (c *client) call(ctx context.Context, method string, params api.Params, out any) error {
	if err := source.Wait(ctx, c.lim); err != nil {
		return err
	}
	p := api.Params{}
	for k, v := range params {
		p[k] = v
	}
	c.counted()
	err := c.vk.RequestUnmarshal(method, out, p.WithContext(ctx))
	return mapError(ctx, method, err)
}

// callRetry is call with retries of temporary failures and rate limits.
func (c *client) callRetry(ctx context.Context, method string, params api.Params, out any) error {
	return source.Retry(ctx, c.backoff, func(ctx context.Context) error {
		err := c.call(ctx, method, params, out)
		c.logRetry(method, err)
		return err
	})
}

// execute runs VKScript code once and returns the per-call errors VK
// reported next to the response (execute_errors), in order.
func (c *client) execute(ctx context.Context, code string, out any) (api.ExecuteErrors, error) {
	if err := source.Wait(ctx, c.lim); err != nil {
		return nil, err
	}
	c.counted()
	err := c.vk.ExecuteWithArgs(code, api.Params{}.WithContext(ctx), out)
	var ee *api.ExecuteErrors
	if errors.As(err, &ee) {
		return *ee, nil
	}
	return nil, mapError(ctx, "execute", err)
}

func (c *client) executeRetry(ctx context.Context, code string, out any) (api.ExecuteErrors, error) {
	var errs api.ExecuteErrors
	err := source.Retry(ctx, c.backoff, func(ctx context.Context) error {
		var err error
		errs, err = c.execute(ctx, code, out)
		c.logRetry("execute", err)
		return err
	})
	return errs, err
}

func (c *client) counted() {
	if c.count != nil {
		c.count.Add(1)
	}
}

func (c *client) logRetry(method string, err error) {
	if source.Retryable(err) {
		c.log.Warn("vk: retrying", "method", method, "err", err)
	}
}

// withStatusCheck returns a copy of hc whose requests fail with an
// *httpStatusError on a 5xx answer. The SDK decodes any JSON body whatever
// the status, so a proxy's or VK's own 500/503 with a JSON body ("{}", an
// error object with code 1) would otherwise look like an empty response or
// a final error instead of a passing fault.
func withStatusCheck(hc *http.Client) *http.Client {
	c := *hc
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = statusTransport{base: base}
	return &c
}

type statusTransport struct{ base http.RoundTripper }

func (t statusTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil || resp.StatusCode < 500 {
		return resp, err
	}
	// Drain a little so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return nil, &httpStatusError{Status: resp.StatusCode}
}

// httpStatusError is a 5xx answer from the API endpoint.
type httpStatusError struct{ Status int }

func (e *httpStatusError) Error() string {
	return fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status))
}

// Sentinel errors of this package; match them with errors.Is.
var (
	// ErrUnavailable: the community or object cannot be read (VK errors 15
	// access denied, 18 deleted or banned, 30 private). The Monitor skips it
	// and goes on.
	ErrUnavailable = errors.New("vk: community or object unavailable")
	// ErrCaptcha: VK demands a captcha (error 14). A person must solve it at
	// CaptchaError.Img; retrying without the answer will not help. Use a
	// community token, or slow down, to avoid it.
	ErrCaptcha = errors.New("vk: captcha required")
)

// Error is a VK API error with the method that got it. It matches the
// source package's sentinel its code maps to (source.ErrAuth,
// source.ErrTemporary, ErrUnavailable ...) and unwraps to the SDK's
// *api.Error.
type Error struct {
	Method  string
	Code    int
	Message string

	kind error      // the sentinel this code maps to; nil for others
	api  *api.Error // the SDK's error, when there is one
}

// Error names the method, the VK error code and VK's message.
func (e *Error) Error() string {
	return fmt.Sprintf("vk: %s: error %d: %s", e.Method, e.Code, e.Message)
}

// Unwrap returns the sentinel and the SDK's error.
func (e *Error) Unwrap() []error {
	var out []error
	if e.kind != nil {
		out = append(out, e.kind)
	}
	if e.api != nil {
		out = append(out, e.api)
	}
	return out
}

// CaptchaError is VK error 14. It matches ErrCaptcha.
type CaptchaError struct {
	Method string
	SID    string // captcha_sid, to send back with captcha_key
	Img    string // the image a person must read
}

// Error says what a person must do.
func (e *CaptchaError) Error() string {
	if e.Img == "" {
		return fmt.Sprintf("vk: %s: captcha required (error 14): a person must solve one; VK did not send it here (inside execute), call the method directly to get it. Use a community token or a lower rate to avoid captchas", e.Method)
	}
	return fmt.Sprintf("vk: %s: captcha required (error 14): a person must solve %s and the call be repeated with captcha_sid=%s; use a community token or a lower rate to avoid it", e.Method, e.Img, e.SID)
}

// Is makes errors.Is(err, ErrCaptcha) true.
func (e *CaptchaError) Is(target error) bool { return target == ErrCaptcha }

// codeError maps a VK error code (from a whole response or from one call
// inside execute) to an error with behaviour.
func codeError(method string, code int, msg string, apiErr *api.Error) error {
	e := &Error{Method: method, Code: code, Message: msg, api: apiErr}
	switch api.ErrorType(code) {
	case api.ErrAuth:
		e.kind = source.ErrAuth
		return fmt.Errorf("%w (the token is invalid or expired: issue a new one)", e)
	case api.ErrTooMany:
		return &source.RateLimitError{Wait: time.Second, Err: e}
	case api.ErrFlood:
		return &source.RateLimitError{Wait: 30 * time.Second, Err: e}
	case api.ErrRateLimit:
		return &source.RateLimitError{Wait: 10 * time.Minute, Err: e}
	case api.ErrServer, api.ErrUnknown:
		// 1 is "Unknown error occurred: try again later".
		e.kind = source.ErrTemporary
	case api.ErrAccess, api.ErrUserDeleted, api.ErrPrivateProfile, api.ErrAccessGroup, api.ErrWallAccessPost:
		e.kind = ErrUnavailable
	case api.ErrCaptcha:
		ce := &CaptchaError{Method: method}
		if apiErr != nil {
			ce.SID, ce.Img = apiErr.CaptchaSID, apiErr.CaptchaImg
		}
		return ce
	}
	return e
}

// mapError turns what the SDK returned into errors with behaviour.
func mapError(ctx context.Context, method string, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var apiErr *api.Error
	if errors.As(err, &apiErr) {
		return codeError(method, int(apiErr.Code), apiErr.Message, apiErr)
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if errors.As(err, &syn) || errors.As(err, &typ) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("vk: %s: %w: cannot decode the response: %v", method, source.ErrMalformed, err)
	}
	var ct *api.InvalidContentType
	var ctv api.InvalidContentType
	if errors.As(err, &ct) || errors.As(err, &ctv) {
		// An HTML error page from a proxy in front of VK, typically a 502.
		return fmt.Errorf("vk: %s: %w: unexpected response content type", method, source.ErrTemporary)
	}
	var se *httpStatusError
	if errors.As(err, &se) {
		return fmt.Errorf("vk: %s: %w: %v", method, source.ErrTemporary, se)
	}
	var ue *url.Error
	var ne net.Error
	if errors.As(err, &ue) || errors.As(err, &ne) {
		return fmt.Errorf("vk: %s: %w: %v", method, source.ErrTemporary, err)
	}
	return fmt.Errorf("vk: %s: %w", method, err)
}
