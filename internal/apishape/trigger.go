package apishape

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	"github.com/sluice-ci/sluice/internal/store"
)

// MaxTriggerDetail is the longest triggerDetail the API model allows.
const MaxTriggerDetail = 1024

// triggerOf shapes an execution's trigger; nil when it has none.
func triggerOf(t store.ExecutionTrigger) *ExecutionTrigger {
	if t.TriggerType == "" {
		return nil
	}
	out := &ExecutionTrigger{TriggerType: t.TriggerType, TriggerDetail: t.TriggerDetail}
	if t.Git != nil {
		out.TriggerDetail = GitTriggerDetail(*t.Git)
	}
	return out
}

// GitTriggerDetail is the triggerDetail of an execution that a git trigger
// started (WebhookV2): the push or pull request, as a JSON object with the
// connection, repository, commit, author, branch or tag, and pull request
// (the fields the console shows of it). The API documents the detail only
// as a string of at most 1,024 characters; the commit message is
// shortened to keep it within them.
func GitTriggerDetail(g store.GitTrigger) string {
	for {
		raw := compact(g)
		if len(raw) <= MaxTriggerDetail || g.CommitMessage == "" {
			if len(raw) > MaxTriggerDetail {
				g.AuthorDisplayName, g.AuthorEmail = "", ""
				raw = compact(g)
			}
			return string(raw)
		}
		msg := []byte(g.CommitMessage)
		cut := max(len(msg)-(len(raw)-MaxTriggerDetail)-len("…"), 0)
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		if cut == 0 {
			g.CommitMessage = ""
			continue
		}
		g.CommitMessage = string(msg[:cut]) + "…"
	}
}

func compact(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
