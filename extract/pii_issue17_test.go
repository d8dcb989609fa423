package extract

import (
	"maps"
	"net/url"
	"strings"
	"testing"
)

// maskCase is one input of a table test of MaskPII and what it must become.
type maskCase struct {
	name  string
	in    string
	want  string
	found map[PIIKind]int
}

// runMaskCases checks each case, and that masking what came out changes nothing more.
func runMaskCases(t *testing.T, opt PIIOptions, tests []maskCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found := MaskPII(tt.in, opt)
			if got != tt.want {
				t.Errorf("MaskPII(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if !maps.Equal(found, tt.found) {
				t.Errorf("found %v, want %v", found, tt.found)
			}
			if again, found2 := MaskPII(got, opt); again != got || found2 != nil {
				t.Errorf("masking again changed %q to %q (%v)", got, again, found2)
			}
		})
	}
}

var (
	onePhone = map[PIIKind]int{PIIPhone: 1}
	oneEmail = map[PIIKind]int{PIIEmail: 1}
	oneCard  = map[PIIKind]int{PIIBankCard: 1}
)

// TestMaskPIISeparators: a number is grouped by dots, by any dash Unicode has (en, em, figure,
// minus, full-width) and written in full-width digits, as people type them on phones and in Word.
func TestMaskPIISeparators(t *testing.T) {
	runMaskCases(t, PIIOptions{}, []maskCase{
		{"mobile 3-4-4 with dots", "电话 138.0013.8000。", "电话 138.****.8000。", onePhone},
		{"mobile with dots after +86", "Tel: +86 138.0013.8000", "Tel: +86 138.****.8000", onePhone},
		{"mobile with dots after a date", "2024.11.23 138.0013.8000", "2024.11.23 138.****.8000", onePhone},
		{"landline with dots", "Tel. 010.6512.3456", "Tel. 010.****.3456", onePhone},
		{"mobile with en dashes", "手机 138–0013–8000", "手机 138–****–8000", onePhone},
		{"mobile with em dashes", "手机138—0013—8000联系", "手机138—****—8000联系", onePhone},
		{"mobile with figure dashes and minus signs", "138‒0013−8000", "138‒****−8000", onePhone},
		{"mobile with spaced en dashes", "138 – 0013 – 8000", "138 – **** – 8000", onePhone},
		{"landline with an en dash", "座机 021–6123 4567", "座机 021–**** 4567", onePhone},
		{"full-width digits and dashes", "手机：１３８－００１３－８０００", "手机：１３８－****－８０００", onePhone},
		{"full-width digits with dots", "１３８．００１３．８０００", "１３８．****．８０００", onePhone},
		{"full-width plus", "＋８６ １３８００１３８０００", "＋８６ １３８****８０００", onePhone},
	})
}

// TestMaskPIIUnicodeEmails: e-mail addresses with a full-width or small ＠, with a local part in
// Chinese or with accents, and with an internationalised domain, in Unicode or in punycode.
func TestMaskPIIUnicodeEmails(t *testing.T) {
	runMaskCases(t, PIIOptions{KeepEmailDomains: []string{"aurora.com.cn"}}, []maskCase{
		{"full-width at sign", "邮箱：alice＠example.com", "邮箱：a***＠example.com", oneEmail},
		{"full-width address", "ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ。", "ａ***＠ｅｘａｍｐｌｅ．ｃｏｍ。", oneEmail},
		{"small commercial at", "bob﹫example.org", "b***﹫example.org", oneEmail},
		{"Chinese local part", "联系 小红@example.com 或", "联系 小***@example.com 或", oneEmail},
		{"Chinese local part after a colon", "邮箱：王小红@163.com", "邮箱：王***@163.com", oneEmail},
		{"Chinese domain", "user@例子.中国", "u***@例子.中国", oneEmail},
		{"Chinese domain before Chinese text", "发到user@例子.中国联系我", "发到u***@例子.中国联系我", oneEmail},
		{"Chinese local part and domain", "小红@例子.公司。", "小***@例子.公司。", oneEmail},
		{"punycode domain", "user@xn--fsqu00a.xn--fiqs8s", "u***@xn--fsqu00a.xn--fiqs8s", oneEmail},
		{"accented local part", "Écrivez à josé.garcía@correo.es.", "Écrivez à j***@correo.es.", oneEmail},
		{"Cyrillic domain", "иван@пример.рф", "и***@пример.рф", oneEmail},
		{"label glued before an ASCII address", "邮箱bob@example.com", "邮箱b***@example.com", oneEmail},
		{"kept domain in full width", "ｓｕｐｐｏｒｔ＠ａｕｒｏｒａ．ｃｏｍ．ｃｎ", "ｓｕｐｐｏｒｔ＠ａｕｒｏｒａ．ｃｏｍ．ｃｎ", nil},
	})
}

// TestMaskPIIURLQueries: a URL keeps its scheme, host, path, keys and the values that are not
// personal; the values of personal fields (e-mail, phone, name…) and any value that is itself
// personal data are masked where they stand, percent-encoded or not, so the URL still parses.
func TestMaskPIIURLQueries(t *testing.T) {
	id := idNumber(t, "11010519491231002")
	runMaskCases(t, PIIOptions{}, []maskCase{
		{"named fields, encoded",
			"https://shop.example.com/order?id=42&email=bob%40example.com&phone=13812345678&name=%E5%BC%A0%E4%B8%89#top",
			"https://shop.example.com/order?id=42&email=b***%40example.com&phone=138****5678&name=%E5%BC%A0*#top",
			map[PIIKind]int{PIIEmail: 1, PIIPhone: 1, PIIName: 1}},
		{"named fields written raw in Chinese text",
			"回调地址 https://example.cn/cb?name=张三&mobile=138-1234-5678 已失效",
			"回调地址 https://example.cn/cb?name=张*&mobile=138-****-5678 已失效",
			map[PIIKind]int{PIIPhone: 1, PIIName: 1}},
		{"English name with a plus for the space", "www.example.com/form?full_name=John+Smith&lang=en",
			"www.example.com/form?full_name=J***+*****&lang=en", map[PIIKind]int{PIIName: 1}},
		{"phone field that is not a valid number", "https://x.example/p?tel=12345678", "https://x.example/p?tel=****5678", onePhone},
		{"phone field with +86 encoded", "https://x.example/p?phone=%2B86+138+1234+5678", "https://x.example/p?phone=%2B86+138+****+5678", onePhone},
		{"any field whose value is a mobile", "https://x.example/cb?u=13812345678&ref=abc", "https://x.example/cb?u=138****5678&ref=abc", onePhone},
		{"any field whose value is an ID number", "https://x.example/q?s=" + id, "https://x.example/q?s=" + id[:14] + "****", map[PIIKind]int{PIIIDCard: 1}},
		{"any field whose value is an e-mail", "https://example.com/u/13812345678?mail=bob@example.com", "https://example.com/u/13812345678?mail=b***@example.com", oneEmail},
		{"fragment with a query", "https://app.example.com/#/profile?phone=13812345678", "https://app.example.com/#/profile?phone=138****5678", onePhone},
		{"URL inside a query value",
			"https://a.example/login?next=https%3A%2F%2Fb.example%2Fp%3Femail%3Dbob%2540example.com&x=1",
			"https://a.example/login?next=https%3A%2F%2Fb.example%2Fp%3Femail%3Db***%2540example.com&x=1",
			oneEmail},
	})
	t.Run("still a URL", func(t *testing.T) {
		in := "https://shop.example.com/order?id=42&email=bob%40example.com&phone=13812345678&name=%E5%BC%A0%E4%B8%89&sku=DC31-00178A#top"
		got, _ := MaskPII(in, PIIOptions{})
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("masked URL %q does not parse: %v", got, err)
		}
		q := u.Query()
		if u.Host != "shop.example.com" || u.Path != "/order" || u.Fragment != "top" || q.Get("id") != "42" || q.Get("sku") != "DC31-00178A" {
			t.Errorf("masking changed what is not personal: %q", got)
		}
		if q.Get("email") != "b***@example.com" || q.Get("phone") != "138****5678" || q.Get("name") != "张*" {
			t.Errorf("masked values decode to %q, %q, %q", q.Get("email"), q.Get("phone"), q.Get("name"))
		}
	})
}

// TestMaskPIICardGroupings: card numbers of 16–19 digits passing Luhn, whole or grouped 4-4-4-4-3,
// 6-10, 6-13 or by any dash; the same shapes failing Luhn are left alone (part numbers).
func TestMaskPIICardGroupings(t *testing.T) {
	c19 := luhnNumber(t, "622202123456789012")
	c16 := luhnNumber(t, "622202123456789")
	c18 := luhnNumber(t, "62170000123456789")
	runMaskCases(t, PIIOptions{}, []maskCase{
		{"19 digits 4-4-4-4-3", "卡号 " + grouped(c19, " ", 4, 4, 4, 4, 3), "卡号 " + stars(grouped(c19, " ", 4, 4, 4, 4, 3)), oneCard},
		{"16 digits 6-10", "卡号" + grouped(c16, "-", 6, 10) + "。", "卡号" + stars(grouped(c16, "-", 6, 10)) + "。", oneCard},
		{"19 digits 6-13", "账号 " + grouped(c19, " ", 6, 13), "账号 " + stars(grouped(c19, " ", 6, 13)), oneCard},
		{"18 digits 6-12", "账号 " + grouped(c18, " ", 6, 12), "账号 " + stars(grouped(c18, " ", 6, 12)), oneCard},
		{"en dashes", "card " + grouped(c16, "–", 4, 4, 4, 4), "card " + stars(grouped(c16, "–", 4, 4, 4, 4)), oneCard},
		{"full-width digits", "卡号" + fullWidth(c16), "卡号" + fullWidth(stars(c16)), oneCard},
		{"19 digits 4-4-4-4-3 failing Luhn", "编号 " + grouped(breakLuhn(c19), " ", 4, 4, 4, 4, 3), "编号 " + grouped(breakLuhn(c19), " ", 4, 4, 4, 4, 3), nil},
		{"16 digits 6-10 failing Luhn", "零件 " + grouped(breakLuhn(c16), "-", 6, 10), "零件 " + grouped(breakLuhn(c16), "-", 6, 10), nil},
	})
}

// fullWidth writes the ASCII digits and stars of s in full width (stars stay ASCII, as MaskPII
// writes them).
func fullWidth(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r - '0' + '０'
		}
		return r
	}, s)
}

// TestMaskPIIKeepsWhatIsNotPersonal: what customer-service text is full of and must stay readable —
// part and model numbers, error codes, dates, times, versions, prices, IP addresses, quantities
// and URLs without personal data — in ASCII, full width and with the new separators.
func TestMaskPIIKeepsWhatIsNotPersonal(t *testing.T) {
	c16 := luhnNumber(t, "622202123456789")
	for _, tt := range []struct{ name, in string }{
		{"part numbers", "更换排水泵 DC31-00178A、DC97-16350C 和 DC31–00178A"},
		{"part number in full width", "ＤＣ３１－００１７８Ａ"},
		{"model numbers", "适用于 WF-8012D、WF–8012D、DW-6035 和 RF28R7351SG"},
		{"error codes", "显示 E102、E-102、F21 或 ＥＲＲ１０２"},
		{"dates", "2024-11-23、2024.11.23、2024–11–23、23.11.2024、2024年11月23日、２０２４．１１．２３"},
		{"times and ranges", "8:00–20:00，第 138–145 页，1380–1399 元"},
		{"versions", "固件 V2.3.1、v13.8001.3800、1.13.8000.1234、10.0.19045.3803、build 2024.1123.0001"},
		{"prices", "¥1299.00、13800.00 元、US$1,380,000.50、￥１３８００．００、13800138.0000"},
		{"IP addresses", "192.168.10.100 或 172.16.138.100"},
		{"dotted numbers that are not phones", "1380013.8000、13.800138000、138.00138.000"},
		{"quantities and units", "容量 13800 mAh，功率 2200W，转速 1400 rpm"},
		{"card-shaped number failing Luhn with dots", grouped(breakLuhn(c16), ".", 4, 4, 4, 4)},
		{"card-shaped number with dots", grouped(c16, ".", 4, 4, 4, 4)},
		{"URL without personal data", "https://example.com/search?q=E102&model=WF-8012D&page=2&sku=DC31-00178A&v=1.2.3"},
		{"URL with a number in its path", "https://example.com/u/13812345678 或 www.example.cn/13812345678"},
		{"product name field", "https://example.com/p?product_name=WF-8012D&filename=manual.pdf"},
		{"hotline in a URL", "https://example.com/contact?hotline=400-820-1234"},
		{"mentions", "请@小红 查看，@alice 也看下"},
		{"no domain", "user@localhost, 小红@公司"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, found := MaskPII(tt.in, PIIOptions{})
			if got != tt.in || found != nil {
				t.Errorf("MaskPII(%q) = %q, %v; want it untouched", tt.in, got, found)
			}
		})
	}
}

// TestMaskSource: in a document's source (a file path, an upload name or a URL) the words of a
// file name are joined by '_', '/' and '\', which do not hide a number or an address from masking
// as they would in prose; part and model numbers, dates and versions in file names stay.
func TestMaskSource(t *testing.T) {
	for _, tt := range []struct {
		name, in, want string
		found          map[PIIKind]int
	}{
		{"upload with a Chinese name", "upload:support/张三_13812345678_保修单.pdf", "upload:support/张三_138****5678_保修单.pdf", onePhone},
		{"upload with an English name", "upload:support/john_13812345678.pdf", "upload:support/john_138****5678.pdf", onePhone},
		{"number as a directory", "upload:default/13812345678/invoice.pdf", "upload:default/138****5678/invoice.pdf", onePhone},
		{"Windows path", `C:\Users\li\Desktop\13812345678_发票.pdf`, `C:\Users\li\Desktop\138****5678_发票.pdf`, onePhone},
		{"e-mail address in a file name", "upload:default/alice.wang@example.com_warranty.pdf", "upload:default/a***@example.com_warranty.pdf", oneEmail},
		{"full-width digits", "upload:hr/王五_１３８１２３４５６７８.docx", "upload:hr/王五_１３８****５６７８.docx", onePhone},
		{"URL with personal data in its query", "https://help.example.com/ticket?email=bob@example.com&id=7", "https://help.example.com/ticket?email=b***@example.com&id=7", oneEmail},
		{"URL path stays", "https://help.example.com/u_13812345678/faq.html", "https://help.example.com/u_13812345678/faq.html", nil},
		{"model and part numbers", "upload:support/WF-8012D_DC31-00178A_manual_v2.3.1.pdf", "upload:support/WF-8012D_DC31-00178A_manual_v2.3.1.pdf", nil},
		{"dates and codes", "manuals/2024-11-23_E102_20241123.pdf", "manuals/2024-11-23_E102_20241123.pdf", nil},
		{"fixture", "faq/faq-general-zh.html", "faq/faq-general-zh.html", nil},
		{"order number", "upload:sales/订单_202611230001234567.xlsx", "upload:sales/订单_202611230001234567.xlsx", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, found := MaskSource(tt.in, PIIOptions{})
			if got != tt.want || !maps.Equal(found, tt.found) {
				t.Errorf("MaskSource(%q) = %q, %v; want %q, %v", tt.in, got, found, tt.want, tt.found)
			}
			if again, found2 := MaskSource(got, PIIOptions{}); again != got || found2 != nil {
				t.Errorf("masking again changed %q to %q (%v)", got, again, found2)
			}
		})
	}
}

// TestMaskPIIURLQueriesOptions: the kinds chosen and the e-mail domains kept apply to URL queries
// as to text.
func TestMaskPIIURLQueriesOptions(t *testing.T) {
	const in = "https://x.example/p?email=support%40aurora.com.cn&cc=li%40example.com&name=张三&phone=13812345678"
	for _, tt := range []struct {
		name string
		opt  PIIOptions
		want string
	}{
		{"kept domain", PIIOptions{KeepEmailDomains: []string{"aurora.com.cn"}},
			"https://x.example/p?email=support%40aurora.com.cn&cc=l***%40example.com&name=张*&phone=138****5678"},
		{"phones only", PIIOptions{Kinds: []PIIKind{PIIPhone}},
			"https://x.example/p?email=support%40aurora.com.cn&cc=li%40example.com&name=张三&phone=138****5678"},
		{"names only", PIIOptions{Kinds: []PIIKind{PIIName}},
			"https://x.example/p?email=support%40aurora.com.cn&cc=li%40example.com&name=张*&phone=13812345678"},
		{"disabled", PIIOptions{Disabled: true}, in},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got, _ := MaskPII(in, tt.opt); got != tt.want {
				t.Errorf("MaskPII\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
