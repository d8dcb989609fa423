package extract

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// idNumber returns first17 with the check character of ISO 7064 MOD 11-2 appended, computed from
// the standard's definition rather than the code under test: the check character c makes
// Σ aᵢ·2^(18−i) + c ≡ 1 (mod 11), and a value of 10 is written X.
func idNumber(tb testing.TB, first17 string) string {
	tb.Helper()
	if len(first17) != 17 {
		tb.Fatalf("idNumber(%q): need 17 digits", first17)
	}
	sum := 0
	for i := 0; i < 17; i++ {
		w := 1
		for range 17 - i {
			w = w * 2 % 11
		}
		sum += int(first17[i]-'0') * w
	}
	c := ((1-sum)%11 + 11) % 11
	if c == 10 {
		return first17 + "X"
	}
	return first17 + strconv.Itoa(c)
}

// idNumberEndingInX returns a valid ID number for the region and birth date of first14 whose check
// character is X.
func idNumberEndingInX(tb testing.TB, first14 string) string {
	tb.Helper()
	for seq := 0; seq < 1000; seq++ {
		if id := idNumber(tb, first14+pad3(seq)); strings.HasSuffix(id, "X") {
			return id
		}
	}
	tb.Fatalf("no ID number for %s ends in X", first14)
	return ""
}

func pad3(n int) string { return strconv.Itoa(1000 + n)[1:] }

// wrongCheck returns id with a check character that does not agree with the rest.
func wrongCheck(tb testing.TB, id string) string {
	tb.Helper()
	last := id[17]
	if last == 'X' {
		return id[:17] + "0"
	}
	return id[:17] + strconv.Itoa((int(last-'0')+1)%10)
}

// luhnNumber returns prefix with the Luhn check digit appended.
func luhnNumber(tb testing.TB, prefix string) string {
	tb.Helper()
	sum := 0
	for i := range len(prefix) {
		d := int(prefix[len(prefix)-1-i] - '0')
		if i%2 == 0 { // doubled: the check digit will take position 0 from the right
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return prefix + strconv.Itoa((10-sum%10)%10)
}

// breakLuhn changes the last digit so the Luhn check fails.
func breakLuhn(s string) string {
	return s[:len(s)-1] + strconv.Itoa((int(s[len(s)-1]-'0')+1)%10)
}

// grouped writes digits in groups of the given sizes joined by sep.
func grouped(digits, sep string, sizes ...int) string {
	var parts []string
	for _, n := range sizes {
		parts = append(parts, digits[:n])
		digits = digits[n:]
	}
	return strings.Join(parts, sep)
}

// stars masks all but the last four digits of s, keeping separators.
func stars(s string) string {
	b := []byte(s)
	seen := 0
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] >= '0' && b[i] <= '9' {
			if seen++; seen > 4 {
				b[i] = '*'
			}
		}
	}
	return string(b)
}

func TestMaskPIIHits(t *testing.T) {
	id := idNumber(t, "11010519491231002")
	idX := idNumberEndingInX(t, "44030619880808")
	idOld := idNumber(t, "51010719000101123")
	unionPay := luhnNumber(t, "622202123456789012") // 19 digits
	unionPay16 := luhnNumber(t, "621700001234567")
	visa := luhnNumber(t, "411111111111111")
	master := luhnNumber(t, "550000555500005")
	amex := luhnNumber(t, "37828224631000")
	keep := []string{"aurora.com.cn"}
	tests := []struct {
		name  string
		in    string
		want  string
		found map[PIIKind]int
	}{
		{"mobile in Chinese without spaces", "电话13812345678联系", "电话138****5678联系", map[PIIKind]int{PIIPhone: 1}},
		{"mobile 3-4-4 with spaces", "手机：139 1234 5678。", "手机：139 **** 5678。", map[PIIKind]int{PIIPhone: 1}},
		{"mobile with +86 and dashes", "Call +86 138-1234-5678 today.", "Call +86 138-****-5678 today.", map[PIIKind]int{PIIPhone: 1}},
		{"mobile with 0086", "国际拨打 0086 15912345678", "国际拨打 0086 159****5678", map[PIIKind]int{PIIPhone: 1}},
		{"mobile with +86 written whole", "WhatsApp: +8618612345678", "WhatsApp: +86186****5678", map[PIIKind]int{PIIPhone: 1}},
		{"mobile with (+86)", "联系(+86) 177 0000 1234", "联系(+86) 177 **** 1234", map[PIIKind]int{PIIPhone: 1}},
		{"mobile in full-width digits", "手机１３８１２３４５６７８", "手机１３８****５６７８", map[PIIKind]int{PIIPhone: 1}},
		{"mobile after an unrelated count", "共 2 台，联系 138 1234 5678", "共 2 台，联系 138 **** 5678", map[PIIKind]int{PIIPhone: 1}},
		{"mobile after a date", "2024-11-23 13812345678", "2024-11-23 138****5678", map[PIIKind]int{PIIPhone: 1}},
		{"Beijing landline", "座机 010-12345678", "座机 010-****5678", map[PIIKind]int{PIIPhone: 1}},
		{"Shanghai landline in parentheses", "Phone (021) 6123 4567 or", "Phone (021) **** 4567 or", map[PIIKind]int{PIIPhone: 1}},
		{"seven-digit landline", "杭州0571-8765432转分机", "杭州0571-***5432转分机", map[PIIKind]int{PIIPhone: 1}},
		{"landline written whole", "深圳075523456789", "深圳0755****6789", map[PIIKind]int{PIIPhone: 1}},
		{"landline with +86", "Tel. +86 10 6512 3456", "Tel. +86 10 **** 3456", map[PIIKind]int{PIIPhone: 1}},
		{"e-mail in English", "Write to alice.wang@example.com.", "Write to a***@example.com.", map[PIIKind]int{PIIEmail: 1}},
		{"e-mail in Chinese", "邮箱bob_li+cs@mail.example.cn联系我", "邮箱b***@mail.example.cn联系我", map[PIIKind]int{PIIEmail: 1}},
		{"e-mail of a mobile number", "QQ邮箱13812345678@qq.com", "QQ邮箱1***@qq.com", map[PIIKind]int{PIIEmail: 1}},
		{"kept domain beside a masked one", "support@aurora.com.cn 转 zhang.san@gmail.com", "support@aurora.com.cn 转 z***@gmail.com", map[PIIKind]int{PIIEmail: 1}},
		{"ID number", "身份证号" + id + "，", "身份证号" + id[:14] + "****，", map[PIIKind]int{PIIIDCard: 1}},
		{"ID number ending in X", "ID: " + idX + ".", "ID: " + idX[:14] + "****.", map[PIIKind]int{PIIIDCard: 1}},
		{"ID number ending in lower-case x", "证件" + strings.ToLower(idX) + "号", "证件" + idX[:14] + "****号", map[PIIKind]int{PIIIDCard: 1}},
		{"ID number born in 1900", "身份证" + idOld, "身份证" + idOld[:14] + "****", map[PIIKind]int{PIIIDCard: 1}},
		{"ID number grouped 6-8-4", "身份证 " + grouped(id, " ", 6, 8, 4), "身份证 " + grouped(id, " ", 6, 8, 4)[:16] + "****", map[PIIKind]int{PIIIDCard: 1}},
		{"UnionPay 19 digits whole", "银行卡号" + unionPay + "。", "银行卡号" + stars(unionPay) + "。", map[PIIKind]int{PIIBankCard: 1}},
		{"UnionPay grouped by spaces", "卡号 " + grouped(unionPay16, " ", 4, 4, 4, 4), "卡号 **** **** **** " + unionPay16[12:], map[PIIKind]int{PIIBankCard: 1}},
		{"Visa grouped by dashes", "card " + grouped(visa, "-", 4, 4, 4, 4) + " expires", "card ****-****-****-" + visa[12:] + " expires", map[PIIKind]int{PIIBankCard: 1}},
		{"Mastercard whole", "Paid with " + master, "Paid with " + stars(master), map[PIIKind]int{PIIBankCard: 1}},
		{"Amex 4-6-5", "Amex " + grouped(amex, " ", 4, 6, 5), "Amex " + stars(grouped(amex, " ", 4, 6, 5)), map[PIIKind]int{PIIBankCard: 1}},
		{"several kinds at once", "王先生 13912345678，邮箱 w@example.org，身份证" + id,
			"王先生 139****5678，邮箱 w***@example.org，身份证" + id[:14] + "****",
			map[PIIKind]int{PIIPhone: 1, PIIEmail: 1, PIIIDCard: 1}},
		{"two mobiles", "13812345678/13987654321", "138****5678/139****4321", map[PIIKind]int{PIIPhone: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found := MaskPII(tt.in, PIIOptions{KeepEmailDomains: keep})
			if got != tt.want {
				t.Errorf("MaskPII(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if !maps.Equal(found, tt.found) {
				t.Errorf("found %v, want %v", found, tt.found)
			}
			// Masking is idempotent: masked text has nothing left to find.
			again, found2 := MaskPII(got, PIIOptions{KeepEmailDomains: keep})
			if again != got || found2 != nil {
				t.Errorf("masking again changed %q to %q (%v)", got, again, found2)
			}
		})
	}
}

func TestMaskPIINonHits(t *testing.T) {
	id := idNumber(t, "11010519491231002")
	visa := luhnNumber(t, "411111111111111")
	tests := []struct{ name, in string }{
		{"service hotline 400", "客服热线 400-820-1234（每日 8:00–20:00）"},
		{"service hotline 400 without dashes", "拨打4008201234预约"},
		{"service hotline 800", "toll free 800-820-1234"},
		{"service hotline after +86", "From abroad: +86 400 820 1234"},
		{"short service numbers", "95588、12315、10086 和 114"},
		{"order number of 18 digits", "订单号202611230001234567"},
		{"order number of 13 digits starting like a mobile", "订单号1381234567890已发货"},
		{"mobile inside a longer digit run", "流水号813812345678"},
		{"eleven digits not a mobile", "编号 12345678901"},
		{"18 digits failing the ID check", "身份证号" + wrongCheck(t, id)},
		{"ID with an impossible birth date", "证件 " + idNumber(t, "11010519490230002")},
		{"ID born in the future", "证件 " + idNumber(t, "11010520990101002")},
		{"ID with an unknown province", "证件 " + idNumber(t, "99010519491231002")},
		{"card number failing Luhn", "卡号 " + breakLuhn(visa)},
		{"Luhn-valid number of no issuer", "运单号 " + luhnNumber(t, "901234567890123")},
		{"IMEI, Luhn-valid, 15 digits", "IMEI " + luhnNumber(t, "35693803564380")},
		{"part number", "更换排水泵 DC31-00178A"},
		{"model number", "适用于 WF-8012D 和 DW-6035"},
		{"error code", "显示 E102 或 F21"},
		{"serial glued to letters", "SN13812345678A"},
		{"prices", "¥1299.00，共 13800 元，US$1,380,000.50"},
		{"dates and times", "2024-11-23 10:30:15，20241123，2024年11月23日"},
		{"version numbers", "固件 V2.3.1 build 20241123, version 10.0.13812345678"},
		{"IP addresses", "192.168.100.200 and 10.13.81.234"},
		{"URLs with numbers", "https://example.com/u/13812345678?page=2 或 www.example.cn/13812345678"},
		{"path with a number", "files/13812345678/manual.pdf"},
		{"kept e-mail domain", "support@aurora.com.cn"},
		{"kept e-mail subdomain, any case", "Service@HK.Aurora.com.cn"},
		{"landline area code glued to text", "AB010-12345678"},
		{"not an e-mail", "user@localhost, @alice, a@b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found := MaskPII(tt.in, PIIOptions{KeepEmailDomains: []string{"@aurora.com.cn"}})
			if got != tt.in || found != nil {
				t.Errorf("MaskPII(%q) = %q, %v; want it untouched", tt.in, got, found)
			}
		})
	}
}

func TestMaskPIIOptions(t *testing.T) {
	id := idNumber(t, "11010519491231002")
	in := "13812345678 a@example.com " + id
	tests := []struct {
		name  string
		opt   PIIOptions
		want  string
		found map[PIIKind]int
	}{
		{"all kinds", PIIOptions{}, "138****5678 a***@example.com " + id[:14] + "****", map[PIIKind]int{PIIPhone: 1, PIIEmail: 1, PIIIDCard: 1}},
		{"disabled", PIIOptions{Disabled: true, Kinds: []PIIKind{PIIPhone}}, in, nil},
		{"phones only", PIIOptions{Kinds: []PIIKind{PIIPhone}}, "138****5678 a@example.com " + id, map[PIIKind]int{PIIPhone: 1}},
		{"e-mail and ID", PIIOptions{Kinds: []PIIKind{PIIEmail, PIIIDCard}}, "13812345678 a***@example.com " + id[:14] + "****", map[PIIKind]int{PIIEmail: 1, PIIIDCard: 1}},
		// An ID number is not read as a card or a phone when ID masking is off.
		{"cards only", PIIOptions{Kinds: []PIIKind{PIIBankCard}}, in, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found := MaskPII(in, tt.opt)
			if got != tt.want || !maps.Equal(found, tt.found) {
				t.Errorf("MaskPII = %q, %v; want %q, %v", got, found, tt.want, tt.found)
			}
		})
	}
}

func TestParsePIIKinds(t *testing.T) {
	tests := []struct {
		in      string
		want    []PIIKind
		wantErr bool
	}{
		{"", nil, false},
		{"phone", []PIIKind{PIIPhone}, false},
		{" Email , id_card,phone,email", []PIIKind{PIIEmail, PIIIDCard, PIIPhone}, false},
		{"bank_card,passport", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePIIKinds(tt.in)
			if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
				t.Errorf("ParsePIIKinds(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestIDCardCheckAndLuhnAgreeWithTheStandards(t *testing.T) {
	for _, first17 := range []string{"11010519491231002", "44030619880808123", "65010220001229987", "81000019991231000"} {
		want := idNumber(t, first17)
		if got := first17 + string(IDCardCheck(first17)); got != want {
			t.Errorf("IDCardCheck(%s) gives %s, the standard %s", first17, got, want)
		}
	}
	for _, prefix := range []string{"411111111111111", "62220212345678901", "3782822463100", "12345"} {
		n := luhnNumber(t, prefix)
		if !Luhn(n) || Luhn(breakLuhn(n)) {
			t.Errorf("Luhn(%s) = %v, Luhn(%s) = %v", n, Luhn(n), breakLuhn(n), Luhn(breakLuhn(n)))
		}
	}
}

// FuzzMaskPII checks that masking never fails on odd input, keeps valid UTF-8 valid, changes the
// text exactly when it reports a find, and that masked text has nothing left to find.
func FuzzMaskPII(f *testing.F) {
	for _, s := range []string{
		"电话13812345678联系", "+86 138-1234-5678", "(021) 6123 4567", "a@b.com", "400-820-1234",
		"11010519491231002X", "6222 0212 3456 7890 123", "https://x.cn/1?a=b@c.com", "１３８１２３４５６７８",
		"(+86) 1", "+", "1x", "0086", "86 ",
		"138.0013.8000", "138–0013–8000", "小红＠例子．中国", "user@例子.中国联系", "https://x.cn/?name=张三&e=a%40b.cn#/p?tel=1",
		"https://a/?n=%E5&m=%", "www.x.cn/?next=https%3A%2F%2Fy.cn%2F%3Fphone%3D13812345678", "ﬀ@x.com", "⑴①13812345678",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, found := MaskPII(s, PIIOptions{})
		if (got != s) != (found != nil) {
			t.Fatalf("MaskPII(%q) = %q but found %v", s, got, found)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("MaskPII(%q) = %q is not valid UTF-8", s, got)
		}
		if again, f2 := MaskPII(got, PIIOptions{}); again != got {
			t.Fatalf("MaskPII(%q) = %q, masked again %q (%v)", s, got, again, f2)
		}
		got, found = MaskSource(s, PIIOptions{})
		if (got != s) != (found != nil) || utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("MaskSource(%q) = %q, %v", s, got, found)
		}
		if again, f2 := MaskSource(got, PIIOptions{}); again != got {
			t.Fatalf("MaskSource(%q) = %q, masked again %q (%v)", s, got, again, f2)
		}
	})
}
