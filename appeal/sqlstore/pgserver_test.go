package sqlstore_test

import (
	"database/sql"
	"testing"

	"github.com/appealkit/appealkit/appeal/sqlstore/pgtest"
)

// pgServer is a throwaway PostgreSQL cluster a test owns, so that it can
// stop, restart and freeze it without disturbing the shared one (pgtest,
// shared with the pipeline's fault-injection suite).
type pgServer struct{ *pgtest.Server }

// startPGServer starts a cluster in a temp dir, or skips the test when the
// PostgreSQL binaries are missing (fails instead under CI=true).
func startPGServer(t testing.TB) *pgServer { return &pgServer{pgtest.New(t)} }

func (s *pgServer) freeze() { s.Freeze() }
func (s *pgServer) cont()   { s.Thaw() }
func (s *pgServer) stop()   { s.Stop() }
func (s *pgServer) start()  { s.Start() }
func (s *pgServer) openDB() *sql.DB {
	return s.OpenDB()
}
