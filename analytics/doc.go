// Package analytics records what customers ask and how well fixgraph answered, so content teams
// can learn from it: the most asked questions, codes and products ([Store.Top]), asks over time
// ([Store.Series]), the questions the bot could not answer grouped by similarity
// ([Store.Unanswered]), codes and products suddenly asked about far more than usual
// ([Store.Surges]) and how a period went overall ([Store.Summarize]).
//
// # Storage
//
// The [Store] is a bbolt file in the data directory with two buckets. "events" maps a 16-byte key
// — big-endian unix nanoseconds, then a big-endian sequence number — to the [Event] as JSON; an
// event's ID is that key in hex, so IDs sort by time and a period is one range scan. "index" holds
// one empty-valued key per ask of a code or product: a dimension byte ('c' or 'p'), the value, a
// zero byte, then the event key. Counting a code's or product's asks in a period is a cursor walk
// over keys alone, with no JSON decoded, which is what Top, Series and Surges run on. Writes are
// one transaction per [Store.Record] call, or per [Store.RecordAll] batch; [Store.Prune] deletes
// old events with their index entries, a few thousand per transaction.
//
// # Personal data
//
// Questions and comments may hold personal data. Callers mask them before recording (the ingest
// masker does phones, e-mail, resident IDs and bank cards); this package stores them only in its
// file and never logs them. Retention is the caller's choice through Prune, and backups
// ([Store.Backup]) carry the questions too.
//
// # Grouping questions
//
// [Normalize] makes the text questions are counted by in Top: NFKC, lower case, no punctuation,
// and no white space except single spaces between Latin words, so case, spacing and full-width
// punctuation do not split a question. [Store.Unanswered] clusters these phrasings by the
// Jaccard index of their token sets ([DefaultTokens] unless Store.Tokens is set), greedily, most
// asked first, each joining the group whose leading phrasing it is most similar to when that
// similarity is at least [ClusterThreshold] (0.5). Chinese and English phrasings of one question
// share no tokens and land in separate groups.
//
// # Surges
//
// For each code and product, [Store.Surges] counts asks in the window ending now and in each of
// the n = Baseline/Window windows before it. Expected is the baseline's mean per window (baseline
// asks / n) and Usual the mean of the windows at the same time of day on the baseline's days. With
// E = max(Expected, Usual, 1), a key surges when its window count c passes four tests at once:
//
//	c >= MinCount               (default 10: a handful of asks is never news)
//	c / E >= Factor             (default 3: the ratio the team sees)
//	P(X >= c) <= P(Z > Sigma)   (X Poisson with mean E, Z standard normal; default Sigma 4)
//	c > E + Sigma·SD            (SD: the baseline's standard deviation per window)
//
// The Poisson test is the exact form of c > E + Sigma·√E, whose normal approximation passes far
// too much at small means (12 asks against 4 expected happen once in about 1,100 windows). The SD
// test covers keys noisier than Poisson. Sigma is 4, not 3, because every key is tested in every
// window: a hundred keys checked hourly are 2,400 tests a day.
//
// The floor of one ask per window in E lets a brand-new key alert once MinCount and Factor agree.
// Usual keeps a daily rhythm from alerting: customers in China ask little at night, so a busy
// afternoon hour runs well above the week's average, but not above the same hour on earlier days.
// Baseline windows from before the store's first event are left out, so a young store does not
// see its everyday traffic as a surge.
//
// Trade-offs, chosen to keep false alerts rare: an earlier surge inside the baseline raises SD
// (and, at the same time of day, Usual), so a repeat within the week must be larger to
// alert; weekly rhythms (a quiet Sunday) are averaged, not modelled.
package analytics
