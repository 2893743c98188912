package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/appealkit/appealkit/appeal"
	"github.com/appealkit/appealkit/appeal/sqlstore"
	"github.com/appealkit/appealkit/appeal/storetest"
)

// TestListMatchesReference checks List and Count against the reference
// semantics (appeal.Filter.Match, appeal.Less, Limit) on a random population and
// random filters. External ids mix cases, digits, punctuation and Cyrillic,
// whose order differs between byte-wise comparison and locale collations,
// and many appeals share a CreatedAt, so ordering ties fall back to the ID.
func TestListMatchesReference(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			be.ready(t)
			ctx := context.Background()
			s := be.open(t)
			rng := rand.New(rand.NewPCG(7, 11))
			base := time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
			pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
			idParts := []string{"a", "B", "b", "_", "-", "1", "10", "2", "ё", "е", "Я", " "}

			var population []appeal.Appeal
			seen := map[appeal.ID]bool{}
			for len(population) < 120 {
				ext := ""
				for range 1 + rng.IntN(4) {
					ext += pick(idParts...)
				}
				a := storetest.Sample(ext)
				a.Network = appeal.Network(pick("vk", "ok", "telegram"))
				if a.Normalize() != nil || seen[a.ID] {
					continue
				}
				seen[a.ID] = true
				switch rng.IntN(5) {
				case 0:
					a.CreatedAt = time.Time{}
				case 1, 2:
					a.CreatedAt = base // ties
				default:
					a.CreatedAt = base.Add(time.Duration(rng.IntN(100)) * time.Hour)
				}
				a.Municipality = pick("Курск", "Льгов", "")
				a.Topics = nil
				for range rng.IntN(3) {
					a.Topics = append(a.Topics, appeal.TopicScore{Code: pick("roads", "garbage", "housing", "housing.heating"), Score: 0.5})
				}
				a.Status = appeal.AllStatuses()[rng.IntN(len(appeal.AllStatuses()))]
				a.IncidentID = pick("", "", "inc-1", "inc-2")
				a.Thread = appeal.Thread{RootID: pick("", "p1", "p2", "a")}
				if rng.IntN(4) > 0 {
					a.Assignment = &appeal.Assignment{Executor: pick("roads", "gkh", "eco")}
					if rng.IntN(3) > 0 {
						a.Assignment.Deadline = base.Add(time.Duration(rng.IntN(100)) * time.Hour)
					}
					for range rng.IntN(3) {
						a.Assignment.CoExecutors = append(a.Assignment.CoExecutors, pick("roads", "gkh", "eco", "centre", "Центр"))
					}
				}
				_, err := s.Put(ctx, a)
				require.NoError(t, err)
				population = append(population, a)
			}

			for i := range 150 {
				var f appeal.Filter
				if rng.IntN(3) == 0 {
					f.Statuses = []appeal.Status{appeal.AllStatuses()[rng.IntN(7)], appeal.AllStatuses()[rng.IntN(7)]}
				}
				if rng.IntN(3) == 0 {
					f.Municipality = pick("Курск", "Льгов")
				}
				if rng.IntN(3) == 0 {
					f.Topic = pick("roads", "garbage", "housing", "housing.heating")
				}
				if rng.IntN(3) == 0 {
					f.Executor = pick("roads", "gkh", "eco")
				}
				if rng.IntN(3) == 0 {
					f.Involves = pick("roads", "gkh", "eco", "centre", "центр")
				}
				if rng.IntN(4) == 0 {
					f.Incident = pick("inc-1", "inc-2", "inc-3")
				}
				if rng.IntN(4) == 0 {
					f.ThreadRoot = pick("p1", "p2", "a", "B")
				}
				if rng.IntN(4) == 0 {
					f.Network = appeal.Network(pick("vk", "ok", "telegram"))
				}
				if rng.IntN(4) == 0 {
					f.CreatedFrom = base.Add(time.Duration(rng.IntN(100)) * time.Hour)
				}
				if rng.IntN(4) == 0 {
					f.CreatedTo = base.Add(time.Duration(rng.IntN(100)) * time.Hour)
				}
				if rng.IntN(3) == 0 {
					f.OverdueAt = base.Add(time.Duration(rng.IntN(100)) * time.Hour)
				}
				if rng.IntN(3) == 0 {
					cursor := population[rng.IntN(len(population))]
					f.AfterCreated, f.AfterID = cursor.CreatedAt, cursor.ID
				}
				if rng.IntN(3) == 0 {
					f.Limit = 1 + rng.IntN(20)
				}

				var want []appeal.ID
				matched := make([]*appeal.Appeal, 0)
				for j := range population {
					if f.Match(&population[j]) {
						matched = append(matched, &population[j])
					}
				}
				slices.SortFunc(matched, func(a, b *appeal.Appeal) int {
					if appeal.Less(a, b) {
						return -1
					}
					if appeal.Less(b, a) {
						return 1
					}
					return 0
				})
				if f.Limit > 0 && len(matched) > f.Limit {
					matched = matched[:f.Limit]
				}
				for _, a := range matched {
					want = append(want, a.ID)
				}
				list, err := s.List(ctx, f)
				require.NoError(t, err)
				var got []appeal.ID
				for _, a := range list {
					got = append(got, a.ID)
				}
				require.Equal(t, want, got, "filter %d: %+v", i, fmt.Sprintf("%+v", f))
				n, err := s.Count(ctx, f)
				require.NoError(t, err)
				require.Equal(t, len(want), n, "count, filter %d: %+v", i, fmt.Sprintf("%+v", f))
			}
		})
	}
}

// Migration 4 fills the co_executors column from the documents of appeals
// stored before it: cleared and filled again, it holds what writing put
// there, and Involves finds co-executors through it.
func TestBackfillCoExecutors(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			be.ready(t)
			ctx := context.Background()
			s := be.open(t)
			for i, co := range [][]string{nil, {}, {"centre"}, {"centre", "Центр", "roads"}} {
				a := storetest.Sample(fmt.Sprintf("bf%d", i))
				require.NoError(t, a.Normalize())
				if co != nil {
					a.Status = appeal.StatusRouted
					a.Assignment = &appeal.Assignment{Executor: "gkh", CoExecutors: co}
				}
				_, err := s.Put(ctx, a)
				require.NoError(t, err)
			}
			written := refill(t, s, "co_executors", `UPDATE appeals SET co_executors = ''`, sqlstore.BackfillCoExecutors(s.Dialect()))
			require.Equal(t, "\x1fcentre\x1fЦентр\x1froads\x1f", written["vk:bf3"])
			require.Equal(t, "", written["vk:bf1"])
			list, err := s.List(ctx, appeal.Filter{Involves: "Центр"})
			require.NoError(t, err)
			require.Len(t, list, 1)
			require.Equal(t, appeal.ID("vk:bf3"), list[0].ID)
		})
	}
}

// Migration 5 fills incident_id and thread_root the same way.
func TestBackfillIncidentThread(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			be.ready(t)
			ctx := context.Background()
			s := be.open(t)
			for i, root := range []string{"", "-1_10", "-1_10", "post"} {
				a := storetest.Sample(fmt.Sprintf("it%d", i))
				a.Thread = appeal.Thread{RootID: root}
				if i%2 == 1 {
					a.IncidentID = "inc-" + strconv.Itoa(i)
				}
				_, err := s.Put(ctx, a)
				require.NoError(t, err)
			}
			written := refill(t, s, "incident_id || '|' || thread_root", `UPDATE appeals SET incident_id = '', thread_root = ''`,
				sqlstore.BackfillIncidentThread(s.Dialect()))
			require.Equal(t, map[string]string{"vk:it0": "|it0", "vk:it1": "inc-1|-1_10", "vk:it2": "|-1_10", "vk:it3": "inc-3|post"}, written)
		})
	}
}

// refill reads expr over each appeal's row as writing left it, clears the
// columns (clearSQL) and runs a migration's backfill, and checks that the
// backfill put back what writing had; it returns that, by appeal id.
func refill(t *testing.T, s *sqlstore.Store, expr, clearSQL, backfill string) map[string]string {
	t.Helper()
	ctx := context.Background()
	read := func() map[string]string {
		rs, err := s.DB().QueryContext(ctx, `SELECT id, `+expr+` FROM appeals ORDER BY id`)
		require.NoError(t, err)
		defer rs.Close()
		out := map[string]string{}
		for rs.Next() {
			var id, v string
			require.NoError(t, rs.Scan(&id, &v))
			out[id] = v
		}
		require.NoError(t, rs.Err())
		return out
	}
	written := read()
	_, err := s.DB().ExecContext(ctx, clearSQL)
	require.NoError(t, err)
	_, err = s.DB().ExecContext(ctx, backfill)
	require.NoError(t, err)
	require.Equal(t, written, read(), "the backfill puts back what writing put there")
	return written
}
