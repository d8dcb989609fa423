package lexicon

import "testing"

func BenchmarkRecognise(b *testing.B) {
	msg := "我的洗衣机显示E102，洗完衣服桶里还剩一汪水放不掉，机器一直滴滴地叫，排水泵过滤器我也清理过了，还是不行，怎么办？My washer shows E102 and will not drain."
	for b.Loop() {
		Recognise(msg)
	}
}
