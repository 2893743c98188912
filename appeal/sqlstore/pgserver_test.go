package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// pgServer is a throwaway PostgreSQL cluster a test owns, so that it can
// stop, restart and freeze it without disturbing the shared one.
type pgServer struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	run  []string // prefix that runs a command as the postgres user when we are root
}

// startPGServer starts a cluster in a temp dir, or skips the test when the
// PostgreSQL binaries are missing (fails instead under CI=true).
func startPGServer(t testing.TB) *pgServer {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("PostgreSQL binaries are missing under CI (.ci/postgres.sh installs them)")
		}
		t.Skip("PostgreSQL binaries are not installed")
	}
	sort.Strings(bins)
	srv := &pgServer{t: t, bin: filepath.Dir(bins[len(bins)-1])}
	dir, err := os.MkdirTemp("", "appealkit-pgtest-")
	require.NoError(t, err)
	srv.dir = dir
	if os.Getuid() == 0 {
		// initdb refuses to run as root.
		require.NoError(t, exec.Command("chown", "postgres:", dir).Run())
		srv.run = []string{"runuser", "-u", "postgres", "--"}
	}
	t.Cleanup(func() {
		srv.cont()
		_ = srv.ctl("stop", "-m", "immediate", "-w")
		_ = os.RemoveAll(dir)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	out, err := srv.command("initdb", "-D", dir+"/data", "-U", "postgres", "-A", "trust", "--encoding=UTF8", "--locale=C.UTF-8").CombinedOutput()
	require.NoError(t, err, "initdb: %s", out)
	srv.start()
	return srv
}

func (s *pgServer) command(name string, args ...string) *exec.Cmd {
	argv := append(append([]string{}, s.run...), append([]string{filepath.Join(s.bin, name)}, args...)...)
	return exec.Command(argv[0], argv[1:]...)
}

func (s *pgServer) ctl(args ...string) error {
	out, err := s.command("pg_ctl", append([]string{"-D", s.dir + "/data"}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl %v: %v: %s", args, err, out)
	}
	return nil
}

func (s *pgServer) start() {
	s.t.Helper()
	require.NoError(s.t, s.ctl("-w", "-t", "60", "-l", s.dir+"/server.log",
		"-o", fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off", s.port, s.dir), "start"))
}

func (s *pgServer) stop() {
	s.t.Helper()
	require.NoError(s.t, s.ctl("-w", "-m", "fast", "stop"))
}

func (s *pgServer) dsn() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=5", s.port)
}

// pids returns the postmaster and all its children.
func (s *pgServer) pids() []int {
	s.t.Helper()
	b, err := os.ReadFile(s.dir + "/data/postmaster.pid")
	require.NoError(s.t, err)
	master, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	require.NoError(s.t, err)
	pids := []int{master}
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		stat, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so parse after ')'.
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
		f := strings.Fields(rest)
		if len(f) > 1 && f[1] == strconv.Itoa(master) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			pids = append(pids, pid)
		}
	}
	return pids
}

// freeze stops every server process (kill -STOP): connections stay open
// and nothing answers, as with a hung host.
func (s *pgServer) freeze() {
	for _, pid := range s.pids() {
		_ = syscall.Kill(pid, syscall.SIGSTOP)
	}
}

// cont resumes a frozen server.
func (s *pgServer) cont() {
	if _, err := os.Stat(s.dir + "/data/postmaster.pid"); err != nil {
		return
	}
	for _, pid := range s.pids() {
		_ = syscall.Kill(pid, syscall.SIGCONT)
	}
}

// openDB opens a pool on the server and waits until it answers.
func (s *pgServer) openDB() *sql.DB {
	s.t.Helper()
	db, err := sql.Open("pgx", s.dsn())
	require.NoError(s.t, err)
	s.t.Cleanup(func() { db.Close() })
	db.SetMaxIdleConns(16)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(s.t, db.PingContext(ctx))
	return db
}
