package appeal

import (
	"errors"
	"fmt"
)

// Sentinel errors; match them with errors.Is.
var (
	// ErrNotFound: no appeal with that ID is stored.
	ErrNotFound = errors.New("appeal: not found")
	// ErrConflict: the stored version differs from the one the caller read;
	// someone else changed the appeal first. Get it again and retry.
	ErrConflict = errors.New("appeal: version conflict")
	// ErrIllegalTransition: the lifecycle forbids the requested step.
	ErrIllegalTransition = errors.New("appeal: illegal transition")
	// ErrInvalid: a field of an appeal or change is missing or malformed.
	ErrInvalid = errors.New("appeal: invalid")
	// ErrUnavailable: the store could not be reached or could not answer in
	// time (a database restarting, a lock held past its timeout). Nothing was
	// written; the same call may succeed later, so callers retry it with
	// backoff instead of giving the appeal up.
	ErrUnavailable = errors.New("appeal: store unavailable")
)

// TransitionError names the step the lifecycle refused. It matches
// ErrIllegalTransition.
type TransitionError struct {
	ID       ID
	From, To Status
}

// Error names the appeal, the refused step and the statuses allowed from
// where it stands.
func (e *TransitionError) Error() string {
	return fmt.Sprintf("appeal %s: illegal transition %s → %s (allowed from %s: %v)", e.ID.Redacted(), e.From, e.To, e.From, transitions[e.From])
}

// Is makes errors.Is(err, ErrIllegalTransition) true.
func (e *TransitionError) Is(target error) bool { return target == ErrIllegalTransition }

// FieldError names a bad field. It matches ErrInvalid.
type FieldError struct {
	Field string
	Msg   string
}

// Error names the field and what is wrong with it.
func (e *FieldError) Error() string { return "appeal: field " + e.Field + ": " + e.Msg }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// ConflictError reports the versions that disagreed. It matches ErrConflict.
type ConflictError struct {
	ID               ID
	Expected, Actual int64
}

// Error names the appeal (ID.Redacted: error texts reach logs) and both
// versions.
func (e *ConflictError) Error() string {
	return fmt.Sprintf("appeal %s: version conflict: expected %d, stored %d", e.ID.Redacted(), e.Expected, e.Actual)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// CheckID refuses an empty ID with a *FieldError that says how to get one.
// Stores call it in Get, Transition and Update: the usual cause is an
// appeal Put without Normalize, since Put stores a normalised copy and
// leaves the caller's appeal (and its empty ID) as it was.
func CheckID(id ID) error {
	if id == "" {
		return &FieldError{Field: "id", Msg: "is empty: call a.Normalize() before Store.Put (it fills a.ID from network and external_id), or use appeal.NewID(network, externalID)"}
	}
	return nil
}
