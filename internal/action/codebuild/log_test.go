package codebuild

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestBuildLogMasksSecrets(t *testing.T) {
	const key = "-----BEGIN PRIVATE KEY-----\r\nMIIEvQIBADANBgkqhkiG9w0B\nAQEFAASCBKcwggSjAgEAAoIB\n-----END PRIVATE KEY-----\n"
	tests := []struct {
		name    string
		secrets []string
		output  string
		want    string
	}{
		{"a secret", []string{"hunter2"}, "password hunter2 ok\n", "password *** ok\n"},
		{"a secret of several lines", []string{key}, "key:\n" + strings.ReplaceAll(key, "\r", ""),
			"key:\n***\n***\n***\n***\n"},
		{"one line of a secret of several lines", []string{key}, "AQEFAASCBKcwggSjAgEAAoIB\n", "***\n"},
		{"a secret that holds another", []string{"abc", "abcdef"}, "abcdef and abc\n", "*** and ***\n"},
		{"empty values hide nothing", []string{"", "\n"}, "plain\n", "plain\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			l := newBuildLog(&out, time.Now)
			l.mask(tt.secrets...)
			if _, err := l.Write([]byte(tt.output)); err != nil {
				t.Fatal(err)
			}
			if got := out.String(); got != tt.want {
				t.Errorf("log %q, want %q", got, tt.want)
			}
		})
	}
}
