package sqlstore_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/sqlstore"
)

type pgErr string

func (e pgErr) Error() string    { return "pg error " + string(e) }
func (e pgErr) SQLState() string { return string(e) }

type liteErr int

func (e liteErr) Error() string { return fmt.Sprintf("sqlite error %d", int(e)) }
func (e liteErr) Code() int     { return int(e) }

// TestClassify: outages match appeal.ErrUnavailable and keep the driver's
// error; refusals of the data and context errors do not.
func TestClassify(t *testing.T) {
	outages := []error{
		driver.ErrBadConn,
		&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED},
		fmt.Errorf("write: %w", syscall.EPIPE),
		pgErr("57P01"), pgErr("08006"), pgErr("53100"), pgErr("53300"), pgErr("40P01"), pgErr("57014"),
		liteErr(5), liteErr(6), liteErr(5 | 2<<8), liteErr(13), liteErr(10 | 12<<8),
		errors.New("conn closed"),
	}
	for _, err := range outages {
		got := sqlstore.Classify(fmt.Errorf("wrapped: %w", err))
		assert.ErrorIs(t, got, appeal.ErrUnavailable, "%v", err)
		assert.ErrorIs(t, got, err, "the driver's error stays in the chain")
	}
	refusals := []error{
		pgErr("22021"), // invalid byte sequence for encoding
		pgErr("23505"), // unique violation
		pgErr("P0001"), // raised by a trigger
		liteErr(19),    // SQLITE_CONSTRAINT
		liteErr(1),     // SQLITE_ERROR
		context.Canceled, context.DeadlineExceeded,
		errors.New("sqlstore: encode appeal: json: unsupported value: NaN"),
	}
	for _, err := range refusals {
		assert.NotErrorIs(t, sqlstore.Classify(err), appeal.ErrUnavailable, "%v", err)
	}
	assert.NoError(t, sqlstore.Classify(nil))
}
