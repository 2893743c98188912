package source_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/appealkit/appealkit/source"
)

// One Save with 1,000 cursors of ~150 bytes already in the file: what a VK
// monitor of 1,000 communities pays per changed community.
func BenchmarkFileCheckpointsSave1000(b *testing.B) {
	ctx := context.Background()
	cp, err := source.OpenFileCheckpoints(filepath.Join(b.TempDir(), "cp.json"))
	if err != nil {
		b.Fatal(err)
	}
	cursor := `{"last_post":123456,"posts":{"123456":{"n":12,"last":998877},"123455":{"n":3,"last":998800},"123450":{"n":0,"last":0}}}`
	for i := range 1000 {
		if err := cp.Save(ctx, fmt.Sprintf("vk:wall:-%d", i), cursor); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if err := cp.Save(ctx, fmt.Sprintf("vk:wall:-%d", i%1000), fmt.Sprintf(`{"last_post":%d}`, i)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDedupSeen(b *testing.B) {
	d := source.NewDedup(10000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		d.Seen(fmt.Sprint(i % 20000))
	}
}
