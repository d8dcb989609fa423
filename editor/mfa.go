package editor

import (
	"crypto/subtle"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/fixgraph/fixgraph"
	"github.com/fixgraph/fixgraph/auth"
)

// Two-step sign-in in the editor. After a right password, an account with MFA is sent to the
// code page and one whose role requires MFA and has none to the set-up page; until the second
// step is done the browser holds only a half-done sign-in (a cookie for PendingTTL), which opens
// those pages and nothing else. Signed-in editors set MFA up at /editor/mfa; admins see and
// unlock accounts and choose the roles that require MFA at /editor/admin/users.

// pendingCookie holds the token of a half-done sign-in.
const pendingCookie = "fixgraph_mfa"

func (h *Handler) mfaRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /editor/mfa/code", h.codePage)
	m.HandleFunc("POST /editor/mfa/code", h.code)
	m.HandleFunc("GET /editor/mfa", h.mfaPage)
	m.HandleFunc("POST /editor/mfa/enrol", h.mfaEnrol)
	m.HandleFunc("POST /editor/mfa/confirm", h.mfaConfirm)
	m.Handle("GET /editor/admin/users", h.session(h.adminUsers))
	m.Handle("POST /editor/admin/users", h.session(h.adminUsersPost))
}

func (h *Handler) setPending(w http.ResponseWriter, token string) {
	c := &http.Cookie{Name: pendingCookie, Value: token, Path: Prefix, HttpOnly: true, Secure: h.Secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(auth.PendingTTL.Seconds())}
	if token == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

func pendingToken(r *http.Request) string {
	if c, err := r.Cookie(pendingCookie); err == nil {
		return c.Value
	}
	return ""
}

// auditAttempt writes a failed sign-in step to the audit log.
func (h *Handler) auditAttempt(r *http.Request, a *auth.Attempt, err error) {
	auth.AuditAttempt(a, err, func(action, target string, d map[string]string) {
		d["via"] = "editor"
		h.Service.audit(fixgraph.WithPrincipal(r.Context(), fixgraph.Anonymous), action, target, d)
	})
}

// secondStep sends a browser whose password was right to the step its account still needs.
func (h *Handler) secondStep(w http.ResponseWriter, r *http.Request, a *auth.Attempt, next string) {
	h.setPending(w, a.Pending)
	to := "/editor/mfa/code"
	if a.Challenge == auth.ChallengeEnrol {
		to = "/editor/mfa"
	}
	http.Redirect(w, r, to+"?next="+url.QueryEscape(next), http.StatusSeeOther)
}

// signedIn gives the browser the session of a finished sign-in.
func (h *Handler) signedIn(w http.ResponseWriter, r *http.Request, a *auth.Attempt) {
	d := map[string]string{"via": "editor", "method": a.Method}
	h.Service.audit(fixgraph.WithPrincipal(r.Context(), a.Principal), "signin", a.Principal.ID, d)
	h.setPending(w, "")
	auth.SetSessionCookie(w, a.Token, h.Secure)
}

func (h *Handler) codePage(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if _, c, _, err := h.Accounts.Pending(pendingToken(r)); err != nil || c != auth.ChallengeCode {
		http.Redirect(w, r, "/editor/signin?next="+url.QueryEscape(next), http.StatusSeeOther)
		return
	}
	h.render(w, http.StatusOK, "mfacode", &page{Lang: lang(r), Title: translate(lang(r), "Two-step sign-in"), Data: next})
}

func (h *Handler) code(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	next := safeNext(r.PostFormValue("next"))
	pg := &page{Lang: lang(r), Title: translate(lang(r), "Two-step sign-in"), Data: next}
	token := pendingToken(r)
	user, _, _, err := h.Accounts.Pending(token)
	if err != nil {
		h.backToSignIn(w, pg, err)
		return
	}
	done, err := auth.AllowSignIn(r, user)
	if err != nil {
		w.Header().Set("Retry-After", "60")
		pg.Error = fixgraph.MessageOf(err)
		h.render(w, http.StatusTooManyRequests, "mfacode", pg)
		return
	}
	a, err := h.Accounts.SecondFactor(token, r.PostFormValue("code"))
	done(err == nil)
	if err != nil {
		h.auditAttempt(r, a, err)
		if a.Locked {
			err = auth.LockedError(a.LockedUntil)
		}
		if a.Locked || a.Refused || fixgraph.CodeOf(err) != fixgraph.EUNAUTHORIZED || errorIsGone(err) {
			h.setPending(w, "")
			h.backToSignIn(w, pg, err)
			return
		}
		pg.Error = translate(pg.Lang, fixgraph.MessageOf(err))
		h.render(w, http.StatusUnauthorized, "mfacode", pg)
		return
	}
	h.signedIn(w, r, a)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// errorIsGone reports whether err says the half-done sign-in is no more.
func errorIsGone(err error) bool {
	return strings.Contains(fixgraph.MessageOf(err), "sign in again")
}

// backToSignIn shows the sign-in form with err's message, for a sign-in that must start over.
func (h *Handler) backToSignIn(w http.ResponseWriter, pg *page, err error) {
	pg.Error = translate(pg.Lang, fixgraph.MessageOf(err))
	pg.Title = translate(pg.Lang, "Sign in")
	h.render(w, fixgraph.HTTPStatus(fixgraph.CodeOf(err)), "signin", pg)
}

// mfaActor is who the MFA pages act for: a signed-in account, or the account of a half-done
// sign-in that must enrol before it gets a session.
type mfaActor struct {
	name    string
	p       *fixgraph.Principal // nil for a half-done sign-in
	csrf    string
	pending string
}

// actor finds who r acts for on the MFA pages; when there is no one it answers r and returns nil.
func (h *Handler) actor(w http.ResponseWriter, r *http.Request) *mfaActor {
	var a *mfaActor
	if c, err := r.Cookie(auth.SessionCookie); err == nil && c.Value != "" {
		if p, csrf, err := h.Accounts.SessionPrincipal(c.Value); err == nil {
			a = &mfaActor{name: p.Name, p: p, csrf: csrf}
		}
	}
	if a == nil {
		tok := pendingToken(r)
		if user, ch, csrf, err := h.Accounts.Pending(tok); err == nil && ch == auth.ChallengeEnrol {
			a = &mfaActor{name: user, csrf: csrf, pending: tok}
		}
	}
	if a == nil {
		if r.Method == http.MethodGet {
			http.Redirect(w, r, "/editor/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		} else {
			h.fail(w, r, &page{Lang: lang(r)}, fixgraph.Errorf(fixgraph.EUNAUTHORIZED, "%s", translate(lang(r), "Not signed in or session expired.")))
		}
		return nil
	}
	if r.Method != http.MethodGet {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(a.csrf)) != 1 {
			h.fail(w, r, a.page(r, ""), fixgraph.Errorf(fixgraph.EFORBIDDEN, "the form's CSRF token is missing or stale; reload the page and try again"))
			return nil
		}
	}
	return a
}

func (a *mfaActor) page(r *http.Request, title string) *page {
	return &page{Lang: lang(r), User: a.p, CSRF: a.csrf, Title: translate(lang(r), title), Path: r.URL.RequestURI()}
}

// mfaView is what the MFA page shows.
type mfaView struct {
	Name      string
	Status    *auth.MFAStatus
	Forced    bool            // a half-done sign-in: set up MFA to go on
	Enrolment *auth.Enrolment // a new secret waiting for its first code
	QR        template.URL    // its QR code, a data: URI the server made, as the <img> source
	Codes     []string        // new recovery codes, shown this once
	Next      string
}

func (h *Handler) mfaPage(w http.ResponseWriter, r *http.Request) {
	a := h.actor(w, r)
	if a == nil {
		return
	}
	h.showMFA(w, r, a, http.StatusOK, &mfaView{Next: safeNext(r.URL.Query().Get("next"))}, "")
}

func (h *Handler) showMFA(w http.ResponseWriter, r *http.Request, a *mfaActor, status int, v *mfaView, msg string) {
	pg := a.page(r, "Two-step sign-in")
	st, err := h.Accounts.MFA(a.name)
	if err != nil {
		h.fail(w, r, pg, err)
		return
	}
	v.Name, v.Status, v.Forced = a.name, st, a.p == nil
	if v.Enrolment != nil && strings.HasPrefix(v.Enrolment.QR, "data:image/png;base64,") {
		v.QR = template.URL(v.Enrolment.QR)
	}
	pg.Data, pg.Error = v, msg
	h.render(w, status, "mfa", pg)
}

func (h *Handler) mfaEnrol(w http.ResponseWriter, r *http.Request) {
	a := h.actor(w, r)
	if a == nil {
		return
	}
	e, err := h.Accounts.StartEnrolment(a.name)
	if err != nil {
		h.fail(w, r, a.page(r, "Two-step sign-in"), err)
		return
	}
	h.showMFA(w, r, a, http.StatusOK, &mfaView{Enrolment: e, Next: safeNext(r.PostFormValue("next"))}, "")
}

func (h *Handler) mfaConfirm(w http.ResponseWriter, r *http.Request) {
	a := h.actor(w, r)
	if a == nil {
		return
	}
	v := &mfaView{Next: safeNext(r.PostFormValue("next"))}
	var codes []string
	var err error
	if a.p != nil {
		codes, err = h.Accounts.ConfirmEnrolment(a.name, r.PostFormValue("code"))
	} else {
		var at *auth.Attempt
		codes, at, err = h.Accounts.ConfirmPendingEnrolment(a.pending, r.PostFormValue("code"))
		if err == nil {
			h.signedIn(w, r, at)
			a = &mfaActor{name: a.name, p: at.Principal, csrf: at.CSRF}
		}
	}
	if err != nil {
		if fixgraph.CodeOf(err) == fixgraph.EINVALID {
			// Show the same secret again, so the app that has it can try its next code.
			if e, err2 := h.Accounts.WaitingEnrolment(a.name); err2 == nil {
				v.Enrolment = e
			}
			h.showMFA(w, r, a, http.StatusBadRequest, v, translate(lang(r), fixgraph.MessageOf(err)))
			return
		}
		h.fail(w, r, a.page(r, "Two-step sign-in"), err)
		return
	}
	ctx := fixgraph.WithPrincipal(r.Context(), a.p)
	h.Service.audit(ctx, "mfa.enrol", a.p.ID, map[string]string{"via": "editor"})
	v.Codes = codes
	h.showMFA(w, r, a, http.StatusOK, v, "")
}

// userRow is one account on the admin's list.
type userRow struct {
	*fixgraph.User
	Locked bool
}

// adminUsers lists the accounts with their MFA and lock state, and the roles that require MFA.
func (h *Handler) adminUsers(w http.ResponseWriter, r *http.Request, pg *page) {
	h.showUsers(w, r, pg, http.StatusOK)
}

func (h *Handler) showUsers(w http.ResponseWriter, r *http.Request, pg *page, status int) {
	if !pg.User.Can("admin", "") {
		h.fail(w, r, pg, fixgraph.Errorf(fixgraph.EFORBIDDEN, "only admins manage accounts"))
		return
	}
	users, err := h.Accounts.Users()
	if err != nil {
		h.fail(w, r, pg, err)
		return
	}
	roles, err := h.Accounts.MFARoles()
	if err != nil {
		h.fail(w, r, pg, err)
		return
	}
	var rows []userRow
	for _, u := range users {
		rows = append(rows, userRow{User: u, Locked: !u.LockedUntil.IsZero()})
	}
	required := map[fixgraph.Role]bool{}
	for _, r := range roles {
		required[r] = true
	}
	pg.Title = translate(pg.Lang, "Accounts")
	pg.Data = map[string]any{"Users": rows, "Roles": fixgraph.Roles, "Required": required}
	h.render(w, status, "users", pg)
}

// adminUsersPost unlocks an account, resets its MFA, or sets the roles that require MFA.
func (h *Handler) adminUsersPost(w http.ResponseWriter, r *http.Request, pg *page) {
	if !pg.User.Can("admin", "") {
		h.fail(w, r, pg, fixgraph.Errorf(fixgraph.EFORBIDDEN, "only admins manage accounts"))
		return
	}
	ctx := r.Context()
	name := r.PostFormValue("name")
	var err error
	switch r.PostFormValue("action") {
	case "unlock":
		if err = h.Accounts.Unlock(name); err == nil {
			h.Service.audit(ctx, "user.unlock", "user:"+name, map[string]string{"via": "editor"})
		}
	case "reset-mfa":
		if err = h.Accounts.ResetMFA(name); err == nil {
			h.Service.audit(ctx, "mfa.reset", "user:"+name, map[string]string{"via": "editor"})
		}
	case "mfa-roles":
		var roles []fixgraph.Role
		for _, s := range r.PostForm["role"] {
			roles = append(roles, fixgraph.Role(s))
		}
		if err = h.Accounts.SetMFARoles(roles); err == nil {
			names := make([]string, len(roles))
			for i, r := range roles {
				names[i] = string(r)
			}
			slices.Sort(names)
			h.Service.audit(ctx, "mfa.policy", "", map[string]string{"roles": strings.Join(names, ","), "via": "editor"})
		}
	default:
		err = fixgraph.Errorf(fixgraph.EINVALID, "unknown action")
	}
	if err != nil {
		h.fail(w, r, pg, err)
		return
	}
	http.Redirect(w, r, "/editor/admin/users", http.StatusSeeOther)
}

func init() {
	for k, v := range mfaZh {
		if _, ok := zh[k]; !ok {
			zh[k] = v
		}
	}
}

// mfaZh holds the Chinese of the MFA pages' messages.
var mfaZh = map[string]string{
	"Two-step sign-in":            "两步验证",
	"Code":                        "验证码",
	"Verify":                      "验证",
	"Accounts":                    "账号管理",
	"wrong, used or expired code": "验证码错误、已使用或已过期",
	"Enter the 6-digit code from your authenticator app, or one of your recovery codes.": "请输入身份验证器应用中的 6 位验证码，或一个恢复码。",
	"Two-step sign-in is on.":                                     "两步验证已开启。",
	"Two-step sign-in is off.":                                    "两步验证未开启。",
	"Your role requires two-step sign-in. Set it up to continue.": "你的角色要求两步验证，请先完成设置。",
	"Set up two-step sign-in":                                     "设置两步验证",
	"Set up again (new secret)":                                   "重新设置（新密钥）",
	"Scan the QR code with an authenticator app, or enter the secret by hand, then type the code it shows.": "用身份验证器应用扫描二维码，或手动输入密钥，然后输入应用显示的验证码。",
	"Secret":              "密钥",
	"Recovery codes left": "剩余恢复码",
	"Recovery codes":      "恢复码",
	"Save these recovery codes now. Each works once, and they are not shown again.": "请立即保存这些恢复码。每个只能使用一次，之后不会再显示。",
	"Continue":                            "继续",
	"Role":                                "角色",
	"Locked until":                        "锁定至",
	"Failures":                            "连续失败",
	"Unlock":                              "解锁",
	"Reset MFA":                           "重置两步验证",
	"Roles that require two-step sign-in": "必须使用两步验证的角色",
	"Save":                                "保存",
	"yes":                                 "是",
	"no":                                  "否",
}
