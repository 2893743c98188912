// Package pgtest starts a throwaway PostgreSQL server that one test owns,
// so that the test can stop, restart and freeze it (kill -STOP) without
// disturbing a shared server: the outage tests of appeal/sqlstore and the
// pipeline's fault-injection suite use it.
//
// It needs the PostgreSQL server binaries (/usr/lib/postgresql/*/bin, the
// Debian postgresql package). Without them the test is skipped, except
// under CI=true, where it fails. Run as root, the server runs as the
// postgres user (initdb refuses root).
package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // OpenDB uses the "pgx" driver
)

// Server is a PostgreSQL cluster in a temp dir, listening on 127.0.0.1.
// It is stopped and removed when the test ends.
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	as   []string // runs a command as the postgres user when we are root
}

// New initialises and starts a cluster for t, or skips t when the
// PostgreSQL binaries are missing (fails it under CI=true).
func New(t testing.TB) *Server {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("pgtest: PostgreSQL binaries (/usr/lib/postgresql/*/bin) are missing under CI (.ci/postgres.sh installs them)")
		}
		t.Skip("pgtest: PostgreSQL binaries are not installed")
	}
	sort.Strings(bins)
	s := &Server{t: t, bin: filepath.Dir(bins[len(bins)-1])}
	dir, err := os.MkdirTemp("", "appealkit-pgtest-")
	if err != nil {
		t.Fatal(err)
	}
	s.dir = dir
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("pgtest: running as root needs the postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		s.as = []string{"runuser", "-u", "postgres", "--"}
	}
	t.Cleanup(func() {
		s.Thaw() // a frozen server cannot stop
		_ = s.ctl("-m", "immediate", "-w", "stop")
		_ = os.RemoveAll(dir)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	if out, err := s.command("initdb", "-D", s.data(), "-U", "postgres", "-A", "trust",
		"--encoding=UTF8", "--locale=C.UTF-8").CombinedOutput(); err != nil {
		t.Fatalf("pgtest: initdb: %v: %s", err, out)
	}
	s.Start()
	return s
}

func (s *Server) data() string { return filepath.Join(s.dir, "data") }

func (s *Server) command(name string, args ...string) *exec.Cmd {
	argv := append(append([]string{}, s.as...), append([]string{filepath.Join(s.bin, name)}, args...)...)
	return exec.Command(argv[0], argv[1:]...)
}

func (s *Server) ctl(args ...string) error {
	out, err := s.command("pg_ctl", append([]string{"-D", s.data()}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl %v: %w: %s", args, err, out)
	}
	return nil
}

// Start starts the server (again, after Stop) and waits until it accepts
// connections.
func (s *Server) Start() {
	s.t.Helper()
	if err := s.ctl("-w", "-t", "60", "-l", filepath.Join(s.dir, "server.log"),
		"-o", fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c max_connections=50 -c fsync=off", s.port, s.dir),
		"start"); err != nil {
		s.t.Fatal(err)
	}
}

// Stop is `pg_ctl stop -m fast`: connections are cut and transactions in
// flight rolled back, as in a restart of the database.
func (s *Server) Stop() {
	s.t.Helper()
	if err := s.ctl("-m", "fast", "-w", "stop"); err != nil {
		s.t.Fatal(err)
	}
}

// DSN is the server's connection string (database postgres, user
// postgres), with a short connect timeout.
func (s *Server) DSN() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=5", s.port)
}

// OpenDB opens a pool on the server (closed when the test ends) and waits
// until the server answers.
func (s *Server) OpenDB() *sql.DB {
	s.t.Helper()
	db, err := sql.Open("pgx", s.DSN())
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { db.Close() })
	db.SetMaxIdleConns(16)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		s.t.Fatal(err)
	}
	return db
}

// PIDs returns the postmaster and every process it started (the backends
// holding the clients' connections), or nil when the server is not
// running.
func (s *Server) PIDs() []int {
	b, err := os.ReadFile(filepath.Join(s.data(), "postmaster.pid"))
	if err != nil {
		return nil
	}
	master, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		return nil
	}
	pids := []int{master}
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		stat, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so parse
		// after the last ')'.
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
		f := strings.Fields(rest)
		if len(f) > 1 && f[1] == strconv.Itoa(master) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			pids = append(pids, pid)
		}
	}
	return pids
}

// Freeze stops every server process (kill -STOP): connections stay open
// and nothing answers, as with a hung host. It returns how many processes
// it froze.
func (s *Server) Freeze() int {
	pids := s.PIDs()
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGSTOP)
	}
	return len(pids)
}

// Thaw resumes a frozen server (kill -CONT).
func (s *Server) Thaw() {
	for _, pid := range s.PIDs() {
		_ = syscall.Kill(pid, syscall.SIGCONT)
	}
}
