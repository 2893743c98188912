package apicheck

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// readmePrograms returns the README's ```go blocks that are whole programs
// (they start with "package"), with the line each starts at. Fragments
// (the answer half, the one-file deployment) are illustrations and are not
// checked.
func readmePrograms(readme string) (progs []string, lines []int) {
	var cur []string
	in, start := false, 0
	for i, l := range strings.Split(readme, "\n") {
		switch {
		case !in && strings.TrimSpace(l) == "```go":
			in, start, cur = true, i+2, nil
		case in && strings.TrimSpace(l) == "```":
			in = false
			if len(cur) > 0 && strings.HasPrefix(cur[0], "package ") {
				progs = append(progs, strings.Join(cur, "\n")+"\n")
				lines = append(lines, start)
			}
		case in:
			cur = append(cur, l)
		}
	}
	return progs, lines
}

// TestREADMEProgramCompiles builds and vets each whole program in
// README.md inside the module, so that a renamed function or an ignored
// error in the sample a new user copies fails the build here first.
func TestREADMEProgramCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	progs, lines := readmePrograms(string(readme))
	if len(progs) == 0 {
		t.Fatal("README.md has no ```go block that is a whole program (package main ...): the sample is unchecked")
	}
	here, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for i, prog := range progs {
		// Inside the module, so that its imports resolve to this tree;
		// the leading "_" keeps ./... from seeing it.
		dir, err := os.MkdirTemp(here, "_readme")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.RemoveAll(dir) })
		if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(prog), 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		bin := filepath.Join(dir, "readme-program")
		ok := true
		for _, args := range [][]string{{"build", "-o", bin, "."}, {"vet", "."}} {
			cmd := exec.CommandContext(ctx, "go", args...)
			cmd.Dir = dir
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				ok = false
				t.Errorf("README.md:%d: the Go program does not pass go %s (its lines are numbered from the block's first line):\n%s", lines[i], args[0], out.String())
			}
		}
		if !ok {
			continue
		}
		// A new user's first run, without the token: a clear error that
		// names the variable, not a panic. (Only the environment
		// variables the program reads are cleared.)
		cmd := exec.CommandContext(ctx, bin)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "VK_TOKEN=", "VK_API_URL=")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err = cmd.Run()
		if _, exited := err.(*exec.ExitError); !exited || strings.Contains(out.String(), "panic") || !strings.Contains(out.String(), "VK_TOKEN") {
			t.Errorf("README.md:%d: run without VK_TOKEN: want an exit with an error naming VK_TOKEN, got %v:\n%s", lines[i], err, out.String())
		}

		// Against a stand-in VK that refuses the token (error 5, as
		// api.vk.com answers a revoked one): the program reaches VK,
		// stops with the auth error and does not panic.
		var calls atomic.Int32
		vkAPI := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"error":{"error_code":5,"error_msg":"User authorization failed: invalid access_token (4).","request_params":[]}}`)
		}))
		defer vkAPI.Close()
		if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), rulesYAML(t, root), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd = exec.CommandContext(ctx, bin)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "VK_TOKEN=revoked", "VK_API_URL="+vkAPI.URL+"/method/")
		out.Reset()
		cmd.Stdout, cmd.Stderr = &out, &out
		err = cmd.Run()
		if _, exited := err.(*exec.ExitError); !exited || strings.Contains(out.String(), "panic") || calls.Load() == 0 {
			t.Errorf("README.md:%d: run against a VK that refuses the token: want an exit with an error after calling it (calls: %d), got %v:\n%s",
				lines[i], calls.Load(), err, out.String())
		}
		t.Logf("README program against a refusing VK (%d calls): %s", calls.Load(), strings.TrimSpace(out.String()))
	}
}

// The extractor finds whole programs and leaves fragments alone, so the
// check above cannot pass by finding nothing.
func TestREADMEProgramsExtracted(t *testing.T) {
	md := "x\n```go\npackage main\n\nfunc main() {}\n```\n```go\nfragment()\n```\n"
	progs, lines := readmePrograms(md)
	if len(progs) != 1 || lines[0] != 3 || !strings.HasPrefix(progs[0], "package main\n") {
		t.Fatalf("got %q at %v", progs, lines)
	}
}

// rulesYAML is the example region rules, the file the README's program
// reads as rules.yaml.
func rulesYAML(t *testing.T, root string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "examples", "rules", "region.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
