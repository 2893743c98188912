package web

import (
	"testing"
	"time"
	_ "time/tzdata"
)

// A deadline reads in the appeal's own time; the offset is added only when
// it is not the console's.
func TestDeadlinePrintsInTheAppealsOwnTime(t *testing.T) {
	moscow, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	kaliningrad, err := time.LoadLocation("Europe/Kaliningrad")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{loc: moscow}
	due := time.Date(2026, 11, 24, 18, 0, 0, 0, kaliningrad)
	if got, want := s.fmtDeadline(due, "02.01 15:04"), "24.11 18:00 (UTC+02:00)"; got != want {
		t.Errorf("Kaliningrad: %q, want %q", got, want)
	}
	if got, want := s.fmtDeadline(due.In(moscow), "02.01 15:04"), "24.11 19:00"; got != want {
		t.Errorf("Moscow: %q, want %q", got, want)
	}
	// As a SQL store gives it back: a fixed offset, the same hour.
	if got, want := s.fmtDeadline(due.In(time.FixedZone("", 3*3600)), "02.01 15:04"), "24.11 19:00"; got != want {
		t.Errorf("fixed +03: %q, want %q", got, want)
	}
	if got := s.fmtDeadline(time.Time{}, "02.01 15:04"); got != "—" {
		t.Errorf("no deadline: %q", got)
	}
}
