package extract

import (
	"slices"
	"testing"
)

func TestCodeShape(t *testing.T) {
	tests := []struct {
		in, want string // want "" when in is no code
	}{
		{"E3", "E3"}, {"Eb", "Eb"}, {"FA", "FA"}, {"dE", "dE"}, {"5E", "5E"}, {"4C", "4C"}, {"Err01", "Err01"},
		{"ER1", "ER1"}, {"E-01", "E-01"}, {"F07-E", "F07-E"}, {"E.21", "E.21"}, {"d.E.", "d.E."}, {"INIt", "INIt"},
		{"LOC", "LOC"}, {"03", "03"}, {"950100", "950100"}, {"E14*", "E14"}, {"“净水Err02”、", "Err02"},
		{"Ｅ１０２", "E102"}, {"N/A", ""}, {"---", ""}, {"Fehler", ""}, {"Note", ""}, {"see", ""}, {"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := CodeShape(tt.in)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("CodeShape(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
			}
		})
	}
}

func TestCellCodes(t *testing.T) {
	tests := []struct {
		in, rest string
		codes    []string
	}{
		{"E16 / E17 Fehler an Lüftereinheit", "Fehler an Lüftereinheit", []string{"E16", "E17"}},
		{"Err01、Err04、Err05", "", []string{"Err01", "Err04", "Err05"}},
		{"E1，E3 或 E4", "", []string{"E1", "E3", "E4"}},
		{"E04 Fehler niedriger Druck des Kältekreislaufs", "Fehler niedriger Druck des Kältekreislaufs", []string{"E04"}},
		{"“净水Err02”、 “净水Err03”", "", []string{"Err02", "Err03"}},
		{"INIt Schutz beim ersten Start", "Schutz beim ersten Start", []string{"INIt"}},
		{"Der Ventilator läuft", "Der Ventilator läuft", nil}, // a word, not a code, starts the cell
		{"N/A", "N/A", nil},
		{"E 21", "", []string{"E 21"}}, // printed with a space
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			codes, rest := CellCodes(tt.in)
			if !slices.Equal(codes, tt.codes) || rest != tt.rest {
				t.Errorf("CellCodes(%q) = %q, %q; want %q, %q", tt.in, codes, rest, tt.codes, tt.rest)
			}
		})
	}
}

func TestTextCodes(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"屏幕出现故障代码 Err01、Err04、Err05", []string{"Err01", "Err04", "Err05"}},
		{"屏幕出现“净水Err02”、“净水Err03”", []string{"Err02", "Err03"}},
		{"If E21 appears, check the drain hose", []string{"E21"}},
		{"显示E4时请检查进水阀", []string{"E4"}},
		{"E21 – Drain fault", []string{"E21"}},
		{"Model WF-8012D has 3 modes", nil},     // a model number, not a code
		{"The filter K45 lasts a year", nil},    // a code's shape without a cue is not enough
		{"Replace part DC31-00178A first", nil}, // a part number
		{"Die Anzeige zeigt F07-E oder E.21", []string{"F07-E", "E.21"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := TextCodes(tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("TextCodes(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestQuestionCodes(t *testing.T) {
	tests := []struct {
		in   string
		want []string // the candidates, strongest first
	}{
		{"The display shows 03, what should I do?", []string{"03", "do"}},
		{"Das Display zeigt INIt, was soll ich tun?", []string{"INIt"}},
		{"显示屏显示Err01，怎么办？", []string{"Err01"}},
		{"washing machien eror code e 102 water wont drain", []string{"E102"}},
		{"how long is the warranty on 2 doors", nil}, // no cue: a number is no code
		{"净水器显示 Err 01 怎么办", []string{"Err01", "01"}}, // joined first; 01 alone only if some product has it
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var got []string
			for _, c := range QuestionCodes(tt.in) {
				got = append(got, c.Code)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("QuestionCodes(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLooksLikeCode(t *testing.T) {
	for _, s := range []string{"E102", "e-102", "03", "Eb", "INIt", "LOC", "Err01"} {
		if _, ok := LooksLikeCode(s); !ok {
			t.Errorf("LooksLikeCode(%q) = false", s)
		}
	}
	for _, s := range []string{"hello", "what", "N/A", "", "E102 E103"} {
		if c, ok := LooksLikeCode(s); ok {
			t.Errorf("LooksLikeCode(%q) = %q, true", s, c)
		}
	}
}
