// Package auth decides who a request acts for: API keys for bots and apps (stored hashed, shown
// once, revocable, with expiry), editor accounts (argon2id passwords) with sessions and CSRF
// tokens, and the local operator's token; and holds each of them to a rate limit. What a
// principal may read and do is in the root package (fixgraph.Principal); graph.Guarded and the
// search filters enforce it.
package auth
