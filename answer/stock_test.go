package answer_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fixgraph/fixgraph"
)

// TestStaleStockIsSaid: an answer whose guide needs a part says so when the part's newest stock
// count is older than the limit, in the question's language, and says nothing when it is fresh.
func TestStaleStockIsSaid(t *testing.T) {
	ctx := context.Background()
	s := mustService(t)
	newest := time.Date(2026, 11, 16, 16, 58, 0, 0, time.FixedZone("CST", 8*3600)) // DC31-00178A's newest row in stock.csv
	for _, tc := range []struct {
		name, question string
		now            time.Time
		want           string // "" for no note
	}{
		{"fresh", "我的洗衣机显示E102怎么办", newest.Add(2 * time.Hour), ""},
		{"stale zh", "我的洗衣机显示E102怎么办", newest.Add(72 * time.Hour), "配件 DC31-00178A 的库存数据更新于 2026-11-16"},
		{"stale en", "my washer shows E102, what do I do", newest.Add(72 * time.Hour), "Stock for part DC31-00178A was last counted 2026-11-16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.Now = func() time.Time { return tc.now }
			ans, err := s.Ask(ctx, tc.question)
			if err != nil {
				t.Fatal(err)
			}
			if ans.Guide == nil || ans.ErrorCode == nil || ans.ErrorCode.Code != "E102" {
				t.Fatalf("no E102 guide: %+v", ans)
			}
			got := strings.Join(ans.Notes, "\n")
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("notes %q; want %q", got, tc.want)
			}
		})
	}
	if lvl := (&fixgraph.StockLevel{UpdatedAt: newest}); lvl.Stale(newest.Add(time.Hour), fixgraph.DefaultStockMaxAge) || !lvl.Stale(newest.Add(25*time.Hour), fixgraph.DefaultStockMaxAge) {
		t.Error("Stale disagrees with a 24-hour limit")
	}
}
