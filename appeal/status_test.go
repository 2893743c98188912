package appeal_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
)

// allowed is the lifecycle written out independently of the implementation's
// table, so a change to either shows up here.
var allowed = map[[2]appeal.Status]bool{
	{appeal.StatusNew, appeal.StatusRouted}:          true,
	{appeal.StatusNew, appeal.StatusRejected}:        true,
	{appeal.StatusRouted, appeal.StatusRouted}:       true, // reassignment
	{appeal.StatusRouted, appeal.StatusInProgress}:   true,
	{appeal.StatusRouted, appeal.StatusAnswered}:     true,
	{appeal.StatusRouted, appeal.StatusRejected}:     true,
	{appeal.StatusInProgress, appeal.StatusRouted}:   true, // handed to another executor
	{appeal.StatusInProgress, appeal.StatusAnswered}: true,
	{appeal.StatusAnswered, appeal.StatusResolved}:   true,
	{appeal.StatusAnswered, appeal.StatusReopened}:   true,
	{appeal.StatusResolved, appeal.StatusReopened}:   true,
	{appeal.StatusRejected, appeal.StatusReopened}:   true,
	{appeal.StatusReopened, appeal.StatusRouted}:     true,
	{appeal.StatusReopened, appeal.StatusInProgress}: true,
	{appeal.StatusReopened, appeal.StatusAnswered}:   true,
}

func changeTo(to appeal.Status) appeal.Change {
	return appeal.Change{
		To: to, Actor: "operator-7", Note: "test",
		At:         time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
		Assignment: &appeal.Assignment{Executor: "roads"},
		Reply:      &appeal.Reply{Text: "ответ"},
	}
}

// TestEveryTransition checks all 7×7 pairs: each allowed one applies and
// records an Event, each forbidden one fails with a typed error naming both
// states and leaves the appeal untouched.
func TestEveryTransition(t *testing.T) {
	statuses := appeal.AllStatuses()
	require.Len(t, statuses, 7)
	for _, from := range statuses {
		for _, to := range statuses {
			t.Run(fmt.Sprintf("%s→%s", from, to), func(t *testing.T) {
				a := appeal.Appeal{ID: "vk:1", Network: appeal.NetworkVK, ExternalID: "1", Status: from,
					History: []appeal.Event{{To: from}}}
				before := a.Clone()
				err := a.Apply(changeTo(to))
				assert.Equal(t, allowed[[2]appeal.Status{from, to}], from.CanTransition(to))
				if allowed[[2]appeal.Status{from, to}] {
					require.NoError(t, err)
					assert.Equal(t, to, a.Status)
					require.Len(t, a.History, 2)
					assert.Equal(t, appeal.Event{At: changeTo(to).At, Actor: "operator-7", From: from, To: to, Note: "test"}, a.History[1])
					return
				}
				require.Error(t, err)
				assert.ErrorIs(t, err, appeal.ErrIllegalTransition)
				var te *appeal.TransitionError
				require.True(t, errors.As(err, &te))
				assert.Equal(t, from, te.From)
				assert.Equal(t, to, te.To)
				assert.Contains(t, err.Error(), string(from))
				assert.Contains(t, err.Error(), string(to))
				assert.Equal(t, before, a, "a refused transition changes nothing")
			})
		}
	}
}

func TestApplyRequiresAssignmentAndReply(t *testing.T) {
	a := appeal.Appeal{Status: appeal.StatusNew}
	err := a.Apply(appeal.Change{To: appeal.StatusRouted})
	var fe *appeal.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "assignment", fe.Field)
	assert.ErrorIs(t, err, appeal.ErrInvalid)
	assert.Equal(t, appeal.StatusNew, a.Status)

	err = a.Apply(appeal.Change{To: appeal.StatusRouted, Assignment: &appeal.Assignment{}})
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "assignment.executor", fe.Field)

	a.Status = appeal.StatusRouted
	err = a.Apply(appeal.Change{To: appeal.StatusAnswered})
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "reply", fe.Field)

	err = a.Apply(appeal.Change{To: "closed"})
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "to", fe.Field)
	assert.Empty(t, a.History)
}

func TestApplyDefaultsTimes(t *testing.T) {
	a := appeal.Appeal{Status: appeal.StatusRouted}
	before := time.Now()
	require.NoError(t, a.Apply(appeal.Change{To: appeal.StatusAnswered, Reply: &appeal.Reply{Text: "ok"}}))
	assert.False(t, a.History[0].At.Before(before))
	assert.Equal(t, a.History[0].At, a.Replies[0].At, "the reply takes the event's time")
}

func TestAwaitsAnswerAndOverdue(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	a := appeal.Appeal{Status: appeal.StatusRouted, Assignment: &appeal.Assignment{Executor: "x", Deadline: now.Add(-time.Minute)}}
	assert.True(t, a.Overdue(now))
	a.Status = appeal.StatusAnswered
	assert.False(t, a.Overdue(now), "an answered appeal is not overdue")
	a.Status = appeal.StatusReopened
	assert.True(t, a.Overdue(now))
	a.Assignment.Deadline = time.Time{}
	assert.False(t, a.Overdue(now), "no deadline, never overdue")
}
