package extract

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// urlRE finds the ASCII start of URLs; findURLs extends them over the letters of a query.
var urlRE = regexp.MustCompile(`(?i)(?:https?|ftp)://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+|\bwww\.[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+`)

// isURLByte reports whether c is one of the ASCII characters urlRE takes into a URL.
func isURLByte(c byte) bool {
	return isASCIIAlnum(rune(c)) || strings.IndexByte("-._~:/?#[]@!$&'()*+,;=%", c) >= 0
}

// findURLs returns the spans of the URLs in t. Past a '?' or '#', a URL goes on over letters and
// digits of any script, so a query written raw (?name=张三&city=上海) is part of it.
func findURLs(t string) []span {
	var out []span
	for _, m := range urlRE.FindAllStringIndex(t, -1) {
		start, end := m[0], m[1]
		if len(out) > 0 && start < out[len(out)-1].end {
			continue
		}
		if strings.ContainsAny(t[start:end], "?#") {
			for end < len(t) {
				if c := t[end]; c < utf8.RuneSelf {
					if !isURLByte(c) {
						break
					}
					end++
					continue
				}
				r, n := utf8.DecodeRuneInString(t[end:])
				if !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.IsMark(r) {
					break
				}
				end += n
			}
		}
		out = append(out, span{start, end})
	}
	return out
}

// maskQuery returns the replacements that mask the personal data in the query of the URL at u in
// t, and in a query in its fragment (#/page?phone=…, #email=…).
func (f *finder) maskQuery(t string, u span, depth int) []replacement {
	raw := t[u.start:u.end]
	var regions []span
	q := strings.IndexByte(raw, '?')
	h := strings.IndexByte(raw, '#')
	switch {
	case q >= 0 && (h < 0 || q < h):
		end := len(raw)
		if h >= 0 {
			end = h
		}
		regions = append(regions, span{q + 1, end})
	}
	if h >= 0 {
		frag := raw[h+1:]
		if i := strings.IndexByte(frag, '?'); i >= 0 {
			regions = append(regions, span{h + 1 + i + 1, len(raw)})
		} else if strings.Contains(frag, "=") {
			regions = append(regions, span{h + 1, len(raw)})
		}
	}
	var out []replacement
	for _, r := range regions {
		for pos := r.start; pos < r.end; {
			end := pos + strings.IndexAny(raw[pos:r.end], "&;")
			if end < pos {
				end = r.end
			}
			pair := raw[pos:end]
			key, vstart := "", pos
			if eq := strings.IndexByte(pair, '='); eq >= 0 {
				key, vstart = pair[:eq], pos+eq+1
			}
			if vstart < end {
				v := decodeQuery(raw[vstart:end])
				for _, rep := range v.back(f.maskValue(fieldKind(decodeQuery(key).s), v.s, depth+1)) {
					rep.start += u.start + vstart
					rep.end += u.start + vstart
					out = append(out, rep)
				}
			}
			pos = end + 1
		}
	}
	return out
}

// decodeQuery decodes percent-escapes and '+' in a query's key or value, keeping where each byte
// came from. Escapes that are not two hex digits stay as written.
func decodeQuery(raw string) mapped {
	if !strings.ContainsAny(raw, "%+") {
		return mapped{s: raw}
	}
	b := make([]byte, 0, len(raw))
	src := make([]span32, 0, len(raw))
	for i := 0; i < len(raw); {
		c, n := raw[i], 1
		switch {
		case c == '+':
			c = ' '
		case c == '%' && i+2 < len(raw) && isHex(raw[i+1]) && isHex(raw[i+2]):
			c, n = unhex(raw[i+1])<<4|unhex(raw[i+2]), 3
		}
		b = append(b, c)
		src = append(src, span32{int32(i), int32(i + n)})
		i += n
	}
	return mapped{s: string(b), src: src}
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// maskValue returns the replacements that mask a decoded query value of a field of the given kind
// ("" for a field not named for personal data): what MaskPII finds in it, or, in a field named
// for personal data, the value itself.
func (f *finder) maskValue(kind PIIKind, v string, depth int) []replacement {
	if depth > maxDepth || strings.TrimSpace(v) == "" {
		return nil
	}
	if mayHoldPII(v) {
		if reps := f.mask(v, depth, false); len(reps) > 0 {
			return reps
		}
	}
	if kind == "" || !f.opt.masks(kind) || strings.Contains(v, "*") {
		return nil
	}
	n := normalize(v)
	var reps []replacement
	switch kind {
	case PIIPhone, PIIIDCard, PIIBankCard:
		reps = maskDigits(n.s)
	case PIIEmail:
		if at := strings.LastIndexByte(n.s, '@'); at > 0 {
			if f.opt.keepsDomain(n.s[at+1:]) {
				return nil
			}
			_, first := utf8.DecodeRuneInString(n.s)
			reps = []replacement{{first, at, "***"}}
			break
		}
		reps = maskAfterFirst(n.s)
	default:
		reps = maskAfterFirst(n.s)
	}
	if len(reps) == 0 {
		return nil
	}
	f.count(kind)
	return n.back(reps)
}

// maskDigits masks the digits and a check character X of s but the last four.
func maskDigits(s string) []replacement {
	var at []int
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' || s[i] == 'X' || s[i] == 'x' {
			at = append(at, i)
		}
	}
	if len(at) > 4 {
		at = at[:len(at)-4]
	} else if len(at) > 1 {
		at = at[:len(at)-1]
	}
	var out []replacement
	for _, i := range at {
		out = append(out, replacement{i, i + 1, "*"})
	}
	return out
}

// maskAfterFirst masks every letter and digit of s after its first: 张三 → 张*, John Smith → J*** *****.
func maskAfterFirst(s string) []replacement {
	var out []replacement
	first := true
	for i, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsNumber(r) {
			continue
		}
		if first {
			first = false
			continue
		}
		out = append(out, replacement{i, i + utf8.RuneLen(r), "*"})
	}
	return out
}

// piiFields names the query fields whose values are personal data, by kind. A field's name is
// compared lower-cased, without '_', '-', '.' or spaces and without trailing digits (user_email2 →
// useremail).
var piiFields = map[PIIKind][]string{
	PIIEmail: {"email", "mail", "emailaddress", "mailaddress", "youxiang", "邮箱", "电子邮箱", "电子邮件"},
	PIIPhone: {"phone", "phoneno", "phonenumber", "mobile", "mobileno", "mobilenumber", "mobilephone", "tel",
		"telephone", "telno", "cell", "cellphone", "msisdn", "shouji", "shoujihao", "sjh", "dianhua", "手机",
		"手机号", "手机号码", "电话", "电话号码", "联系电话", "联系方式"},
	PIIName: {"name", "fullname", "realname", "firstname", "lastname", "middlename", "givenname", "familyname",
		"surname", "username", "customername", "contactname", "contact", "nickname", "xingming", "xm",
		"姓名", "名字", "真实姓名", "联系人", "收货人", "收件人", "客户姓名"},
	PIIAddress: {"address", "addr", "homeaddress", "shippingaddress", "deliveryaddress", "street",
		"streetaddress", "dizhi", "地址", "住址", "收货地址", "家庭住址", "详细地址"},
	PIIIDCard:   {"idcard", "idcardno", "idno", "idnumber", "identitycard", "sfz", "sfzh", "shenfenzheng", "身份证", "身份证号", "证件号", "证件号码"},
	PIIBankCard: {"bankcard", "bankcardno", "cardno", "cardnumber", "bankaccount", "银行卡", "银行卡号", "卡号"},
}

// piiFieldSuffixes are endings that make a field personal whatever precedes them
// (contact_phone, customer_email, shipping_address); "name" is not one, since file_name and
// product_name are not personal.
var piiFieldSuffixes = map[string]PIIKind{"email": PIIEmail, "phone": PIIPhone, "mobile": PIIPhone, "address": PIIAddress, "idcard": PIIIDCard}

// fieldKind returns the kind of personal data a query field of this name holds, or "".
func fieldKind(name string) PIIKind {
	key := strings.Map(func(r rune) rune {
		switch {
		case r == '_' || r == '-' || r == '.' || unicode.IsSpace(r):
			return -1
		}
		return unicode.ToLower(r)
	}, norm.NFKC.String(name))
	key = strings.TrimRight(key, "0123456789")
	if key == "" {
		return ""
	}
	for k, names := range piiFields {
		for _, n := range names {
			if key == n {
				return k
			}
		}
	}
	for suffix, k := range piiFieldSuffixes {
		if strings.HasSuffix(key, suffix) {
			return k
		}
	}
	return ""
}
