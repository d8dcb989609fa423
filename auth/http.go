package auth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/fixgraph/fixgraph"
)

// SessionCookie is the name of the editor session cookie.
const SessionCookie = "fixgraph_session"

// CSRFHeader carries a session's CSRF token on every state-changing request a session makes.
const CSRFHeader = "X-CSRF-Token"

// AuditFunc records an event of a request in the audit log.
type AuditFunc func(r *http.Request, p *fixgraph.Principal, action, target string, detail map[string]string)

// Gate authenticates every request before it reaches the API: an API key (Authorization: Bearer
// fgk_…), the local operator's token (the command line on the same machine), or an editor's
// session cookie with its CSRF header on anything but GET and HEAD. A request without credentials
// gets 401, unless Anonymous is set (local development only), when it reads as fixgraph.Anonymous.
// Each principal is held to a rate limit, which each request takes one from at the gate and each
// further ask or search it runs one more (Charge).
type Gate struct {
	Store      *Store
	LocalToken string    // the token in DIR/serve.token; "" accepts none
	Anonymous  bool      // serve requests without credentials as fixgraph.Anonymous
	Rate       float64   // requests, or asks, per second per principal; 0 means no limit
	Burst      int       // requests a principal may make at once; 0 means 2×Rate
	// Share, when set, says among how many replicas a principal's Rate and Burst are shared:
	// each enforces its part, as a load balancer spreads the principal's requests over them.
	Share func() int
	Secure     bool      // set cookies only over HTTPS
	Audit      AuditFunc // nil records nothing
	// RefusalWindow is how long refused keys from one client are counted together in the
	// audit log; 0 means DefaultRefusalWindow.
	RefusalWindow time.Duration
	Now           func() time.Time

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
	lastUse  map[string]time.Time
	refusals refusals
}

// keyUseEvery is how often a key's use is written to the audit log: once per key per this long.
const keyUseEvery = 10 * time.Minute

func (g *Gate) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

// Wrap returns h behind the gate; h finds the principal with fixgraph.PrincipalFrom.
func (g *Gate) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := g.authenticate(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="fixgraph"`)
			writeError(w, err)
			return
		}
		l := g.limiter(p.ID)
		if l != nil && !l.AllowN(g.now(), 1) {
			w.Header().Set("Retry-After", "1")
			writeError(w, fixgraph.Errorf(fixgraph.ERATELIMITED, "rate limit of %g requests per second exceeded; slow down", g.Rate))
			return
		}
		m := &meter{limiter: l, rate: g.Rate, now: g.now}
		m.prepaid.Store(true)
		ctx := context.WithValue(fixgraph.WithPrincipal(r.Context(), p), meterKey{}, m)
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (g *Gate) authenticate(r *http.Request) (*fixgraph.Principal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, _ := strings.Cut(h, " ")
		token = strings.TrimSpace(token)
		if !strings.EqualFold(scheme, "Bearer") || token == "" {
			return nil, fixgraph.Errorf(fixgraph.EUNAUTHORIZED, "use Authorization: Bearer <API key>")
		}
		if g.LocalToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(g.LocalToken)) == 1 {
			return fixgraph.Local, nil
		}
		p, k, err := g.Store.KeyPrincipal(token)
		if err != nil {
			detail := map[string]string{}
			if k != nil {
				detail["key"] = k.ID
				if !k.RevokedAt.IsZero() {
					detail["reason"] = "revoked"
				} else {
					detail["reason"] = "expired"
				}
			}
			g.refused(r, detail)
			return nil, err
		}
		g.noteKeyUse(r, p)
		return p, nil
	}
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		p, csrf, err := g.Store.SessionPrincipal(c.Value)
		if err != nil {
			return nil, err
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead &&
			subtle.ConstantTimeCompare([]byte(r.Header.Get(CSRFHeader)), []byte(csrf)) != 1 {
			return nil, fixgraph.Errorf(fixgraph.EFORBIDDEN, "missing or wrong %s header: a signed-in request that changes something must carry the session's CSRF token", CSRFHeader)
		}
		return p, nil
	}
	if g.Anonymous {
		return fixgraph.Anonymous, nil
	}
	return nil, fixgraph.Errorf(fixgraph.EUNAUTHORIZED, "authentication required: send Authorization: Bearer <API key>, or sign in")
}

func (g *Gate) noteKeyUse(r *http.Request, p *fixgraph.Principal) {
	g.mu.Lock()
	if g.lastUse == nil {
		g.lastUse = make(map[string]time.Time)
	}
	now := g.now()
	due := now.Sub(g.lastUse[p.ID]) >= keyUseEvery
	if due {
		g.lastUse[p.ID] = now
	}
	g.mu.Unlock()
	if due {
		g.audit(r, p, "key.use", p.ID, nil)
	}
}

// limiter returns the rate limiter of the principal id, or nil when it is not limited.
func (g *Gate) limiter(id string) *rate.Limiter {
	if g.Rate <= 0 || id == fixgraph.Local.ID {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.limiters == nil {
		g.limiters = make(map[string]*rate.Limiter)
	}
	share := 1
	if g.Share != nil {
		share = max(1, g.Share())
	}
	r := g.Rate / float64(share)
	burst := g.Burst
	if burst <= 0 {
		burst = int(2 * g.Rate)
	}
	burst = max(1, burst/share)
	l, ok := g.limiters[id]
	if !ok {
		l = rate.NewLimiter(rate.Limit(r), burst)
		g.limiters[id] = l
	} else if l.Limit() != rate.Limit(r) || l.Burst() != burst {
		now := g.now()
		l.SetLimitAt(now, rate.Limit(r))
		l.SetBurstAt(now, burst)
	}
	return l
}

func (g *Gate) audit(r *http.Request, p *fixgraph.Principal, action, target string, detail map[string]string) {
	if g.Audit != nil {
		g.Audit(r, p, action, target, detail)
	}
}

// SetSessionCookie gives the client the session cookie of token: HttpOnly, SameSite=Strict, for
// SessionTTL, over HTTPS only when secure. An empty token clears the cookie (sign-out).
func SetSessionCookie(w http.ResponseWriter, token string, secure bool) {
	c := &http.Cookie{Name: SessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(SessionTTL.Seconds())}
	if token == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// SignIn serves POST /auth/login with JSON {"name", "password"} (or a form): on success it sets
// the session cookie and answers {"name", "role", "csrf"}; the CSRF token must accompany every
// later request that changes something. An account with MFA also sends "code" (a TOTP code or a
// recovery code) in the same request, or is answered 401 with extensions.code "mfa_required"
// and an mfaToken to send back with the code ({"mfaToken", "code"}) within PendingTTL. An account
// whose role requires MFA and that has none is refused until it enrols in the editor.
func (g *Gate) SignIn() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, fixgraph.Errorf(fixgraph.EINVALID, "sign in with POST"))
			return
		}
		var in struct{ Name, Password, Code, MFAToken string }
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
				writeError(w, fixgraph.Errorf(fixgraph.EINVALID, "malformed sign-in request"))
				return
			}
		} else {
			in.Name, in.Password = r.PostFormValue("name"), r.PostFormValue("password")
			in.Code, in.MFAToken = r.PostFormValue("code"), r.PostFormValue("mfaToken")
		}
		if in.MFAToken != "" {
			g.secondFactor(w, r, in.MFAToken, in.Code)
			return
		}
		done, err := AllowSignIn(r, in.Name)
		if err != nil {
			w.Header().Set("Retry-After", "60")
			writeError(w, err)
			return
		}
		a, err := g.Store.Password(in.Name, in.Password)
		done(err == nil)
		if err != nil {
			g.auditAttempt(r, a, err)
			writeError(w, err)
			return
		}
		switch a.Challenge {
		case ChallengeEnrol:
			g.Store.endPendingToken(a.Pending)
			g.audit(r, fixgraph.Anonymous, "signin.failed", "user:"+a.User, map[string]string{"step": "password", "reason": "mfa enrolment required"})
			writeError(w, fixgraph.Errorf(fixgraph.EFORBIDDEN, "this account's role requires two-step sign-in and it has none: sign in to the editor at /editor/ once to set it up"))
			return
		case ChallengeCode:
			if in.Code == "" {
				writeMFARequired(w, a.Pending)
				return
			}
			g.secondFactor(w, r, a.Pending, in.Code)
			return
		}
		g.signedIn(w, r, a)
	})
}

// MFARequired is the extensions.code of /auth/login's answer to a right password of an account
// with MFA when no code came with it.
const MFARequired = "mfa_required"

func writeMFARequired(w http.ResponseWriter, token string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{
		"message":    "this account needs a second factor: send {\"mfaToken\", \"code\"} to /auth/login within 5 minutes, with a code from the authenticator app or a recovery code",
		"extensions": map[string]any{"code": MFARequired, "mfaToken": token, "expiresIn": int(PendingTTL.Seconds())},
	}}})
}

// secondFactor checks code for the half-done sign-in token, under the same sign-in limits as a
// password, and signs in.
func (g *Gate) secondFactor(w http.ResponseWriter, r *http.Request, token, code string) {
	user, _, _, err := g.Store.Pending(token)
	if err != nil {
		writeError(w, err)
		return
	}
	done, err := AllowSignIn(r, user)
	if err != nil {
		w.Header().Set("Retry-After", "60")
		writeError(w, err)
		return
	}
	a, err := g.Store.SecondFactor(token, code)
	done(err == nil)
	if err != nil {
		g.auditAttempt(r, a, err)
		writeError(w, err)
		return
	}
	g.signedIn(w, r, a)
}

// signedIn sets the session cookie of a finished sign-in and answers with who it acts for.
func (g *Gate) signedIn(w http.ResponseWriter, r *http.Request, a *Attempt) {
	p := a.Principal
	d := map[string]string{"method": a.Method}
	if a.Method == "recovery" {
		d["recoveryLeft"] = strconv.Itoa(a.Recovery)
	}
	g.audit(r, p, "signin", p.ID, d)
	SetSessionCookie(w, a.Token, g.Secure)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"name": p.Name, "role": string(p.Role), "department": p.Department, "csrf": a.CSRF})
}

func (g *Gate) auditAttempt(r *http.Request, a *Attempt, err error) {
	AuditAttempt(a, err, func(action, target string, d map[string]string) {
		g.audit(r, fixgraph.Anonymous, action, target, d)
	})
}

// SignOut serves POST /auth/logout: it ends the session and clears the cookie. Like every
// request of a session that changes something, it needs the session's CSRF header, so another
// site cannot sign an editor out with a link, an image or a form.
func (g *Gate) SignOut() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeErrorStatus(w, fixgraph.Errorf(fixgraph.EINVALID, "sign out with POST and the session's %s header", CSRFHeader), http.StatusMethodNotAllowed)
			return
		}
		if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
			if _, csrf, err := g.Store.SessionPrincipal(c.Value); err == nil {
				if subtle.ConstantTimeCompare([]byte(r.Header.Get(CSRFHeader)), []byte(csrf)) != 1 {
					writeError(w, fixgraph.Errorf(fixgraph.EFORBIDDEN, "missing or wrong %s header: signing out needs the session's CSRF token", CSRFHeader))
					return
				}
				if err := g.Store.SignOut(c.Value); err != nil {
					writeError(w, err)
					return
				}
			}
		}
		SetSessionCookie(w, "", g.Secure)
		w.WriteHeader(http.StatusNoContent)
	})
}

// writeError answers in the shape GraphQL clients read ({"errors": [{message, extensions.code}]}),
// with the HTTP status of the code, so scripts and GraphQL clients both understand it.
func writeError(w http.ResponseWriter, err error) {
	writeErrorStatus(w, err, fixgraph.HTTPStatus(fixgraph.CodeOf(err)))
}

// writeErrorStatus is writeError with another HTTP status than the code's.
func writeErrorStatus(w http.ResponseWriter, err error, status int) {
	code := fixgraph.CodeOf(err)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{"message": fixgraph.MessageOf(err), "extensions": map[string]string{"code": code}}}})
}
