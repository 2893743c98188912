package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckSecret(t *testing.T) {
	require.NoError(t, CheckSecret("abc_DEF-123", 5, "x: webhook secret"))
	err := CheckSecret("abcd", 5, "x: webhook secret")
	require.Error(t, err)
	assert.Equal(t, "x: webhook secret must be 5–256 characters (an unchecked webhook would let anyone post appeals)", err.Error())
	assert.Error(t, CheckSecret(strings.Repeat("a", 257), 1, "x"))
	assert.NoError(t, CheckSecret(strings.Repeat("a", 256), 1, "x"))
	err = CheckSecret("with space", 1, "x: webhook secret token")
	require.Error(t, err)
	assert.Equal(t, "x: webhook secret token may hold only A–Z, a–z, 0–9, _ and -", err.Error())
}

func TestReadSecretPush(t *testing.T) {
	const header = "X-Test-Secret"
	secret := []byte("s3cret")
	push := func(method, sec, body string) (int, string, bool, []byte) {
		r := httptest.NewRequest(method, "/hook", strings.NewReader(body))
		if sec != "" {
			r.Header.Set(header, sec)
		}
		b, status, msg, ok := ReadSecretPush(r, header, secret, 8)
		return status, msg, ok, b
	}
	status, msg, ok, _ := push(http.MethodGet, "s3cret", "")
	assert.False(t, ok)
	assert.Equal(t, http.StatusMethodNotAllowed, status)
	assert.Equal(t, "use POST", msg)

	status, msg, ok, _ = push(http.MethodPost, "wrong", "{}")
	assert.False(t, ok)
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, "missing or wrong "+header, msg)

	status, msg, ok, _ = push(http.MethodPost, "s3cret", "123456789")
	assert.False(t, ok)
	assert.Equal(t, http.StatusRequestEntityTooLarge, status)
	assert.Equal(t, "body over 8 bytes", msg)

	_, _, ok, body := push(http.MethodPost, "s3cret", "12345678")
	assert.True(t, ok)
	assert.Equal(t, "12345678", string(body))
}

func TestWriteTextAndLevel(t *testing.T) {
	w := httptest.NewRecorder()
	WriteText(w, http.StatusServiceUnavailable, "not running")
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, "text/plain; charset=utf-8", w.Header().Get("Content-Type"))
	assert.Equal(t, "not running", w.Body.String())
	assert.Equal(t, "WARN", AnswerLevel(401).String())
	assert.Equal(t, "DEBUG", AnswerLevel(200).String())
}
