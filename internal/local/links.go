package local

import (
	"bytes"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"sync"

	"github.com/sluice-ci/sluice/internal/pipeline"
	"github.com/sluice-ci/sluice/internal/store"
)

// entityURL is GetPipelineState's entityUrl of an action run by a local
// stand-in: a file URL of the repository, bucket or project folder it works
// on, when its configuration names it without variables.
func (l *Local) entityURL(a *pipeline.Action) string {
	c := a.Configuration
	var parts []string
	switch a.ActionTypeID.Provider {
	case "CodeCommit":
		parts = []string{"codecommit", c["RepositoryName"]}
	case "CodeStarSourceConnection":
		parts = []string{"git", c["FullRepositoryId"]}
	case "GitHub":
		parts = []string{"git", c["Owner"], c["Repo"]}
	case "S3":
		bucket := c["BucketName"] // the deploy action's
		if a.ActionTypeID.Category == pipeline.CategorySource {
			bucket = c["S3Bucket"]
		}
		parts = []string{"s3", bucket}
	case "CodeBuild":
		parts = []string{"codebuild", c["ProjectName"]}
	default:
		return ""
	}
	for _, p := range parts[1:] {
		if p == "" || strings.Contains(p, "#{") {
			return ""
		}
	}
	return fileURL(filepath.Join(l.DataDir, filepath.FromSlash(filepath.Join(parts...))))
}

func fileURL(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
}

// Deployed is where an S3 deploy action of an execution put its files.
type Deployed struct {
	Stage, Action string
	Bucket, Key   string
	// Path is the local folder (Extract true) or file (Extract false).
	Path string
}

// Deployments lists what the succeeded S3 deploy actions of an execution
// deployed, with the local paths of the buckets' files.
func (l *Local) Deployments(actions []store.ActionExecution) []Deployed {
	var out []Deployed
	for _, a := range actions {
		t := a.Input.ActionTypeID
		if a.Status != store.ActionSucceeded || t.Category != string(pipeline.CategoryDeploy) || t.Provider != "S3" {
			continue
		}
		c := a.Input.ResolvedConfiguration
		d := Deployed{Stage: a.StageName, Action: a.ActionName, Bucket: c["BucketName"], Key: strings.Trim(c["ObjectKey"], "/")}
		d.Path = filepath.Join(l.DataDir, "s3", d.Bucket, filepath.FromSlash(d.Key))
		out = append(out, d)
	}
	return out
}

// syncWriter serialises writes from the progress display, the approval
// prompt and the streamed logs, so that their lines never interleave.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// prefixWriter writes whole lines, each with a prefix.
type prefixWriter struct {
	mu     sync.Mutex
	out    io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		p.line(p.buf[:i])
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}

func (p *prefixWriter) line(l []byte) {
	out := make([]byte, 0, len(p.prefix)+len(l)+1)
	out = append(out, p.prefix...)
	out = append(out, bytes.TrimRight(l, "\r")...)
	out = append(out, '\n')
	p.out.Write(out) // a display write; a lost line is no reason to fail the build
}

// flush writes a last line that had no newline.
func (p *prefixWriter) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buf) > 0 {
		p.line(p.buf)
		p.buf = nil
	}
}
