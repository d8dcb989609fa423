// Package lexicon recognises what must reach a person before any answer is looked up: danger
// (smoke, fire, sparks, a burning or gas smell, electric shock, water near electrics, injury),
// complaints and strong anger, and the wording by which a manual marks a fault as dangerous.
//
// The words are data, one JSON file per language (zh.json, en.json), embedded in the binary.
// Text and terms are compared as sequences of units — one unit per Han character, one per Latin
// word or number — after NFKC, Traditional-to-Simplified conversion and lower-casing, so spacing,
// case and full-width forms do not matter. Longer English words also match one typing slip away
// (a letter missing, added, changed or two swapped), unless the text's word is itself a real word
// the lexicon names. A term does not count when a negation cue stands shortly before it in the
// same clause ("没有冒烟", "no smoke", "does not smell of gas"), when a cue after it says it is
// absent ("焦味都没有"), or when it is part of a harmless phrase ("漏电保护插头", "fire mode").
package lexicon
