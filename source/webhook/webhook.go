// Package webhook is the intake for a portal's own web form, or any system
// that can POST JSON: one appeal (a JSON object, see Input) or a batch (an
// array of them) per request.
//
// The Source is an http.Handler. Mount it in your own server and call Run
// to attach the sink, or give Config.Listener and let Run serve:
//
//	src, _ := webhook.New(webhook.Config{Secret: key})
//	mux.Handle("POST /appeals", src)
//	go src.Run(ctx, sink) // accepts while Run is active, 503 otherwise
//
// The reply is 202 Accepted only after the sink accepted every appeal of
// the request; if the sink refuses one, the reply is 503 with Retry-After
// (at least 5 seconds, longer when the sink returned a
// *source.RateLimitError asking for it) and nothing is claimed accepted (the sender resends the whole request;
// appeals the sink already took are harmless repeats, as appeal IDs derive
// from the sender's external_id). Bad requests get a JSON body naming the
// problem:
//
//	400 {"error": "...", "field": "author.name", "index": 3}
//	401 bad or missing signature      413 body over MaxBodyBytes
//	405 not POST    415 not JSON      409 same Idempotency-Key in flight
//	422 Idempotency-Key reused with a different body
//
// A body must be UTF-8 JSON; a Content-Type other than application/json
// (or +json) gets 415, a missing one is accepted. With Config.Secret set,
// every request must carry the HMAC-SHA256 of its
// raw body in the signature header ("X-Signature-256: sha256=<hex>"),
// checked in constant time. An Idempotency-Key header makes a resent
// request answer with the first reply without reaching the sink again (kept
// in memory for IdempotencyTTL; after a restart the store's idempotency by
// appeal ID still holds).
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

// Defaults for zero Config fields.
const (
	DefaultMaxBodyBytes    = 1 << 20
	DefaultMaxBatch        = 500
	DefaultMaxTextRunes    = 20000
	DefaultSignatureHeader = "X-Signature-256"
	DefaultIdempotencyTTL  = 24 * time.Hour
	DefaultIdempotencyKeys = 100000
)

// IdempotencyHeader is the request header that names a request for safe
// resending.
const IdempotencyHeader = "Idempotency-Key"

// Config configures the intake. The zero value is usable: network "web", no
// signature, default limits, Run without a listener.
type Config struct {
	// Network of the appeals (default appeal.NetworkWeb). Set another
	// when the intake stands for a specific system ("gosuslugi").
	Network appeal.Network
	// Community is set on appeals that do not name one (the portal).
	Community appeal.Community

	// Secret, when set, requires every request to be signed: the header
	// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the raw
	// body under Secret.
	Secret []byte
	// SignatureHeader defaults to DefaultSignatureHeader.
	SignatureHeader string

	// MaxBodyBytes caps a request body (default DefaultMaxBodyBytes);
	// larger bodies get 413.
	MaxBodyBytes int64
	// MaxBatch caps the appeals in one request (default DefaultMaxBatch).
	MaxBatch int
	// MaxTextRunes caps one appeal's text (default DefaultMaxTextRunes).
	MaxTextRunes int

	// IdempotencyTTL and IdempotencyKeys bound the memory of replies to
	// requests with an Idempotency-Key (defaults DefaultIdempotencyTTL and
	// DefaultIdempotencyKeys; the oldest are forgotten first).
	IdempotencyTTL time.Duration
	// IdempotencyKeys: see IdempotencyTTL.
	IdempotencyKeys int

	// Listener, when set, makes Run serve HTTP on it (Run closes it when
	// it returns). Leave nil to mount the Source in your own server.
	Listener net.Listener

	// Logger gets one line per request; nil means slog.Default(). Texts
	// and authors are never logged.
	Logger *slog.Logger
	// Now is the clock for ReceivedAt (default time.Now); for tests.
	Now func() time.Time
}

// Source is the HTTP intake. It is an http.Handler and a source.Source: it
// accepts appeals only while Run is active. Safe for concurrent use; the
// sink is called concurrently, once per in-flight request, so it must be
// safe for concurrent use (the pipeline's sink is).
type Source struct {
	cfg  Config
	log  *slog.Logger
	idem *idempotency

	guard source.RunGuard
	mu    sync.RWMutex
	run   *runState // nil while Run is not active
}

type runState struct {
	ctx      context.Context
	sink     source.Sink
	inflight sync.WaitGroup
}

var (
	_ source.Source = (*Source)(nil)
	_ http.Handler  = (*Source)(nil)
)

// New checks cfg and returns the intake.
func New(cfg Config) (*Source, error) {
	if cfg.Network == "" {
		cfg.Network = appeal.NetworkWeb
	}
	if strings.ContainsAny(string(cfg.Network), ": ") {
		return nil, fmt.Errorf("webhook: Config.Network %q must not contain ':' or spaces", cfg.Network)
	}
	if cfg.SignatureHeader == "" {
		cfg.SignatureHeader = DefaultSignatureHeader
	}
	if cfg.MaxBodyBytes < 0 || cfg.MaxBatch < 0 || cfg.MaxTextRunes < 0 || cfg.IdempotencyTTL < 0 || cfg.IdempotencyKeys < 0 {
		return nil, errors.New("webhook: Config limits must not be negative")
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxBatch == 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.MaxTextRunes == 0 {
		cfg.MaxTextRunes = DefaultMaxTextRunes
	}
	if cfg.IdempotencyTTL == 0 {
		cfg.IdempotencyTTL = DefaultIdempotencyTTL
	}
	if cfg.IdempotencyKeys == 0 {
		cfg.IdempotencyKeys = DefaultIdempotencyKeys
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Source{
		cfg:  cfg,
		log:  source.Logger(cfg.Logger),
		idem: newIdempotency(cfg.IdempotencyKeys, cfg.IdempotencyTTL),
	}, nil
}

// Run attaches sink and accepts appeals until ctx is cancelled; then it
// stops accepting (new requests get 503), waits for requests in flight to
// finish, and returns nil. With Config.Listener set it also serves HTTP on
// the listener and shuts that server down gracefully. A second concurrent
// Run returns source.ErrAlreadyRunning.
func (s *Source) Run(ctx context.Context, sink source.Sink) error {
	release, err := s.guard.Enter()
	if err != nil {
		return err
	}
	defer release()
	if sink == nil {
		return errors.New("webhook: Run with a nil sink")
	}
	rs := &runState{ctx: ctx, sink: sink}
	s.mu.Lock()
	s.run = rs
	s.mu.Unlock()

	var srv *http.Server
	serveErr := make(chan error, 1)
	if s.cfg.Listener != nil {
		srv = &http.Server{
			Handler:           s,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       time.Minute,
			ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		}
		go func() { serveErr <- srv.Serve(s.cfg.Listener) }()
	}

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		runErr = fmt.Errorf("webhook: serve: %w", err)
	}

	s.mu.Lock()
	s.run = nil
	s.mu.Unlock()
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_ = srv.Shutdown(sctx)
		cancel()
		if runErr == nil {
			if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
				runErr = fmt.Errorf("webhook: serve: %w", err)
			}
		}
	}
	// Handlers see ctx cancelled through their sink context and finish
	// quickly; none outlives Run.
	rs.inflight.Wait()
	return runErr
}

// ServeHTTP implements http.Handler.
func (s *Source) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	status, n := s.serve(w, r)
	level := slog.LevelDebug
	switch {
	case status >= 500:
		level = slog.LevelWarn
	case status >= 400:
		level = slog.LevelInfo
	}
	s.log.LogAttrs(r.Context(), level, "webhook: request",
		slog.Int("status", status), slog.Int("appeals", n), slog.Duration("took", time.Since(start)))
}

// reply is the JSON body of every answer.
type reply struct {
	Accepted int         `json:"accepted"`
	IDs      []appeal.ID `json:"ids,omitempty"`
	Error    string      `json:"error,omitempty"`
	Field    string      `json:"field,omitempty"`
	Index    *int        `json:"index,omitempty"`
}

func writeReply(w http.ResponseWriter, status int, body reply) {
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func fail(w http.ResponseWriter, status int, msg string) (int, int) {
	writeReply(w, status, reply{Error: msg})
	return status, 0
}

func (s *Source) serve(w http.ResponseWriter, r *http.Request) (int, int) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return fail(w, http.StatusMethodNotAllowed, "use POST")
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return fail(w, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q: send application/json", ct))
		}
	}
	if r.ContentLength > s.cfg.MaxBodyBytes {
		return fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body of %d bytes is over the limit of %d", r.ContentLength, s.cfg.MaxBodyBytes))
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body is over the limit of %d bytes", s.cfg.MaxBodyBytes))
		}
		return fail(w, http.StatusBadRequest, "reading body: "+err.Error())
	}
	if s.cfg.Secret != nil {
		if msg := s.checkSignature(r.Header.Get(s.cfg.SignatureHeader), body); msg != "" {
			return fail(w, http.StatusUnauthorized, msg)
		}
	}

	key := r.Header.Get(IdempotencyHeader)
	if len(key) > 200 || hasControl(key) {
		return fail(w, http.StatusBadRequest, IdempotencyHeader+" must be at most 200 printable characters")
	}
	var digest [32]byte
	if key != "" {
		digest = sha256.Sum256(body)
		prev, state := s.idem.begin(key, digest, time.Now())
		switch state {
		case idemDone:
			w.Header().Set("Idempotent-Replayed", "true")
			writeReply(w, http.StatusAccepted, prev)
			return http.StatusAccepted, 0
		case idemInFlight:
			return fail(w, http.StatusConflict, "a request with this "+IdempotencyHeader+" is still being processed; retry later")
		case idemMismatch:
			return fail(w, http.StatusUnprocessableEntity, IdempotencyHeader+" was already used for a different body")
		}
	}
	status, body2, n, wait := s.accept(r.Context(), body, key)
	if key != "" {
		s.idem.end(key, digest, status == http.StatusAccepted, body2, time.Now())
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(int(max(wait, 5*time.Second).Round(time.Second)/time.Second)))
	}
	writeReply(w, status, body2)
	return status, n
}

// accept validates the body and hands each appeal to the sink. It returns
// the status, the reply, how many appeals the sink accepted, and how long
// the sink asked the sender to wait (a *source.RateLimitError), if it did.
func (s *Source) accept(reqCtx context.Context, body []byte, key string) (int, reply, int, time.Duration) {
	appeals, err := decodeBody(body, key, s.cfg.Now(), limits{
		maxBatch:     s.cfg.MaxBatch,
		maxTextRunes: s.cfg.MaxTextRunes,
		network:      s.cfg.Network,
		community:    s.cfg.Community,
	})
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			rep := reply{Error: ve.Error(), Field: ve.Field}
			if ve.Index >= 0 {
				rep.Index = &ve.Index
			}
			return http.StatusBadRequest, rep, 0, 0
		}
		return http.StatusBadRequest, reply{Error: err.Error()}, 0, 0
	}

	s.mu.RLock()
	rs := s.run
	if rs != nil {
		rs.inflight.Add(1)
	}
	s.mu.RUnlock()
	if rs == nil {
		return http.StatusServiceUnavailable, reply{Error: "intake is not running; retry later"}, 0, 0
	}
	defer rs.inflight.Done()
	// The sink stops when the client goes away or Run is cancelled.
	ctx, cancel := context.WithCancel(reqCtx)
	defer cancel()
	stop := context.AfterFunc(rs.ctx, cancel)
	defer stop()

	ids := make([]appeal.ID, 0, len(appeals))
	for i, a := range appeals {
		if err := rs.sink(ctx, a); err != nil {
			s.log.LogAttrs(reqCtx, slog.LevelWarn, "webhook: sink refused an appeal",
				source.AppealAttr("appeal", a), slog.Int("index", i), slog.String("error", err.Error()))
			rep := reply{Error: "not accepted, retry the whole request later: " + err.Error()}
			if len(appeals) > 1 {
				rep.Index = &i
			}
			var rl *source.RateLimitError
			var wait time.Duration
			if errors.As(err, &rl) {
				wait = rl.Wait
			}
			return http.StatusServiceUnavailable, rep, i, wait
		}
		ids = append(ids, a.ID)
	}
	return http.StatusAccepted, reply{Accepted: len(ids), IDs: ids}, len(ids), 0
}

func (s *Source) checkSignature(header string, body []byte) string {
	if header == "" {
		return "missing " + s.cfg.SignatureHeader + " header"
	}
	hexSig := strings.TrimPrefix(header, "sha256=")
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return s.cfg.SignatureHeader + " must be sha256= followed by 64 hex digits"
	}
	m := hmac.New(sha256.New, s.cfg.Secret)
	m.Write(body)
	if !hmac.Equal(got, m.Sum(nil)) {
		return s.cfg.SignatureHeader + " does not match the body"
	}
	return ""
}

// Sign returns the signature header value for body under secret, as a
// sender computes it: "sha256=" and the hex HMAC-SHA256.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}
