package answer

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/source"
)

// EmailConfig configures an EmailReplier.
type EmailConfig struct {
	// Addr is the SMTP server, host:port. Required.
	Addr string
	// From is the sender address ("cur@region.ru"). Required.
	From string
	// FromName is the sender's display name («ЦУР Курской области»).
	FromName string
	// Username and Password authenticate with SASL PLAIN; empty Username
	// means no authentication.
	Username, Password string
	// Security is "starttls" (the default: refuse a server that cannot),
	// "tls" (implicit TLS, port 465) or "none" (a relay on localhost only).
	Security string
	// TLSConfig overrides the TLS settings (ServerName defaults to Addr's
	// host).
	TLSConfig *tls.Config
	// Recipient finds the citizen's address; nil means the author's id
	// when it is an e-mail address (web forms and mail intake store it
	// there).
	Recipient func(a *appeal.Appeal) (string, error)
	// Subject of the letter; nil means «Ответ на ваше обращение».
	Subject func(a *appeal.Appeal) string
	// Timeout bounds one letter's whole SMTP conversation (default 30 s).
	Timeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// EmailReplier sends answers by e-mail, through an SMTP server
// (github.com/emersion/go-smtp). It is a source.Replier. SMTP has no
// idempotency key: the letter's Message-ID is derived from it, so a mail
// client shows a repeat as one letter, but a Channel of e-mail should not
// be marked Idempotent.
type EmailReplier struct {
	cfg  EmailConfig
	host string
}

// NewEmailReplier returns an EmailReplier.
func NewEmailReplier(cfg EmailConfig) (*EmailReplier, error) {
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("answer: EmailConfig.Addr %q: %w", cfg.Addr, err)
	}
	if !strings.Contains(cfg.From, "@") {
		return nil, fmt.Errorf("answer: EmailConfig.From %q is not an e-mail address", cfg.From)
	}
	switch cfg.Security {
	case "":
		cfg.Security = "starttls"
	case "starttls", "tls", "none":
	default:
		return nil, fmt.Errorf("answer: EmailConfig.Security %q: want starttls, tls or none", cfg.Security)
	}
	if cfg.TLSConfig == nil {
		cfg.TLSConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	if cfg.Recipient == nil {
		cfg.Recipient = func(a *appeal.Appeal) (string, error) {
			if strings.Contains(a.Author.ID, "@") {
				return a.Author.ID, nil
			}
			return "", errors.New("the appeal has no e-mail address to answer to")
		}
	}
	if cfg.Subject == nil {
		cfg.Subject = func(*appeal.Appeal) string { return "Ответ на ваше обращение" }
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &EmailReplier{cfg: cfg, host: host}, nil
}

// Reply sends text to the appeal's author. A refused recipient or a failed
// login is permanent (ErrPermanent); a 4xx reply or a failed connection is
// temporary (source.ErrTemporary) and surely sent nothing (ErrNotSent); a
// connection lost mid-letter is temporary and may have been delivered.
func (e *EmailReplier) Reply(ctx context.Context, to appeal.Appeal, text string) (appeal.Reply, error) {
	rcpt, err := e.cfg.Recipient(&to)
	if err != nil {
		return appeal.Reply{}, Permanent(fmt.Errorf("answer: e-mail to appeal %s: %w", to.ID, err))
	}
	now := e.cfg.Now()
	domain := e.cfg.From[strings.LastIndexByte(e.cfg.From, '@')+1:]
	key := source.ReplyKey(ctx)
	if key == "" {
		key = OutboxKey(to.ID, "", text+now.String())
	}
	msgID := "<" + key + "@" + domain + ">"
	letter := e.letter(&to, rcpt, msgID, text, now)
	if err := e.send(ctx, rcpt, letter); err != nil {
		return appeal.Reply{}, fmt.Errorf("answer: e-mail to appeal %s: %w", to.ID, err)
	}
	return appeal.Reply{ExternalID: msgID, Text: text, At: now}, nil
}

func (e *EmailReplier) letter(a *appeal.Appeal, rcpt, msgID, text string, now time.Time) []byte {
	var b bytes.Buffer
	from := e.cfg.From
	if e.cfg.FromName != "" {
		from = mime.BEncoding.Encode("utf-8", e.cfg.FromName) + " <" + e.cfg.From + ">"
	}
	fmt.Fprintf(&b, "From: %s\r\n", from)
	fmt.Fprintf(&b, "To: <%s>\r\n", rcpt)
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.BEncoding.Encode("utf-8", e.cfg.Subject(a)))
	fmt.Fprintf(&b, "Date: %s\r\n", now.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: %s\r\n", msgID)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString([]byte(strings.ReplaceAll(text, "\n", "\r\n")))
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return b.Bytes()
}

func (e *EmailReplier) send(ctx context.Context, rcpt string, letter []byte) error {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", e.cfg.Addr)
	if err != nil {
		return NotSent(fmt.Errorf("%w: %v", source.ErrTemporary, err))
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl) // the client has no context: the deadline stands in
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	var c *smtp.Client
	switch e.cfg.Security {
	case "tls":
		c = smtp.NewClient(tls.Client(conn, e.cfg.TLSConfig))
	case "starttls":
		if c, err = smtp.NewClientStartTLS(conn, e.cfg.TLSConfig); err != nil {
			conn.Close()
			return smtpErr(err)
		}
	default:
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	if e.cfg.Username != "" {
		if err := c.Auth(sasl.NewPlainClient("", e.cfg.Username, e.cfg.Password)); err != nil {
			return smtpErr(err)
		}
	}
	if err := c.SendMail(e.cfg.From, []string{rcpt}, bytes.NewReader(letter)); err != nil {
		return smtpErr(err)
	}
	return smtpErr(c.Quit())
}

// smtpErr sorts SMTP failures: 5xx replies are permanent; 4xx replies
// are temporary and surely sent nothing (the server refused); anything
// else (a connection lost mid-letter) is temporary and may have been
// delivered.
func smtpErr(err error) error {
	if err == nil {
		return nil
	}
	var se *smtp.SMTPError
	switch {
	case errors.As(err, &se) && se.Code >= 500:
		return Permanent(err)
	case errors.As(err, &se):
		return NotSent(fmt.Errorf("%w: %v", source.ErrTemporary, err))
	}
	return fmt.Errorf("%w: %v", source.ErrTemporary, err)
}
