package extract

import (
	"slices"
	"testing"
)

func TestErrorCodes(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"plain", "The display shows E102.", []string{"E102"}},
		{"dash", "error code E-102 appears", []string{"E102"}},
		{"space lower", "my washer says e 102", []string{"E102"}},
		{"dishwasher", "洗碗机显示F21", []string{"F21"}},
		{"chinese label", "错误代码 E102，请清理排水泵", []string{"E102"}},
		{"chinese label no space", "故障码E1是什么意思", []string{"E1"}},
		{"full width after normalising", Normalize("显示Ｅ１０２"), []string{"E102"}},
		{"two codes", "E1/E3 都可能出现", []string{"E1", "E3"}},
		{"list", "codes F1, F2 and F21.", []string{"F1", "F2", "F21"}},
		{"duplicates once", "E102 … again E102", []string{"E102"}},
		{"not in a model", "型号 WF-8012D 的洗衣机", nil},
		{"not in a part number", "配件 DC31-00178A 排水泵", nil},
		{"not in a word", "the size10 bag and office 365", nil},
		{"too many digits", "E1024 is a serial, not a code", nil},
		{"not a version number", "firmware 1.2, E5.3 beta", nil},
		{"at sentence end", "It showed C0.", []string{"C0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ErrorCodes(tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("ErrorCodes(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestPartNumbersAndModels(t *testing.T) {
	tests := []struct {
		in            string
		parts, models []string
	}{
		{"更换排水泵 DC31-00178A（适用于 WF-8012D）", []string{"DC31-00178A"}, []string{"WF-8012D"}},
		{"Parts DD82-01135B and WH47-00312C fit dw-6035 and WH-5020.", []string{"DD82-01135B", "WH47-00312C"}, []string{"DW-6035", "WH-5020"}},
		{"warehouse WH-SH01 holds 12", nil, nil},
		{"no part here: DC31", nil, nil},
		{"文件编号:AUR-CS-RP-2024，适用于WF-8012D、DW-6035", nil, []string{"WF-8012D", "DW-6035"}},
		{"WF-8012D/DW-6035", nil, []string{"WF-8012D", "DW-6035"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := PartNumbers(tt.in); !slices.Equal(got, tt.parts) {
				t.Errorf("PartNumbers = %q, want %q", got, tt.parts)
			}
			if got := ProductModels(tt.in); !slices.Equal(got, tt.models) {
				t.Errorf("ProductModels = %q, want %q", got, tt.models)
			}
		})
	}
}

func TestJoinCodesAndCanonical(t *testing.T) {
	if got := JoinCodes("error E-102 and f 21, model WF-8012D"); got != "error E102 and F21, model WF-8012D" {
		t.Errorf("JoinCodes = %q", got)
	}
	for in, want := range map[string]string{"E102": "E102", "e-102": "E102", "Ｆ２１": "F21", "E102 E103": "", "hello": ""} {
		if got := CanonicalCode(in); got != want {
			t.Errorf("CanonicalCode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDetectLanguage(t *testing.T) {
	for in, want := range map[string]string{
		"我的洗衣机显示E102怎么办":                  "zh",
		"My washer shows E102, what now?": "en",
		"WF-8012D 排水":                     "zh",
		"":                                "en",
	} {
		if got := DetectLanguage(in); got != want {
			t.Errorf("DetectLanguage(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFirmware(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"主控板固件 V2.1.0 之前的版本在电压波动时易误报，V2.1.0 起已修复", "2.1.0"},
		{"固件 3.2 版本已修复", "3.2"},
		{"Firmware before V2.1.0 can raise it falsely on voltage dips; fixed in V2.1.0.", "2.1.0"},
		{"fixed in firmware 1.10", "1.10"},
		{"电压波动；机内受潮", ""},
		{"version 2.1.0 of the manual", ""},
	} {
		if got := FixedInFirmware(tc.in); got != tc.want {
			t.Errorf("FixedInFirmware(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		a, b string
		want int
	}{{"1.2.0", "2.1.0", -1}, {"V2.10", "2.9", 1}, {"2.1", "2.1.0", 0}, {"v3", "2.99.99", 1}} {
		if got := CompareVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestRepairMojibake(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a friend\u00e2\u0080\u0099s phone", "a friend\u2019s phone"},
		{"\u00e2\u0080\u009cGalaxy Buds\u00e2\u0080\u009d", "\u201cGalaxy Buds\u201d"},
		{"caf\u00e9 cr\u00e8me", "caf\u00e9 cr\u00e8me"},           // accented letters stay
		{"\u00c3\u00a9t\u00c3\u00a9", "\u00c3\u00a9t\u00c3\u00a9"}, // no C1 control: could be real text, left alone
		{"洗衣机 E102", "洗衣机 E102"},
	} {
		if got := RepairMojibake(tc.in); got != tc.want {
			t.Errorf("RepairMojibake(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
