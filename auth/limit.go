package auth

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/fixgraph/fixgraph"
)

// meter is what one request may still take from its principal's rate limit.
type meter struct {
	limiter *rate.Limiter
	rate    float64
	now     func() time.Time
	prepaid atomic.Bool // the token the request took at the gate, not yet used by an ask
}

type meterKey struct{}

// Charge takes one ask or search from the rate limit of the principal whose request ctx belongs
// to. The token the request took at the gate pays for its first; each further one, such as an
// alias of ask in the same GraphQL operation, takes one more, and when none is left Charge
// returns an error with ERATELIMITED. A context that did not pass a Gate with a rate limit, or
// acts for the local operator, is not limited.
func Charge(ctx context.Context) error {
	m, _ := ctx.Value(meterKey{}).(*meter)
	if m == nil || m.limiter == nil || m.prepaid.CompareAndSwap(true, false) {
		return nil
	}
	if m.limiter.AllowN(m.now(), 1) {
		return nil
	}
	return fixgraph.Errorf(fixgraph.ERATELIMITED, "rate limit of %g asks per second exceeded; send fewer at once, or slow down", m.rate)
}

// limiters holds one rate limiter per key, forgetting idle ones once there are many, so keys an
// attacker makes up (addresses, account names) cannot grow it without end.
type limiters struct {
	every time.Duration
	burst int

	mu sync.Mutex
	m  map[string]*rate.Limiter
}

// maxLimiters is how many keys a limiters holds before it forgets the idle ones.
const maxLimiters = 10_000

// take takes one from key's limiter. ok is false when there is none to take; otherwise undo
// gives it back.
func (ls *limiters) take(key string, now time.Time) (undo func(), ok bool) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.m == nil {
		ls.m = map[string]*rate.Limiter{}
	}
	l, ok := ls.m[key]
	if !ok {
		if len(ls.m) >= maxLimiters {
			for k, l := range ls.m {
				if l.TokensAt(now) >= float64(ls.burst) {
					delete(ls.m, k) // full again: forgetting it changes nothing
				}
			}
			if len(ls.m) >= maxLimiters {
				clear(ls.m) // all busy: an attack from very many addresses; start afresh
			}
		}
		l = rate.NewLimiter(rate.Every(ls.every), ls.burst)
		ls.m[key] = l
	}
	res := l.ReserveN(now, 1)
	if !res.OK() || res.DelayFrom(now) > 0 {
		res.CancelAt(now)
		return nil, false
	}
	return func() { res.CancelAt(now) }, true // at its own time: a reservation whose time has passed cannot be cancelled
}

// Sign-in attempts are held per client address (five a minute) and failed ones per account too
// (ten, then one a minute, from wherever they come): the first stops one client guessing, the
// second many clients guessing one password together. The second lets a guesser keep one account
// waiting; that is the price of not letting it guess.
var (
	signInByClient  = &limiters{every: 12 * time.Second, burst: 5}
	signInByAccount = &limiters{every: time.Minute, burst: 10}
)

// AllowSignIn returns nil when r's client may try to sign in to the account name now, and an
// error with ERATELIMITED when it has tried too often or the account has failed too often. Every
// call counts as a try of the client, for every sign-in form; the caller says with done whether
// the password was right, and a right one does not count against the account. The client's
// address is ClientAddr's.
func AllowSignIn(r *http.Request, name string) (done func(ok bool), err error) {
	now := time.Now()
	if _, ok := signInByClient.take(ClientAddr(r), now); !ok {
		return nil, fixgraph.Errorf(fixgraph.ERATELIMITED, "too many sign-in attempts from this address; wait a minute")
	}
	account := strings.ToLower(strings.TrimSpace(name))
	if len(account) > 128 {
		account = account[:128]
	}
	undo, ok := signInByAccount.take(account, now)
	if !ok {
		return nil, fixgraph.Errorf(fixgraph.ERATELIMITED, "too many failed sign-in attempts for this account; wait a minute")
	}
	return func(signedIn bool) {
		if signedIn {
			undo()
		}
	}, nil
}

// refusals aggregates the audit entries of refused API keys per client address: the first
// refusal of a window is written at once, the rest of the window as one entry that counts them
// when it ends, so bogus keys cannot flood the audit log.
type refusals struct {
	mu      sync.Mutex
	windows map[string]*refusalWindow
}

type refusalWindow struct {
	start time.Time
	r     *http.Request // a request of the window, for the entry's address
	more  int           // refusals after the first
}

// DefaultRefusalWindow is how long a client's refused keys are counted together in the audit log.
const DefaultRefusalWindow = time.Minute

// maxRefusalClients is how many client addresses are counted apart; past it, the rest share one
// count, so a flood from many addresses still writes a few entries.
const maxRefusalClients = 1000

// refused records a refused key in the audit log through g.Audit, aggregated as refusals says.
func (g *Gate) refused(r *http.Request, detail map[string]string) {
	if g.Audit == nil {
		return
	}
	window := g.RefusalWindow
	if window <= 0 {
		window = DefaultRefusalWindow
	}
	client := ClientAddr(r)
	now := g.now()
	g.refusals.mu.Lock()
	if g.refusals.windows == nil {
		g.refusals.windows = map[string]*refusalWindow{}
	}
	if _, ok := g.refusals.windows[client]; !ok && len(g.refusals.windows) >= maxRefusalClients {
		client = "many clients"
	}
	w, ok := g.refusals.windows[client]
	if !ok || now.Sub(w.start) >= window {
		if ok && w.more > 0 {
			g.writeRefusals(w, window)
		}
		g.refusals.windows[client] = &refusalWindow{start: now, r: r}
		g.refusals.mu.Unlock()
		g.audit(r, fixgraph.Anonymous, "key.refused", "", detail)
		return
	}
	w.more++
	if w.more == 1 {
		// Write the count when the window ends, unless a refusal after it writes it first.
		time.AfterFunc(window-now.Sub(w.start), func() { g.endRefusals(client, w, window) })
	}
	g.refusals.mu.Unlock()
}

// endRefusals writes the count of w when it is still the client's open window.
func (g *Gate) endRefusals(client string, w *refusalWindow, window time.Duration) {
	g.refusals.mu.Lock()
	defer g.refusals.mu.Unlock()
	if g.refusals.windows[client] == w {
		delete(g.refusals.windows, client)
		g.writeRefusals(w, window)
	}
}

// writeRefusals writes one entry counting the refusals of w after its first; g.refusals.mu is held.
func (g *Gate) writeRefusals(w *refusalWindow, window time.Duration) {
	n := w.more
	w.more = 0
	if n > 0 {
		g.audit(w.r, fixgraph.Anonymous, "key.refused", "", map[string]string{"count": strconv.Itoa(n), "window": window.String()})
	}
}

// FlushRefusals writes the counts of refused keys not written yet; serve calls it as it stops.
func (g *Gate) FlushRefusals() {
	if g == nil {
		return
	}
	g.refusals.mu.Lock()
	defer g.refusals.mu.Unlock()
	window := g.RefusalWindow
	if window <= 0 {
		window = DefaultRefusalWindow
	}
	for client, w := range g.refusals.windows {
		delete(g.refusals.windows, client)
		g.writeRefusals(w, window)
	}
}
