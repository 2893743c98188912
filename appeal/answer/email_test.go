package answer_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"mime"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/answer"
	"github.com/appealkit/appealkit/source"
)

// mailbox is a real SMTP server (go-smtp) that keeps what it receives.
type mailbox struct {
	mu      sync.Mutex
	letters []letter
	reject  *smtp.SMTPError // refuse RCPT with this
}

type letter struct {
	from string
	to   []string
	data []byte
}

type session struct {
	mb     *mailbox
	authed bool
	cur    letter
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "cur" || pass != "secret" {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	s.cur = letter{from: from}
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.mb.mu.Lock()
	defer s.mb.mu.Unlock()
	if s.mb.reject != nil {
		return s.mb.reject
	}
	s.cur.to = append(s.cur.to, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = b
	s.mb.mu.Lock()
	s.mb.letters = append(s.mb.letters, s.cur)
	s.mb.mu.Unlock()
	return nil
}
func (s *session) Reset()        { s.cur = letter{} }
func (s *session) Logout() error { return nil }

func startMailbox(t *testing.T) (*mailbox, string, *tls.Config) {
	t.Helper()
	cert, pool := selfSigned(t)
	mb := &mailbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{mb: mb}, nil }))
	srv.Domain = "localhost"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	return mb, l.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
}

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func TestEmailReplierAgainstSMTPServer(t *testing.T) {
	mb, addr, tlsCfg := startMailbox(t)
	r, err := answer.NewEmailReplier(answer.EmailConfig{Addr: addr, From: "cur@region.example", FromName: "ЦУР Курской области",
		Username: "cur", Password: "secret", TLSConfig: tlsCfg})
	require.NoError(t, err)
	a := appeal.Appeal{ID: "web:form-7", Network: appeal.NetworkWeb, ExternalID: "form-7", Author: appeal.Author{ID: "citizen@mail.example"}}
	text := "Здравствуйте! Яму на улице Садовой заделали 25 ноября.\nОтветственный — ООО «Дорстрой»."
	rep, err := r.Reply(source.WithReplyKey(context.Background(), "k-77"), a, text)
	require.NoError(t, err)
	assert.Equal(t, "<k-77@region.example>", rep.ExternalID)

	require.Len(t, mb.letters, 1)
	l := mb.letters[0]
	assert.Equal(t, "cur@region.example", l.from)
	assert.Equal(t, []string{"citizen@mail.example"}, l.to)
	m, err := mail.ReadMessage(strings.NewReader(string(l.data)))
	require.NoError(t, err)
	subj, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	require.NoError(t, err)
	assert.Equal(t, "Ответ на ваше обращение", subj)
	assert.Equal(t, "<k-77@region.example>", m.Header.Get("Message-Id"))
	from, err := (&mail.AddressParser{WordDecoder: new(mime.WordDecoder)}).Parse(m.Header.Get("From"))
	require.NoError(t, err)
	assert.Equal(t, "ЦУР Курской области", from.Name)
	body, err := io.ReadAll(m.Body)
	require.NoError(t, err)
	decoded := decodeBase64Lines(t, string(body))
	assert.Equal(t, strings.ReplaceAll(text, "\n", "\r\n"), decoded)

	// Wrong password: permanent.
	bad, err := answer.NewEmailReplier(answer.EmailConfig{Addr: addr, From: "cur@region.example", Username: "cur", Password: "nope", TLSConfig: tlsCfg})
	require.NoError(t, err)
	_, err = bad.Reply(context.Background(), a, text)
	require.ErrorIs(t, err, answer.ErrPermanent)
	// A mailbox that is full for now (452): temporary.
	mb.reject = &smtp.SMTPError{Code: 452, Message: "mailbox full"}
	_, err = r.Reply(context.Background(), a, text)
	require.ErrorIs(t, err, source.ErrTemporary)
	require.ErrorIs(t, err, answer.ErrNotSent, "a refusal is sure not to have delivered")
	// Unknown recipient (550): permanent.
	mb.reject = &smtp.SMTPError{Code: 550, Message: "no such user"}
	_, err = r.Reply(context.Background(), a, text)
	require.ErrorIs(t, err, answer.ErrPermanent)
	// No address to answer to: permanent, nothing sent.
	_, err = r.Reply(context.Background(), appeal.Appeal{ID: "web:x", Author: appeal.Author{ID: "u1"}}, text)
	require.ErrorIs(t, err, answer.ErrPermanent)
	// A server that is not there: temporary.
	l2, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	gone := l2.Addr().String()
	l2.Close()
	down, err := answer.NewEmailReplier(answer.EmailConfig{Addr: gone, From: "cur@region.example", TLSConfig: tlsCfg})
	require.NoError(t, err)
	_, err = down.Reply(context.Background(), a, text)
	require.ErrorIs(t, err, source.ErrTemporary)
	require.ErrorIs(t, err, answer.ErrNotSent)
	assert.False(t, errors.Is(err, answer.ErrPermanent))
}

func decodeBase64Lines(t *testing.T, s string) string {
	t.Helper()
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		b.WriteString(strings.TrimSpace(line))
	}
	out, err := decodeB64(b.String())
	require.NoError(t, err)
	return out
}

func decodeB64(s string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	return string(b), err
}
