package lambda

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Function is a local function: its executable and its configuration.
type Function struct {
	// Name is the function's name, without ARN or qualifier.
	Name string
	// Path is the executable: <dir>/<Name>/bootstrap or <dir>/<Name>.
	Path string
	// Root is the folder that holds the executable: the function's
	// LAMBDA_TASK_ROOT and working directory.
	Root   string
	Config Config

	// stamp changes when the executable or the configuration file does:
	// environments of an older stamp are not reused.
	stamp string
}

// Config is the optional configuration file <dir>/<Name>.json, a subset of
// Lambda's FunctionConfiguration with its member names:
//
//	{"Timeout": 30, "MemorySize": 256, "Handler": "bootstrap",
//	 "Environment": {"Variables": {"STAGE": "local"}}}
type Config struct {
	// Timeout is how long an invocation may run, in seconds (1 to 900).
	// Zero means DefaultTimeout.
	Timeout int `json:"Timeout,omitempty"`
	// MemorySize is what AWS_LAMBDA_FUNCTION_MEMORY_SIZE says, in MB (128
	// to 10240; 128 when zero). Nothing enforces it locally.
	MemorySize int `json:"MemorySize,omitempty"`
	// Handler is _HANDLER ("bootstrap" when empty).
	Handler     string       `json:"Handler,omitempty"`
	Environment *Environment `json:"Environment,omitempty"`
}

// Environment is a function's own environment variables.
type Environment struct {
	Variables map[string]string `json:"Variables"`
}

// Defaults of a function without configuration. The timeout is Lambda's
// longest rather than its 3-second default, since a local function has no
// console to raise it from.
const (
	DefaultTimeout    = 900 * time.Second
	DefaultMemorySize = 128
	DefaultHandler    = "bootstrap"
)

// timeout is the configured timeout, or the default.
func (c Config) timeout() time.Duration {
	if c.Timeout == 0 {
		return DefaultTimeout
	}
	return time.Duration(c.Timeout) * time.Second
}

func (c Config) memorySize() int {
	if c.MemorySize == 0 {
		return DefaultMemorySize
	}
	return c.MemorySize
}

func (c Config) handler() string {
	if c.Handler == "" {
		return DefaultHandler
	}
	return c.Handler
}

// reserved are the environment variables Lambda sets itself and refuses in
// a function's configuration.
var reserved = []string{
	"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
	"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
	"AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
	"AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
}

var envName = regexp.MustCompile(`^[a-zA-Z]([a-zA-Z0-9_])+$`)

// check reports the first thing wrong with a configuration read from file.
func (c Config) check(file string) error {
	switch {
	case c.Timeout < 0 || c.Timeout > 900:
		return fmt.Errorf("%s: Timeout is %d, want 1 to 900 seconds", file, c.Timeout)
	case c.MemorySize != 0 && (c.MemorySize < 128 || c.MemorySize > 10240):
		return fmt.Errorf("%s: MemorySize is %d, want 128 to 10240 MB", file, c.MemorySize)
	}
	if c.Environment == nil {
		return nil
	}
	names := make([]string, 0, len(c.Environment.Variables))
	for k := range c.Environment.Variables {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		if !envName.MatchString(k) {
			return fmt.Errorf("%s: Environment.Variables: %q is not a valid variable name", file, k)
		}
		if slices.Contains(reserved, k) {
			return fmt.Errorf("%s: Environment.Variables: %s is reserved by Lambda", file, k)
		}
	}
	return nil
}

// functionName is Lambda's pattern of a function's name.
var functionName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// ParseName returns the function's name from what the FunctionName
// property may hold: a name, a name with a version or alias qualifier
// ("fn:live"), or a function ARN, with or without qualifier.
func ParseName(s string) (string, error) {
	name := s
	if rest, ok := strings.CutPrefix(s, "arn:"); ok {
		// arn:partition:lambda:region:account:function:name[:qualifier]
		parts := strings.Split(rest, ":")
		if len(parts) < 6 || parts[1] != "lambda" || parts[4] != "function" {
			return "", fmt.Errorf("FunctionName %q is not a Lambda function ARN", s)
		}
		name = parts[5]
	} else {
		name, _, _ = strings.Cut(s, ":")
	}
	if !functionName.MatchString(name) {
		return "", fmt.Errorf("FunctionName %q: a function name is 1 to 64 letters, digits, hyphens and underscores", s)
	}
	return name, nil
}

// ErrNoFunction is wrapped by Locate when the folder holds no executable of
// the function.
var ErrNoFunction = errors.New("no local function")

// Locate finds the function named by a FunctionName property in dir: the
// executable <dir>/<name>/bootstrap, or <dir>/<name>, with the optional
// configuration <dir>/<name>.json.
func Locate(dir, functionName string) (*Function, error) {
	name, err := ParseName(functionName)
	if err != nil {
		return nil, err
	}
	folder := filepath.Join(dir, name)
	bootstrap := filepath.Join(folder, "bootstrap")
	f := &Function{Name: name}
	var stamp bytes.Buffer
	path := folder
	info, err := os.Stat(folder)
	if err == nil && info.IsDir() {
		path = bootstrap
		info, err = os.Stat(bootstrap)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%w %s: put its executable at %s or %s", ErrNoFunction, name, folder, bootstrap)
	case err != nil:
		return nil, fmt.Errorf("function %s: %w", name, err)
	case info.IsDir():
		return nil, fmt.Errorf("function %s: %s is a folder, not an executable", name, path)
	case info.Mode()&0o111 == 0:
		return nil, fmt.Errorf("function %s: %s is not executable (chmod +x it)", name, path)
	}
	f.Path, f.Root = path, filepath.Dir(path)
	fmt.Fprintf(&stamp, "%s %d %d;", path, info.Size(), info.ModTime().UnixNano())
	file := folder + ".json"
	data, err := os.ReadFile(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("function %s: %w", name, err)
	default:
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f.Config); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if err := f.Config.check(file); err != nil {
			return nil, err
		}
		stamp.Write(data)
	}
	f.stamp = stamp.String()
	return f, nil
}
