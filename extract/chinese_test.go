package extract

import "testing"

func TestSimplified(t *testing.T) {
	tests := []struct{ in, want string }{
		{"洗衣機顯示E102怎麼辦？", "洗衣机显示E102怎么办？"},
		{"烘乾機", "烘干机"},
		{"洗衣机显示E102", "洗衣机显示E102"}, // already simplified
		{"Drain pump E-102", "Drain pump E-102"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Simplified(tt.in); got != tt.want {
			t.Errorf("Simplified(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
