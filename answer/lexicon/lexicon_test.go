package lexicon

import (
	"slices"
	"strings"
	"testing"
)

func terms(ms []Match, class string) []string {
	var out []string
	for _, m := range ms {
		if m.Class == class {
			out = append(out, m.Term)
		}
	}
	return out
}

// TestRecognise covers the mechanisms one by one: plain terms, spacing, case, full-width and
// Traditional forms, a slip in a long English word, near pairs, negation before and after,
// phrases that deny nothing, harmless phrases and feature names, and the anger threshold.
func TestRecognise(t *testing.T) {
	for _, c := range []struct {
		msg               string
		danger, complaint []string
	}{
		{"洗衣机显示E102，插头那里在冒烟，还有焦味", []string{"冒烟", "焦味"}, nil},
		{"洗衣機冒煙了", []string{"冒烟"}, nil},
		{"冒 烟 了", []string{"冒烟"}, nil},
		{"ＳＭＯＫＥ from the back", []string{"smoke"}, nil},
		{"there is a burnign smell", []string{"burning smell"}, nil},
		{"插座旁边有水", []string{"水+插座"}, nil},
		{"厨房燃气好像泄漏了", []string{"燃气+泄漏"}, nil},
		{"没有冒烟，只是不排水", nil, nil},
		{"一点焦味都没有", nil, nil},
		{"no smoke, it just won't drain", nil, nil},
		{"it does not smell of gas", nil, nil},
		{"没有冒烟，但是有焦味", []string{"焦味"}, nil},
		{"the washer won't stop smoking", []string{"smoking"}, nil},
		{"洗衣机一直不停冒烟", []string{"冒烟"}, nil},
		{"手麻麻的，是不是漏电", []string{"手麻", "漏电"}, nil},
		{"漏电保护插头怎么测试", nil, nil},
		{"how do I use the fire mode of the oven", nil, nil},
		{"the glasses are not sparkling", nil, nil},
		{"the drum is not turning", nil, nil},
		{"我要投诉你们的售后，12315", nil, []string{"投诉", "12315"}},
		{"我不是要投诉，只是问问", nil, nil},
		{"My complant is that", nil, []string{"complaint"}},
		{"garbage", nil, nil},
		{"垃圾产品，骗子公司", nil, []string{"垃圾", "骗子"}},
		{"过滤器里有很多垃圾", nil, nil},
	} {
		ms := Recognise(c.msg)
		if got := terms(ms, Danger); !slices.Equal(got, c.danger) {
			t.Errorf("%q: danger %q, want %q", c.msg, got, c.danger)
		}
		if got := terms(ms, Complaint); !slices.Equal(got, c.complaint) {
			t.Errorf("%q: complaint %q, want %q", c.msg, got, c.complaint)
		}
	}
}

// TestDangerous reads severity from a fault's wording: a strong term, or two medium ones; a
// denied term does not count.
func TestDangerous(t *testing.T) {
	for _, c := range []struct {
		texts []string
		want  bool
	}{
		{[]string{"漏电保护插头跳闸", "漏电可能危及生命。"}, true},
		{[]string{"Leakage current can kill."}, true},
		{[]string{"立即拔下漏电保护插头。", "在维修前不要再通电，联系售后更换主控板。"}, true},
		{[]string{"Unplug for 1 minute and switch on again.", "Call service to replace the sensor."}, false},
		{[]string{"属于正常保护，无需处理。"}, false},
		{[]string{"This is normal and not dangerous."}, false},
		{[]string{"If E1 persists, stop using the heater and call service."}, false},
	} {
		if got, why := Dangerous(c.texts...); got != c.want {
			t.Errorf("Dangerous(%q) = %v %q, want %v", c.texts, got, why, c.want)
		}
	}
}

// TestLexiconData checks the files: both languages, every hazard with a safety query and a
// default sentence, and every near pair's hazard among them.
func TestLexiconData(t *testing.T) {
	for _, lang := range []string{"zh", "en"} {
		l := For(lang)
		if l.Language != lang {
			t.Fatalf("For(%q) = %q", lang, l.Language)
		}
		hazards := []string{""}
		for h := range l.Danger {
			hazards = append(hazards, h)
		}
		for _, n := range l.Near {
			hazards = append(hazards, n.Hazard)
		}
		for _, h := range hazards {
			if s := l.Safety[h]; strings.TrimSpace(s.Query) == "" || strings.TrimSpace(s.Default) == "" {
				t.Errorf("%s: hazard %q has no safety query or default sentence", lang, h)
			}
			for _, r := range l.Safety[h].Related {
				if _, ok := l.Safety[r]; !ok {
					t.Errorf("%s: hazard %q relates to unknown %q", lang, h, r)
				}
			}
		}
		if l.CountActions(l.Safety[""].Default) == 0 {
			t.Errorf("%s: the generic safety sentence names no action", lang)
		}
	}
}

func TestOneSlip(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"complaint", "complant", true}, {"burning", "burnign", true}, {"lawyer", "lawyers", true},
		{"electrocuted", "electrocutted", true}, {"smoke", "smoke", false}, {"burning", "turnings", false}, {"spark", "sparkle", false},
	} {
		if got := oneSlip(c.a, c.b); got != c.want {
			t.Errorf("oneSlip(%q, %q) = %v", c.a, c.b, got)
		}
	}
}
