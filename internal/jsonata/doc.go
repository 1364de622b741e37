// Package jsonata evaluates JSONata expressions for the JSONata query language
// of the embedded Step Functions engine: the "{% %}" strings of JSONata-mode
// states (Arguments, Output, Assign, Condition, Items, ...), with $states and
// the workflow variables bound, and the functions Step Functions adds
// ($partition, $range, $hash, $random with a seed, $uuid, $parse).
//
// # Why this is written here
//
// Step Functions implements JSONata 2.0.6 (AWS's documentation names that
// version), without $eval. The Go libraries on the module proxy implement
// JSONata 1.x: github.com/blues/jsonata-go (1.5.4, unmaintained) and its fork
// github.com/xiatechs/jsonata-go (1.8.8). Measured against what the engine
// needs, both lack the parent operator (%), the focus and index bindings (@,
// #), $formatInteger and $parseInteger, and JavaScript regular expressions
// (they use RE2, without lookaround or backreferences); both refuse
// arithmetic on json.Number input, and the fork evaluates $eval and prints
// $string(0.1+0.2) differently from JSONata. So this package is its own
// parser and evaluator of the JSONata 2.0 grammar and standard library, written
// from the JSONata documentation, with regexp2 (ECMAScript mode) as its regular
// expression engine. Its behaviour was checked against the JSONata 2.0.6
// reference implementation expression by expression (testdata/cases.json).
//
// # Values
//
// Values cross the package boundary as encoding/json decodes them with
// UseNumber: nil, bool, string, json.Number, []any, map[string]any. Numbers
// read from the input stay json.Number until arithmetic touches them, so large
// integers keep their digits; computed numbers are returned as json.Number in
// JavaScript's notation (integers without a decimal point). Inside, undefined
// (no value) is distinct from null, and objects built by an expression keep
// their key order. Input objects carry no order, so functions that list keys
// ($keys, $each, $spread, $string) take an input object's keys in sorted order.
//
// # Where AWS differs from the JSONata reference
//
// Non-finite results are returned as the strings "Infinity", "-Infinity" and
// "NaN", as AWS writes them. Evaluation nests at most 100 levels (AWS's
// ceiling; tail calls run in a loop and do not count), runs at most five
// seconds, and one built value may hold at most 6,990,256 bytes. $base64encode
// and $base64decode use UTF-8. $range collapses a one-number range to the
// number, and its arguments, like $partition's, are truncated towards zero.
//
// # Errors
//
// Syntax and evaluation errors are *Error with the JSONata code and message.
// The field-level helpers (Template, EvalField, UndefinedError, TypeError)
// return *QueryError, a States.QueryEvaluationError whose cause is worded as
// AWS words it.
package jsonata
