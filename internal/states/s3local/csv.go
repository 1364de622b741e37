package s3local

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// csvReader reads the records of a text delimited file as Step Functions
// parses them: fields separated by delim, records by newlines (\n, \r\n or
// \r); a double quote starts or ends a quoted part anywhere in a field,
// within which the delimiter and newlines are text and "" is a quote; a
// backslash escapes a backslash, a quote or the delimiter, and is dropped
// before any other character.
type csvReader struct {
	r     *bufio.Reader
	delim rune
	line  int // the line the next record starts on, from 1
}

// record returns the next record that is not a blank line, and how many
// bytes it took; io.EOF after the last.
func (c *csvReader) record() ([]string, int, error) {
	for {
		rec, size, blank, err := c.read()
		if err != nil || !blank {
			return rec, size, err
		}
	}
}

func (c *csvReader) read() (rec []string, size int, blank bool, err error) {
	start := c.line
	var field strings.Builder
	quoted, started := false, false
	end := func() {
		rec = append(rec, field.String())
		field.Reset()
	}
	for {
		r, n, rerr := c.r.ReadRune()
		if rerr == io.EOF {
			if quoted {
				return nil, size, false, fmt.Errorf("line %d: a quoted field is not closed", start)
			}
			if !started {
				return nil, size, false, io.EOF
			}
			end()
			c.line++
			return rec, size, len(rec) == 1 && rec[0] == "", nil
		}
		if rerr != nil {
			return nil, size, false, rerr
		}
		size += n
		started = true
		if size > maxItemBytes {
			return nil, size, false, fmt.Errorf("line %d: a record longer than %d bytes", start, maxItemBytes)
		}
		switch {
		case r == '"' && quoted:
			if c.skip('"') {
				size++
				field.WriteRune('"')
			} else {
				quoted = false
			}
		case r == '"':
			quoted = true
		case r == '\\':
			next, m, nerr := c.r.ReadRune()
			if nerr != nil {
				continue
			}
			size += m
			if next == '\n' {
				c.line++
			}
			field.WriteRune(next)
		case quoted:
			if r == '\n' {
				c.line++
			}
			field.WriteRune(r)
		case r == c.delim:
			end()
		case r == '\n' || r == '\r':
			if r == '\r' && c.skip('\n') {
				size++
			}
			end()
			c.line++
			return rec, size, len(rec) == 1 && rec[0] == "", nil
		default:
			field.WriteRune(r)
		}
	}
}

// skip reads the next character if it is want, and reports whether it
// was.
func (c *csvReader) skip(want rune) bool {
	r, _, err := c.r.ReadRune()
	if err != nil {
		return false
	}
	if r != want {
		_ = c.r.UnreadRune()
		return false
	}
	return true
}

// readCSV reads a text delimited file into items: each record becomes an
// object from the headers to its fields, all strings. A record with fewer
// fields than headers gets empty strings, one with more loses the extra
// ones. Without headers given, the first record holds them.
func readCSV(r io.Reader, delim rune, headers []string, out *items) error {
	c := &csvReader{r: bufio.NewReader(r), delim: delim, line: 1}
	if headers == nil {
		rec, size, err := c.record()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if size > maxHeaderBytes {
			return fmt.Errorf("CSV headers cannot be longer than %d bytes", maxHeaderBytes)
		}
		headers = rec
	}
	seen := make(map[string]bool, len(headers))
	for _, h := range headers {
		if seen[h] {
			return errDuplicateHeader
		}
		seen[h] = true
	}
	var obj bytes.Buffer
	for !out.full() {
		rec, _, err := c.record()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		obj.Reset()
		obj.WriteByte('{')
		for i, h := range headers {
			v := ""
			if i < len(rec) {
				v = rec[i]
			}
			if i > 0 {
				obj.WriteByte(',')
			}
			writeString(&obj, h)
			obj.WriteByte(':')
			writeString(&obj, v)
		}
		obj.WriteByte('}')
		out.add(obj.Bytes())
	}
	return nil
}

func writeString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s)
	b.Write(enc)
}
