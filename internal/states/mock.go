package states

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// MockConfig is a mock configuration in the MockConfigFile format of AWS
// Step Functions Local:
//
//	{"StateMachines": {"<machine>": {"TestCases": {"<case>": {"<state>": "<mock>"}}}},
//	 "MockedResponses": {"<mock>": {"0": {"Return": ...}, "1-2": {"Throw": {"Error": ..., "Cause": ...}}}}}
//
// The n-th invocation (from 0, retries included) of a Task state in an
// execution takes the response whose key covers n.
type MockConfig struct {
	machines  map[string]map[string]map[string]string
	responses map[string][]mockRange
}

type mockRange struct {
	from, to int
	resp     *mockResponse
}

type mockResponse struct {
	Return any
	Throw  *mockThrow
}

type mockThrow struct {
	Error *string
	Cause *string
}

// ParseMockConfig reads a MockConfigFile.
func ParseMockConfig(data []byte) (*MockConfig, error) {
	var raw struct {
		StateMachines map[string]struct {
			TestCases map[string]map[string]string
		}
		MockedResponses map[string]map[string]json.RawMessage
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("mock config: %w", err)
	}
	c := &MockConfig{machines: map[string]map[string]map[string]string{}, responses: map[string][]mockRange{}}
	for name, m := range raw.StateMachines {
		c.machines[name] = m.TestCases
	}
	for name, byKey := range raw.MockedResponses {
		keys := make([]string, 0, len(byKey))
		for k := range byKey {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			from, to, err := parseMockKey(k)
			if err != nil {
				return nil, fmt.Errorf("mock config: MockedResponses.%s.%s: %w", name, k, err)
			}
			resp, err := parseMockResponse(byKey[k])
			if err != nil {
				return nil, fmt.Errorf("mock config: MockedResponses.%s.%s: %w", name, k, err)
			}
			c.responses[name] = append(c.responses[name], mockRange{from: from, to: to, resp: resp})
		}
	}
	for mname, cases := range c.machines {
		for cname, states := range cases {
			for state, mock := range states {
				if _, ok := c.responses[mock]; !ok {
					return nil, fmt.Errorf("mock config: StateMachines.%s.TestCases.%s.%s names the missing mocked response %q",
						mname, cname, state, mock)
				}
			}
		}
	}
	return c, nil
}

// parseMockKey reads "3" or "1-2".
func parseMockKey(k string) (int, int, error) {
	a, b, isRange := strings.Cut(k, "-")
	from, err := strconv.Atoi(a)
	if err != nil || from < 0 {
		return 0, 0, fmt.Errorf("the key must be an invocation number or a range such as 1-2")
	}
	to := from
	if isRange {
		if to, err = strconv.Atoi(b); err != nil || to < from {
			return 0, 0, fmt.Errorf("the key must be an invocation number or a range such as 1-2")
		}
	}
	return from, to, nil
}

func parseMockResponse(raw json.RawMessage) (*mockResponse, error) {
	v, err := decode(raw)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a mocked response must be an object with Return or Throw")
	}
	ret, hasReturn := m["Return"]
	throw, hasThrow := m["Throw"]
	if hasReturn == hasThrow {
		return nil, fmt.Errorf("a mocked response needs exactly one of Return and Throw")
	}
	if hasReturn {
		return &mockResponse{Return: ret}, nil
	}
	t, ok := throw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the Throw field must be an object with Error and Cause")
	}
	th := &mockThrow{}
	for key, dst := range map[string]**string{"Error": &th.Error, "Cause": &th.Cause} {
		if v, ok := t[key]; ok && v != nil {
			s, isStr := v.(string)
			if !isStr {
				return nil, fmt.Errorf("the Throw field %s must be a string", key)
			}
			*dst = &s
		}
	}
	return &mockResponse{Throw: th}, nil
}

// Machines returns the state machine names of the configuration.
func (c *MockConfig) Machines() []string {
	out := make([]string, 0, len(c.machines))
	for name := range c.machines {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Mocks are the mocked responses of one test case.
type Mocks struct {
	testCase string
	states   map[string][]mockRange
}

// TestCase returns the mocked responses of a test case of a state machine.
func (c *MockConfig) TestCase(machine, testCase string) (*Mocks, error) {
	if c == nil {
		return nil, fmt.Errorf("test case %q requested but no mock config is loaded", testCase)
	}
	cases, ok := c.machines[machine]
	if !ok {
		return nil, fmt.Errorf("the mock config has no state machine %q", machine)
	}
	states, ok := cases[testCase]
	if !ok {
		return nil, fmt.Errorf("the mock config has no test case %q for state machine %q", testCase, machine)
	}
	m := &Mocks{testCase: testCase, states: map[string][]mockRange{}}
	for state, mock := range states {
		m.states[state] = c.responses[mock]
	}
	return m, nil
}

func (m *Mocks) response(state string, n int) (*mockResponse, error) {
	ranges, ok := m.states[state]
	if !ok {
		return nil, fmt.Errorf("the test case %q has no mocked response for the state '%s', and mocked executions call no real service", m.testCase, state)
	}
	for _, r := range ranges {
		if n >= r.from && n <= r.to {
			return r.resp, nil
		}
	}
	return nil, fmt.Errorf("the test case %q has no mocked response for invocation %d of the state '%s'", m.testCase, n, state)
}

// mockCall counts an invocation of a Task state and returns its number.
func (x *execution) mockCall(state string) int {
	n := x.mockCalls[state]
	x.mockCalls[state] = n + 1
	return n
}
