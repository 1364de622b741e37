package jsonata

import "github.com/sluice-ci/sluice/internal/numtext"

// The parser is a Pratt (top-down operator precedence) parser over the JSONata
// grammar, followed by process, which rewrites the raw tree into paths, stages,
// groups and tuple bindings the way the JSONata reference describes them.

var leftBindingPower = map[string]int{
	".": 75, "[": 80, "{": 70, "(": 80, "@": 80, "#": 80, "?": 20,
	"+": 50, "-": 50, "*": 60, "/": 60, "%": 60, "=": 40, "<": 40, ">": 40,
	"^": 40, ":=": 10, "!=": 40, "<=": 40, ">=": 40, "~>": 40,
	"and": 30, "or": 25, "in": 40, "&": 50,
}

// knownOperators are the operator tokens the grammar has a symbol for.
var knownOperators = map[string]bool{
	".": true, "[": true, "]": true, "{": true, "}": true, "(": true, ")": true, ",": true,
	"@": true, "#": true, ";": true, ":": true, "?": true, "+": true, "-": true, "*": true,
	"/": true, "%": true, "|": true, "=": true, "<": true, ">": true, "^": true, "**": true,
	"..": true, ":=": true, "!=": true, "<=": true, ">=": true, "~>": true, "and": true,
	"or": true, "in": true, "&": true,
}

// maxParseDepth bounds the nesting of the expression text.
const maxParseDepth = 500

type parser struct {
	lex   lexer
	tok   token
	depth int
}

func (p *parser) lbp() int {
	if p.tok.kind != tokOperator {
		return 0
	}
	return leftBindingPower[p.tok.text]
}

func (p *parser) is(op string) bool {
	return p.tok.kind == tokOperator && p.tok.text == op
}

// advance checks that the current token is op (when op is not empty) and reads
// the next one. infix is true when the next token follows an operand.
func (p *parser) advance(op string, infix bool) error {
	if op != "" && !p.is(op) {
		if p.tok.kind == tokEnd {
			return &Error{Code: "S0203", Position: p.tok.pos, Value: op}
		}
		return &Error{Code: "S0202", Position: p.tok.pos, Value: op, Token: p.tokenValue()}
	}
	t, err := p.lex.next(!infix)
	if err != nil {
		return err
	}
	if t.kind == tokOperator && !knownOperators[t.text] {
		return &Error{Code: "S0204", Position: t.pos, Token: t.text}
	}
	p.tok = t
	return nil
}

// tokenValue is the current token as JSONata shows it in a syntax error.
func (p *parser) tokenValue() any {
	switch p.tok.kind {
	case tokNumber:
		return p.tok.num
	case tokValue:
		return p.tok.value
	case tokRegex:
		return "/" + p.tok.regex.pattern + "/"
	case tokEnd:
		return "(end)"
	}
	return p.tok.text
}

func (t token) lexText() string {
	if t.text != "" {
		return t.text
	}
	return numtext.JavaScript(t.num)
}

func (p *parser) expression(rbp int) (*node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxParseDepth {
		return nil, &Error{Code: "S0500", Position: p.tok.pos, Message: "Expression is nested too deeply"}
	}
	t := p.tok
	if err := p.advance("", true); err != nil {
		return nil, err
	}
	left, err := p.nud(t)
	if err != nil {
		return nil, err
	}
	for rbp < p.lbp() {
		t = p.tok
		if err := p.advance("", false); err != nil {
			return nil, err
		}
		left, err = p.led(t, left)
		if err != nil {
			return nil, err
		}
	}
	return left, nil
}

func (p *parser) nud(t token) (*node, error) {
	switch t.kind {
	case tokEnd:
		return nil, &Error{Code: "S0207", Position: t.pos}
	case tokName:
		return &node{kind: kName, op: t.text, pos: t.pos}, nil
	case tokVariable:
		return &node{kind: kVariable, op: t.text, pos: t.pos}, nil
	case tokString:
		return &node{kind: kString, op: t.text, pos: t.pos}, nil
	case tokNumber:
		return &node{kind: kNumber, num: t.num, pos: t.pos}, nil
	case tokValue:
		return &node{kind: kValue, value: t.value, pos: t.pos}, nil
	case tokRegex:
		re, err := compileRegex(t.regex, t.pos)
		if err != nil {
			return nil, err
		}
		return &node{kind: kRegex, regex: re, pos: t.pos}, nil
	}
	n := &node{pos: t.pos, op: t.text}
	switch t.text {
	case "and", "or", "in":
		n.kind = kOperator
		return n, nil
	case "-":
		operand, err := p.expression(70)
		if err != nil {
			return nil, err
		}
		n.kind = kUnary
		n.expr = operand
		return n, nil
	case "*":
		n.kind = kWildcard
		return n, nil
	case "**":
		n.kind = kDescendant
		return n, nil
	case "%":
		n.kind = kParent
		return n, nil
	case "(":
		n.kind = kBlock
		for !p.is(")") {
			e, err := p.expression(0)
			if err != nil {
				return nil, err
			}
			n.exprs = append(n.exprs, e)
			if !p.is(";") {
				break
			}
			if err := p.advance(";", false); err != nil {
				return nil, err
			}
		}
		return n, p.advance(")", true)
	case "[":
		n.kind = kUnary
		if !p.is("]") {
			for {
				item, err := p.expression(0)
				if err != nil {
					return nil, err
				}
				if p.is("..") {
					rng := &node{kind: kBinary, op: "..", pos: p.tok.pos, lhs: item}
					if err := p.advance("..", false); err != nil {
						return nil, err
					}
					if rng.rhs, err = p.expression(0); err != nil {
						return nil, err
					}
					item = rng
				}
				n.exprs = append(n.exprs, item)
				if !p.is(",") {
					break
				}
				if err := p.advance(",", false); err != nil {
					return nil, err
				}
			}
		}
		return n, p.advance("]", true)
	case "{":
		pairs, err := p.objectPairs()
		if err != nil {
			return nil, err
		}
		n.kind = kUnary
		n.pairs = pairs
		return n, nil
	case "|":
		n.kind = kTransform
		var err error
		if n.lhs, err = p.expression(0); err != nil {
			return nil, err
		}
		if err := p.advance("|", false); err != nil {
			return nil, err
		}
		if n.update, err = p.expression(0); err != nil {
			return nil, err
		}
		if p.is(",") {
			if err := p.advance(",", false); err != nil {
				return nil, err
			}
			if n.del, err = p.expression(0); err != nil {
				return nil, err
			}
		}
		return n, p.advance("|", false)
	}
	return nil, &Error{Code: "S0211", Position: t.pos, Token: t.text}
}

func (p *parser) objectPairs() ([][2]*node, error) {
	var pairs [][2]*node
	if !p.is("}") {
		for {
			k, err := p.expression(0)
			if err != nil {
				return nil, err
			}
			if err := p.advance(":", false); err != nil {
				return nil, err
			}
			v, err := p.expression(0)
			if err != nil {
				return nil, err
			}
			pairs = append(pairs, [2]*node{k, v})
			if !p.is(",") {
				break
			}
			if err := p.advance(",", false); err != nil {
				return nil, err
			}
		}
	}
	return pairs, p.advance("}", true)
}

func (p *parser) led(t token, left *node) (*node, error) {
	n := &node{kind: kBinary, op: t.text, pos: t.pos, lhs: left}
	var err error
	switch t.text {
	case "(":
		return p.call(n, left)
	case "[":
		if p.is("]") {
			step := left
			for step.kind == kBinary && step.op == "[" {
				step = step.lhs
			}
			step.keepArray = true
			return left, p.advance("]", true)
		}
		if n.rhs, err = p.expression(0); err != nil {
			return nil, err
		}
		return n, p.advance("]", true)
	case "^":
		if err := p.advance("(", false); err != nil {
			return nil, err
		}
		for {
			term := sortTerm{}
			if p.is("<") {
				if err := p.advance("<", false); err != nil {
					return nil, err
				}
			} else if p.is(">") {
				term.descending = true
				if err := p.advance(">", false); err != nil {
					return nil, err
				}
			}
			if term.expr, err = p.expression(0); err != nil {
				return nil, err
			}
			n.terms = append(n.terms, term)
			if !p.is(",") {
				break
			}
			if err := p.advance(",", false); err != nil {
				return nil, err
			}
		}
		return n, p.advance(")", false)
	case "{":
		if n.pairs, err = p.objectPairs(); err != nil {
			return nil, err
		}
		return n, nil
	case ":=":
		if left.kind != kVariable {
			return nil, &Error{Code: "S0212", Position: left.pos, Token: left.op}
		}
		if n.rhs, err = p.expression(leftBindingPower[":="] - 1); err != nil {
			return nil, err
		}
		return n, nil
	case "@", "#":
		if n.rhs, err = p.expression(leftBindingPower[t.text]); err != nil {
			return nil, err
		}
		if n.rhs.kind != kVariable {
			return nil, &Error{Code: "S0214", Position: n.rhs.pos, Token: t.text}
		}
		return n, nil
	case "?":
		n.kind = kCondition
		n.cond = left
		if n.then, err = p.expression(0); err != nil {
			return nil, err
		}
		if p.is(":") {
			if err := p.advance(":", false); err != nil {
				return nil, err
			}
			if n.els, err = p.expression(0); err != nil {
				return nil, err
			}
		}
		return n, nil
	}
	bp, ok := leftBindingPower[t.text]
	if !ok {
		return nil, &Error{Code: "S0201", Position: t.pos, Token: t.text}
	}
	if n.rhs, err = p.expression(bp); err != nil {
		return nil, err
	}
	return n, nil
}

// call parses the arguments of a function call, a partial application or a
// lambda definition (function($x){...}).
func (p *parser) call(n, left *node) (*node, error) {
	n.kind = kFunction
	n.procedure = left
	n.lhs = nil
	if !p.is(")") {
		for {
			if p.is("?") {
				n.kind = kPartial
				n.args = append(n.args, &node{kind: kOperator, op: "?", pos: p.tok.pos})
				if err := p.advance("?", false); err != nil {
					return nil, err
				}
			} else {
				arg, err := p.expression(0)
				if err != nil {
					return nil, err
				}
				n.args = append(n.args, arg)
			}
			if !p.is(",") {
				break
			}
			if err := p.advance(",", false); err != nil {
				return nil, err
			}
		}
	}
	if err := p.advance(")", true); err != nil {
		return nil, err
	}
	if left.kind != kName || (left.op != "function" && left.op != "λ") {
		return n, nil
	}
	n.kind = kLambda
	for i, a := range n.args {
		if a.kind != kVariable {
			return nil, &Error{Code: "S0208", Position: a.pos, Token: a.op, Value: i + 1}
		}
		n.params = append(n.params, a.op)
	}
	n.args = nil
	if p.is("<") {
		sigPos := p.tok.pos
		depth := 1
		sig := "<"
		for depth > 0 && !p.is("{") && p.tok.kind != tokEnd {
			if err := p.advance("", false); err != nil {
				return nil, err
			}
			if p.is(">") {
				depth--
			} else if p.is("<") {
				depth++
			}
			sig += p.rawText()
		}
		if err := p.advance(">", false); err != nil {
			return nil, err
		}
		s, err := parseSignature(sig)
		if err != nil {
			if e, ok := err.(*Error); ok {
				e.Position += sigPos
			}
			return nil, err
		}
		n.sig = s
	}
	if err := p.advance("{", false); err != nil {
		return nil, err
	}
	body, err := p.expression(0)
	if err != nil {
		return nil, err
	}
	n.body = body
	return n, p.advance("}", false)
}

// rawText is the source text of the current token, for signatures.
func (p *parser) rawText() string {
	switch p.tok.kind {
	case tokNumber:
		return p.tok.lexText()
	case tokValue:
		return jsString(p.tok.value)
	}
	return p.tok.text
}

// parse parses a whole expression and processes it into the evaluated tree.
func parse(src string) (*node, error) {
	p := &parser{lex: lexer{src: src}}
	if err := p.advance("", false); err != nil {
		return nil, err
	}
	raw, err := p.expression(0)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEnd {
		return nil, &Error{Code: "S0201", Position: p.tok.pos, Token: p.tokenValue()}
	}
	pr := &processor{}
	return pr.process(raw)
}
