package pipeline

import "strings"

// The character sets of the API model's name patterns. They are checked by
// hand rather than with regexp: validation runs over thousands of names and
// a byte loop is an order of magnitude faster.
const (
	// [A-Za-z0-9.@\-_]+: pipeline, stage, action and rule names.
	nameChars = ".@-_"
	// [a-zA-Z0-9_\-]+: artifact names.
	artifactChars = "_-"
	// [A-Za-z0-9@\-_]+: namespaces and pipeline variable names.
	namespaceChars = "@-_"
	// [A-Za-z0-9_]+: environment variable names.
	envChars = "_"
	// [0-9A-Za-z_-]+: action providers and versions.
	providerChars = "_-"
	// [a-zA-Z0-9\-\.]+: artifact store buckets.
	bucketChars = "-."
	// [a-zA-Z0-9!@ \(\)\.\*\?\-]+: the reason a transition is disabled.
	reasonChars = "!@ ().*?-"
)

// fitsPattern reports whether s is made only of letters, digits and extra.
func fitsPattern(s, extra string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if strings.IndexByte(extra, c) < 0 {
			return false
		}
	}
	return true
}

// describeChars says in words which characters a pattern allows.
func describeChars(extra string) string {
	if extra == "" {
		return "letters and digits"
	}
	words := make([]string, 0, len(extra))
	for _, c := range extra {
		words = append(words, "'"+string(c)+"'")
	}
	return "letters, digits and " + strings.Join(words, " ")
}

// badChar returns the first character of s outside the pattern, quoted.
func badChar(s, extra string) string {
	for _, r := range s {
		if r < 128 && fitsPattern(string(r), extra) {
			continue
		}
		return "'" + string(r) + "'"
	}
	return ""
}

// isRoleArn checks the API model's role ARN pattern,
// arn:aws(-[\w]+)*:iam::[0-9]{12}:role/.*, by hand.
func isRoleArn(s string) bool {
	rest, ok := strings.CutPrefix(s, "arn:aws")
	if !ok {
		return false
	}
	partition, rest, ok := strings.Cut(rest, ":")
	if !ok {
		return false
	}
	for partition != "" {
		var part string
		if partition[0] != '-' {
			return false
		}
		part, partition, _ = strings.Cut(partition[1:], "-")
		if part == "" || !fitsPattern(part, "_") {
			return false
		}
		if partition != "" {
			partition = "-" + partition
		}
	}
	rest, ok = strings.CutPrefix(rest, "iam::")
	if !ok || len(rest) < 13 || rest[12] != ':' {
		return false
	}
	for i := range 12 {
		if rest[i] < '0' || rest[i] > '9' {
			return false
		}
	}
	return strings.HasPrefix(rest[13:], "role/")
}
