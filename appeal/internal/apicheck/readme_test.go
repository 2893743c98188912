package apicheck

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
		for _, args := range [][]string{{"build", "-o", os.DevNull, "."}, {"vet", "."}} {
			cmd := exec.CommandContext(ctx, "go", args...)
			cmd.Dir = dir
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				t.Errorf("README.md:%d: the Go program does not pass go %s (its lines are numbered from the block's first line):\n%s", lines[i], args[0], out.String())
			}
		}
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
