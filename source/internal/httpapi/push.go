package httpapi

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
)

// The webhook side: what the handlers of networks that push updates (MAX,
// Telegram, Instagram) do alike before an update is decoded, and how they
// answer. Which answer a bad update gets (200 to drop it, 400, 503 to have
// it sent again) stays in each adapter: it depends on how the network
// retries.

// CheckSecret checks a webhook secret a bot API echoes in a header on every
// request: minLen to 256 characters of A–Z, a–z, 0–9, _ and - (what MAX and
// Telegram accept). what names it in the errors ("max: webhook secret").
func CheckSecret(secret string, minLen int, what string) error {
	if len(secret) < minLen || len(secret) > 256 {
		return fmt.Errorf("%s must be %d–256 characters (an unchecked webhook would let anyone post appeals)", what, minLen)
	}
	for _, r := range secret {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return errors.New(what + " may hold only A–Z, a–z, 0–9, _ and -")
		}
	}
	return nil
}

// ReadSecretPush checks a pushed update the way MAX and Telegram send it —
// a POST whose header holds the secret (compared in constant time) — and
// reads its body with ReadBody. When ok is false, status and msg are the
// answer: 405 for another method, 401 for a missing or wrong secret.
func ReadSecretPush(r *http.Request, header string, secret []byte, maxBytes int) (body []byte, status int, msg string, ok bool) {
	if r.Method != http.MethodPost {
		return nil, http.StatusMethodNotAllowed, "use POST", false
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get(header)), secret) != 1 {
		return nil, http.StatusUnauthorized, "missing or wrong " + header, false
	}
	return ReadBody(r, maxBytes)
}

// ReadBody reads a pushed request's body of at most maxBytes. When ok is
// false, status and msg are the answer: 400 when reading failed, 413 when
// the body is longer.
func ReadBody(r *http.Request, maxBytes int) (body []byte, status int, msg string, ok bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(maxBytes)+1))
	if err != nil {
		return nil, http.StatusBadRequest, "reading body: " + err.Error(), false
	}
	if len(body) > maxBytes {
		return nil, http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes", maxBytes), false
	}
	return body, 0, "", true
}

// AnswerLevel is the level a webhook answer is logged at: Warn for a
// refusal (400 and up), Debug otherwise.
func AnswerLevel(status int) slog.Level {
	if status >= 400 {
		return slog.LevelWarn
	}
	return slog.LevelDebug
}

// WriteText writes status and msg as a text/plain answer.
func WriteText(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg)
}
