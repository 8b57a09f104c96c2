package subject

import (
	"errors"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
)

// Errors of transforms, with nats-server's texts. Every destination error wraps
// ErrInvalidDestination.
var (
	ErrBadSubject         = errors.New("invalid subject")
	ErrNoMatch            = errors.New("no matching transforms available")
	ErrInvalidDestination = errors.New("invalid mapping destination")

	errDestSubject     = destErrf("invalid transform")
	errUnknownFunction = destErrf("unknown function")
	errIndexOutOfRange = destErrf("wildcard index out of range")
	errNotEnoughArgs   = destErrf("not enough arguments passed to the function")
	errInvalidArg      = destErrf("function argument is invalid or in the wrong format")
	errTooManyArgs     = destErrf("too many arguments passed to the function")
)

func destErrf(what string) error { return &wrapped{ErrInvalidDestination, what} }

type wrapped struct {
	base error
	what string
}

func (e *wrapped) Error() string { return e.base.Error() + ": " + e.what }
func (e *wrapped) Unwrap() error { return e.base }

// tokenErr is a destination error about one token of the destination.
type tokenErr struct {
	token string
	err   error
}

func (e *tokenErr) Error() string {
	if e.token == "" {
		return e.err.Error()
	}
	return e.err.Error() + " in " + e.token
}

func (e *tokenErr) Unwrap() error { return e.err }

// fn is what a destination token does.
type fn uint8

const (
	fnLiteral fn = iota
	fnPartition
	fnWildcard
	fnSplitFromLeft
	fnSplitFromRight
	fnSliceFromLeft
	fnSliceFromRight
	fnSplit
	fnLeft
	fnRight
	fnRandom
)

// A mapping function is written {{name(args)}}, the name's first letter and each capital in
// either case; the arguments are split on commas.
func fnPattern(name string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`{{\s*`)
	for i, c := range name {
		if i == 0 || c >= 'A' && c <= 'Z' {
			lo := strings.ToLower(string(c))
			b.WriteString("[" + lo + strings.ToUpper(lo) + "]")
		} else {
			b.WriteRune(c)
		}
	}
	b.WriteString(`\s*\((.*)\)\s*}}`)
	return regexp.MustCompile(b.String())
}

var (
	argSep = regexp.MustCompile(`,\s*`)
	// The functions in the order a destination token is tried against them.
	functions = []struct {
		kind fn
		re   *regexp.Regexp
	}{
		{fnWildcard, fnPattern("wildcard")},
		{fnPartition, fnPattern("partition")},
		{fnSplitFromLeft, fnPattern("splitFromLeft")},
		{fnSplitFromRight, fnPattern("splitFromRight")},
		{fnSliceFromLeft, fnPattern("sliceFromLeft")},
		{fnSliceFromRight, fnPattern("sliceFromRight")},
		{fnRight, fnPattern("right")},
		{fnLeft, fnPattern("left")},
		{fnSplit, fnPattern("split")},
		{fnRandom, fnPattern("random")},
	}
)

// Transform maps subjects matching a source pattern to a destination, as nats-server's subject
// transforms (stream subject transforms, republish, subject mappings) do.
type Transform struct {
	src, dest string
	stoks     []string
	dtoks     []string
	parts     []part // one per destination token
}

// part is one destination token: a literal, or a function of source tokens.
type part struct {
	kind fn
	src  []int // indexes into the subject's tokens
	n    int32
	sep  string
}

// NewTransform compiles a transform from src (empty means ">") to dest, with nats-server's
// rules and errors. An empty dest is no transform: it returns nil and no error.
func NewTransform(src, dest string) (*Transform, error) {
	if dest == "" {
		return nil, nil
	}
	if src == "" {
		src = ">"
	}
	sok, stoks, spwc, sfwc := tokenInfo(src)
	dok, dtoks, dpwc, dfwc := tokenInfo(dest)
	if !sok || !dok || dpwc > 0 || sfwc != dfwc {
		return nil, ErrBadSubject
	}
	t := &Transform{src: src, dest: dest, stoks: stoks, dtoks: dtoks, parts: make([]part, 0, len(dtoks))}
	wild := spwc > 0 || sfwc
	// The position in the subject of the i-th "*" of the source (1-based); unknown positions
	// read as the first token, as the server's do.
	starAt := map[int]int{}
	for i, tok := range stoks {
		if tok == "*" {
			starAt[len(starAt)+1] = i
		}
	}
	for _, tok := range dtoks {
		p, args, err := parseToken(tok)
		if err != nil {
			return nil, err
		}
		switch {
		case p.kind == fnLiteral:
		case p.kind == fnRandom:
		case !wild && p.kind == fnPartition:
			// Without wildcards the partition hashes the whole subject, whatever its arguments.
		case !wild:
			return nil, &tokenErr{tok, errIndexOutOfRange}
		default:
			p.src = make([]int, 0, len(args))
			for _, w := range args {
				if w > spwc {
					return nil, &tokenErr{tok + ": [" + strconv.Itoa(w) + "]", errIndexOutOfRange}
				}
				p.src = append(p.src, starAt[w])
			}
		}
		t.parts = append(t.parts, p)
	}
	return t, nil
}

// ValidateDestination checks a transform's destination as nats-server checks a stream's
// subject transform before it compiles it, and then compiles it.
func ValidateDestination(src, dest string) error {
	if dest == "" {
		return nil
	}
	fwc := false
	for _, tok := range strings.Split(dest, ".") {
		if tok == "" || fwc {
			return &tokenErr{tok, errDestSubject}
		}
		if looksLikeFunction(tok) {
			known := false
			for _, f := range functions {
				if f.re.MatchString(tok) {
					known = true
					break
				}
			}
			if !known {
				return &tokenErr{tok, errUnknownFunction}
			}
			continue
		}
		if tok == ">" {
			fwc = true
		} else if strings.ContainsAny(tok, "\t\n\f\r ") {
			return errDestSubject
		}
	}
	_, err := NewTransform(src, dest)
	return err
}

func looksLikeFunction(tok string) bool {
	n := len(tok)
	return n > 4 && tok[:2] == "{{" && tok[n-2:] == "}}"
}

// parseToken reads one destination token: a literal, a legacy $n, or a {{function(args)}}.
// args are the wildcard positions (1-based) the function reads.
func parseToken(tok string) (part, []int, error) {
	lit := part{kind: fnLiteral}
	if len(tok) < 2 {
		return lit, nil, nil
	}
	if tok[0] == '$' {
		n, err := strconv.Atoi(tok[1:])
		if err != nil {
			return lit, nil, nil // a literal that starts with '$'
		}
		return part{kind: fnWildcard}, []int{n}, nil
	}
	if !looksLikeFunction(tok) {
		return lit, nil, nil
	}
	bad := func(err error) (part, []int, error) { return part{}, nil, &tokenErr{tok, err} }
	for _, f := range functions {
		m := f.re.FindStringSubmatch(tok)
		if len(m) < 2 {
			continue
		}
		args := argSep.Split(m[1], -1)
		switch f.kind {
		case fnWildcard:
			if len(args) > 1 {
				return bad(errTooManyArgs)
			}
			if args[0] == "" {
				return bad(errNotEnoughArgs)
			}
			i, err := atoi(args[0])
			if err != nil {
				return bad(errInvalidArg)
			}
			return part{kind: fnWildcard}, []int{i}, nil
		case fnPartition:
			n, err := atoi(args[0])
			if err != nil || n > math.MaxInt32 {
				return bad(errInvalidArg)
			}
			idx := make([]int, 0, len(args)-1)
			for _, a := range args[1:] {
				i, err := atoi(a)
				if err != nil {
					return bad(errInvalidArg)
				}
				idx = append(idx, i)
			}
			return part{kind: fnPartition, n: int32(n)}, idx, nil
		case fnSplit:
			if len(args) < 2 {
				return bad(errNotEnoughArgs)
			}
			if len(args) > 2 {
				return bad(errTooManyArgs)
			}
			i, err := atoi(args[0])
			if err != nil || strings.ContainsAny(args[1], " .") {
				return bad(errInvalidArg)
			}
			return part{kind: fnSplit, sep: args[1]}, []int{i}, nil
		case fnRandom:
			if len(args) != 1 {
				return bad(errNotEnoughArgs)
			}
			n, err := atoi(args[0])
			if err != nil || n > math.MaxInt32 {
				return bad(errInvalidArg)
			}
			return part{kind: fnRandom, n: int32(n)}, nil, nil
		default: // a wildcard position and a number
			if len(args) < 2 {
				return bad(errNotEnoughArgs)
			}
			if len(args) > 2 {
				return bad(errTooManyArgs)
			}
			i, err := atoi(args[0])
			if err != nil {
				return bad(errInvalidArg)
			}
			n, err := strconv.ParseInt(strings.Trim(args[1], " "), 10, 32)
			if err != nil {
				return bad(errInvalidArg)
			}
			return part{kind: f.kind, n: int32(n)}, []int{i}, nil
		}
	}
	return bad(errUnknownFunction)
}

func atoi(s string) (int, error) { return strconv.Atoi(strings.Trim(s, " ")) }

// tokenInfo splits a pattern into tokens: whether it is valid (no empty token, nothing after
// ">"), the number of "*" tokens and whether it ends in ">".
func tokenInfo(p string) (ok bool, toks []string, pwc int, fwc bool) {
	if p == "" {
		return false, nil, 0, false
	}
	toks = strings.Split(p, ".")
	for _, t := range toks {
		if t == "" || fwc {
			return false, nil, 0, false
		}
		switch t {
		case ">":
			fwc = true
		case "*":
			pwc++
		}
	}
	return true, toks, pwc, fwc
}

// Match transforms subj, a literal subject, if it matches the source; otherwise it returns
// ErrNoMatch, or ErrBadSubject for a subject that is not literal.
func (t *Transform) Match(subj string) (string, error) {
	if t.src == ">" && t.dest == ">" {
		return subj, nil
	}
	toks := strings.Split(subj, ".")
	for _, tok := range toks {
		if tok == "" || tok == "*" || tok == ">" {
			return "", ErrBadSubject
		}
	}
	if t.src != ">" && !sourceMatches(toks, t.stoks) {
		return "", ErrNoMatch
	}
	return t.apply(toks), nil
}

// sourceMatches reports whether literal tokens match the source's tokens as the server tests
// them: a source token that starts with '*' matches any token.
func sourceMatches(toks, src []string) bool {
	for i, s := range src {
		if i >= len(toks) || s == "" {
			return false
		}
		if s == ">" {
			return true
		}
		if s[0] != '*' && s != toks[i] {
			return false
		}
	}
	return len(toks) == len(src)
}

// TransformSubject transforms subj without checking that it matches the source: the caller
// knows it does.
func (t *Transform) TransformSubject(subj string) string {
	return t.apply(strings.Split(subj, "."))
}

func (t *Transform) apply(toks []string) string {
	if len(t.parts) == 0 {
		return t.dest
	}
	var b strings.Builder
	last := len(t.parts) - 1
	for i, p := range t.parts {
		if p.kind == fnLiteral {
			if t.dtoks[i] == ">" {
				break
			}
			b.WriteString(t.dtoks[i])
		} else {
			p.write(&b, toks)
		}
		if i < last {
			b.WriteByte('.')
		}
	}
	if t.dtoks[len(t.dtoks)-1] == ">" {
		for i := len(t.stoks) - 1; i < len(toks); i++ {
			b.WriteString(toks[i])
			if i < len(toks)-1 {
				b.WriteByte('.')
			}
		}
	}
	return b.String()
}

// write appends what the function makes of the subject's tokens.
func (p *part) write(b *strings.Builder, toks []string) {
	switch p.kind {
	case fnPartition:
		var key []byte
		if len(p.src) == 0 {
			key = []byte(strings.Join(toks, "."))
		}
		for _, i := range p.src {
			key = append(key, toks[i]...)
		}
		b.WriteString(partition(key, p.n))
		return
	case fnRandom:
		if p.n == 0 {
			b.WriteString("0")
		} else {
			b.WriteString(strconv.Itoa(int(rand.Int32()) % int(p.n)))
		}
		return
	case fnWildcard:
		if len(p.src) > 0 && p.src[0] < len(toks) {
			b.WriteString(toks[p.src[0]])
		}
		return
	}
	tok := toks[p.src[0]]
	n := int(p.n)
	inside := n > 0 && n < len(tok)
	switch {
	case p.kind == fnSplit:
		writeSplit(b, tok, p.sep)
	case !inside:
		b.WriteString(tok)
	case p.kind == fnSplitFromLeft:
		b.WriteString(tok[:n] + "." + tok[n:])
	case p.kind == fnSplitFromRight:
		b.WriteString(tok[:len(tok)-n] + "." + tok[len(tok)-n:])
	case p.kind == fnSliceFromLeft:
		for i := 0; i < len(tok); i += n {
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(tok[i:min(i+n, len(tok))])
		}
	case p.kind == fnSliceFromRight:
		first := len(tok) % n
		if first == 0 {
			first = n
		}
		b.WriteString(tok[:first])
		for i := first; i < len(tok); i += n {
			b.WriteString("." + tok[i:i+n])
		}
	case p.kind == fnLeft:
		b.WriteString(tok[:n])
	case p.kind == fnRight:
		b.WriteString(tok[len(tok)-n:])
	}
}

// writeSplit splits tok at each sep. Empty pieces are dropped; a separator goes between a
// piece and a non-empty next one, except after an empty first piece (so "--b" split at "-" is
// ".b", as the server makes it).
func writeSplit(b *strings.Builder, tok, sep string) {
	pieces := strings.Split(tok, sep)
	for j, piece := range pieces {
		b.WriteString(piece)
		if j+1 < len(pieces) && pieces[j+1] != "" && (j > 0 || piece != "") {
			b.WriteByte('.')
		}
	}
}

// partition is the bucket nats-server's partition function gives key: FNV-1a, 32 bits.
func partition(key []byte, buckets int32) string {
	if buckets == 0 {
		return "0"
	}
	h := fnv.New32a()
	_, _ = h.Write(key)
	return strconv.FormatUint(uint64(h.Sum32()%uint32(buckets)), 10)
}
