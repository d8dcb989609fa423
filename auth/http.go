package auth

import (
	"crypto/subtle"
	"encoding/json"
	"math"
	"net"
	"net/http"
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
// Each principal is held to a rate limit.
type Gate struct {
	Store      *Store
	LocalToken string    // the token in DIR/serve.token; "" accepts none
	Anonymous  bool      // serve requests without credentials as fixgraph.Anonymous
	Rate       float64   // requests per second per principal; 0 means no limit
	Burst      int       // requests a principal may make at once; 0 means 2×Rate
	Secure     bool      // set cookies only over HTTPS
	Audit      AuditFunc // nil records nothing
	Now        func() time.Time

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
	lastUse  map[string]time.Time
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
		if !g.allow(p.ID) {
			w.Header().Set("Retry-After", "1")
			writeError(w, fixgraph.Errorf(fixgraph.ERATELIMITED, "rate limit of %g requests per second exceeded; slow down", g.Rate))
			return
		}
		h.ServeHTTP(w, r.WithContext(fixgraph.WithPrincipal(r.Context(), p)))
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
			g.audit(r, fixgraph.Anonymous, "key.refused", "", detail)
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

func (g *Gate) allow(id string) bool {
	if g.Rate <= 0 || id == fixgraph.Local.ID {
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.limiters == nil {
		g.limiters = make(map[string]*rate.Limiter)
	}
	l, ok := g.limiters[id]
	if !ok {
		burst := g.Burst
		if burst <= 0 {
			burst = int(math.Max(1, 2*g.Rate))
		}
		l = rate.NewLimiter(rate.Limit(g.Rate), burst)
		g.limiters[id] = l
	}
	return l.AllowN(g.now(), 1)
}

func (g *Gate) audit(r *http.Request, p *fixgraph.Principal, action, target string, detail map[string]string) {
	if g.Audit != nil {
		g.Audit(r, p, action, target, detail)
	}
}

// signInLimit holds sign-in attempts per client address: five a minute.
var signInLimit = struct {
	sync.Mutex
	m map[string]*rate.Limiter
}{m: map[string]*rate.Limiter{}}

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

// AllowSignIn reports whether the request's client address may try to sign in now: five tries a
// minute per address, for every sign-in form.
func AllowSignIn(r *http.Request) bool {
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	signInLimit.Lock()
	defer signInLimit.Unlock()
	l, ok := signInLimit.m[host]
	if !ok {
		l = rate.NewLimiter(rate.Every(12*time.Second), 5)
		signInLimit.m[host] = l
	}
	return l.Allow()
}

// SignIn serves POST /auth/login with JSON {"name", "password"} (or a form): on success it sets
// the session cookie and answers {"name", "role", "csrf"}; the CSRF token must accompany every
// later request that changes something.
func (g *Gate) SignIn() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, fixgraph.Errorf(fixgraph.EINVALID, "sign in with POST"))
			return
		}
		if !AllowSignIn(r) {
			w.Header().Set("Retry-After", "12")
			writeError(w, fixgraph.Errorf(fixgraph.ERATELIMITED, "too many sign-in attempts from this address; wait a minute"))
			return
		}
		var in struct{ Name, Password string }
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
				writeError(w, fixgraph.Errorf(fixgraph.EINVALID, "malformed sign-in request"))
				return
			}
		} else {
			in.Name, in.Password = r.PostFormValue("name"), r.PostFormValue("password")
		}
		token, csrf, p, err := g.Store.SignIn(in.Name, in.Password)
		if err != nil {
			g.audit(r, fixgraph.Anonymous, "signin.failed", "user:"+in.Name, nil)
			writeError(w, err)
			return
		}
		g.audit(r, p, "signin", p.ID, nil)
		SetSessionCookie(w, token, g.Secure)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"name": p.Name, "role": string(p.Role), "department": p.Department, "csrf": csrf})
	})
}

// SignOut serves POST /auth/logout: it ends the session and clears the cookie.
func (g *Gate) SignOut() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(SessionCookie); err == nil {
			g.Store.SignOut(c.Value)
		}
		SetSessionCookie(w, "", g.Secure)
		w.WriteHeader(http.StatusNoContent)
	})
}

// writeError answers in the shape GraphQL clients read ({"errors": [{message, extensions.code}]}),
// with the HTTP status of the code, so scripts and GraphQL clients both understand it.
func writeError(w http.ResponseWriter, err error) {
	code := fixgraph.CodeOf(err)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(fixgraph.HTTPStatus(code))
	json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{"message": fixgraph.MessageOf(err), "extensions": map[string]string{"code": code}}}})
}
