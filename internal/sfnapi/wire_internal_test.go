package sfnapi

import (
	"testing"
	"time"
)

func TestCheckArn(t *testing.T) {
	tests := []struct {
		arn      string
		resource string
		msg      string // "" when valid
	}{
		{"arn:aws:states:us-east-1:123456789012:stateMachine:M", stateMachineResource, ""},
		{"arn:aws:states:us-east-1:123456789012:stateMachine:M#HappyPath", stateMachineResource, ""},
		{"arn:aws:states:us-east-1:123456789012:execution:M:e", executionResource, ""},
		{"arn:aws-cn:states:cn-north-1:123456789012:execution:M:e", executionResource, ""},
		{"M", stateMachineResource, "Invalid Arn: 'Invalid ARN prefix: M'"},
		{"arn:aws:states:us-east-1", stateMachineResource, "Invalid Arn: 'Invalid ARN prefix: arn:aws:states:us-east-1'"},
		{"arn:aws:lambda:us-east-1:123456789012:function:f", stateMachineResource, "Invalid Arn: 'Service not valid in this context: lambda'"},
		{"arn:aws:states:us-east-1:123456789012:execution:M:e", stateMachineResource, "Invalid Arn: 'Resource type not valid in this context: execution'"},
		{"arn:aws:states:us-east-1:123456789012:stateMachine:M", executionResource, "Invalid Arn: 'Resource type not valid in this context: stateMachine'"},
		{"arn:aws:states:us-east-1:123456789012:stateMachine:", stateMachineResource, "Invalid Arn: 'Resource name not valid in this context: arn:aws:states:us-east-1:123456789012:stateMachine:'"},
		{"arn:aws:states:us-east-1:123456789012:execution:M", executionResource, "Invalid Arn: 'Resource name not valid in this context: arn:aws:states:us-east-1:123456789012:execution:M'"},
		{"arn:aws:states:us-east-1:123456789012:execution::e", executionResource, "Invalid Arn: 'Resource name not valid in this context: arn:aws:states:us-east-1:123456789012:execution::e'"},
	}
	for _, tt := range tests {
		t.Run(tt.arn, func(t *testing.T) {
			err := checkArn("arn", &tt.arn, tt.resource)
			switch {
			case tt.msg == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.msg != "" && (err == nil || err.(*Error).Code != "InvalidArn" || err.(*Error).Message != tt.msg):
				t.Fatalf("error %v, want InvalidArn: %s", err, tt.msg)
			}
		})
	}
}

func TestSortKeys(t *testing.T) {
	nums := []int64{-5, -1, 0, 1, 7, 1 << 40}
	for i := 1; i < len(nums); i++ {
		if !(ascending(nums[i-1], "x") < ascending(nums[i], "x")) {
			t.Errorf("ascending(%d) does not sort before ascending(%d)", nums[i-1], nums[i])
		}
		if !(descending(nums[i-1], "x") > descending(nums[i], "x")) {
			t.Errorf("descending(%d) does not sort after descending(%d)", nums[i-1], nums[i])
		}
	}
	if !(ascending(3, "a") < ascending(3, "b")) {
		t.Error("ties are not ordered by name")
	}
}

func TestRedriveTokensForgetOldest(t *testing.T) {
	r := newRedriveTokens(2)
	at := time.Unix(1700000000, 0)
	for _, key := range []string{"a", "b", "c"} {
		r.add(key, at)
	}
	tests := []struct {
		key  string
		kept bool
	}{{"a", false}, {"b", true}, {"c", true}}
	for _, tt := range tests {
		if _, ok := r.dates[tt.key]; ok != tt.kept {
			t.Errorf("token %s kept %v, want %v", tt.key, ok, tt.kept)
		}
	}
}
