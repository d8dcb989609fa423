package search_test

import (
	"context"
	"testing"

	"github.com/fixgraph/fixgraph"
)

// TestTraditionalAndSimplifiedChinese indexes one section in Traditional and one in Simplified
// Chinese: a question in either script finds both, and the stored text stays as written.
func TestTraditionalAndSimplifiedChinese(t *testing.T) {
	ctx := context.Background()
	ix := mustText(t, t.TempDir())
	d := doc("hk.html", 1)
	trad := section(d, "洗衣機排水故障", "顯示E21時，請檢查排水管是否堵塞。")
	simp := section(d, "烘干机温度过高", "显示F3时，请清洁过滤网。")
	if err := ix.Update(ctx, d, []*fixgraph.Section{trad, simp}, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		q    string
		want string
	}{
		{"洗衣机排水管堵塞", trad.ID}, // simplified question, traditional text
		{"洗衣機排水管堵塞", trad.ID}, // traditional question, traditional text
		{"烘乾機溫度過高", simp.ID},  // traditional question, simplified text
		{"清潔過濾網", simp.ID},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			hits, err := ix.Search(ctx, tt.q, 5, fixgraph.SearchFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) == 0 || hits[0].Section.ID != tt.want {
				t.Errorf("search(%q) = %v, want %s first", tt.q, ids(hits), tt.want)
			}
		})
	}
}
