package jsonata

// nodeKind is the type of a syntax tree node. The parser first builds a raw
// tree (binary '.', '[', '{', '^', ':=', '@', '#', '~>' are kBinary), which
// process turns into the evaluated tree (paths, stages, groups, tuples).
type nodeKind int

const (
	kString nodeKind = iota
	kNumber
	kValue // true, false, null
	kRegex
	kName
	kVariable
	kWildcard
	kDescendant
	kParent
	kBinary
	kUnary // '-', '[' (array constructor), '{' (object constructor)
	kFunction
	kPartial
	kLambda
	kCondition
	kTransform
	kBlock
	kOperator // 'and', 'or', 'in' used as names, and '?' placeholders
	kPath
	kBind
	kApply
	kSort
)

type sortTerm struct {
	expr       *node
	descending bool
}

// stage is a filter predicate or an index binding applied to a step.
type stage struct {
	filter *node  // nil for an index stage
	index  string // variable name for an index stage
	pos    int
}

type groupSpec struct {
	pairs [][2]*node
	pos   int
}

// slot is a parent (%) reference being resolved to the step that binds it.
type slot struct {
	label string
	level int
	index int
}

type node struct {
	kind  nodeKind
	pos   int
	op    string  // operator of kBinary/kUnary, name of kName/kVariable, string value
	num   float64 // kNumber
	value any     // kValue
	regex *regexValue

	lhs, rhs  *node
	expr      *node      // operand of unary '-'
	exprs     []*node    // array constructor items, block expressions
	pairs     [][2]*node // object constructor pairs
	steps     []*node    // path steps
	procedure *node
	args      []*node
	params    []string
	sig       *signature
	body      *node
	cond      *node
	then      *node
	els       *node
	update    *node
	del       *node
	terms     []sortTerm

	predicate []stage
	stages    []stage
	group     *groupSpec

	keepArray          bool
	keepSingletonArray bool
	consarray          bool
	focus              string
	index              string
	tuple              bool
	ancestor           *slot
	slot               *slot
	seekingParent      []*slot
	thunk              bool
}
