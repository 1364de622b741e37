package api

import (
	"context"
	"errors"
	"slices"

	"github.com/sluice-ci/sluice/internal/awsjson"
	"github.com/sluice-ci/sluice/internal/store"
)

// Page tokens are bound to their listing (awsjson.Listing: the operation
// and the request members that choose what is listed) and continue after
// a position the listing gave: a record the caller was shown, an element
// of the list. A token of another listing, or one that names anything
// else, is InvalidNextTokenException; the last page gives no token.

// storeListing is a listing of store records in name order that the API
// filters (by what the caller may see).
type storeListing[T any] struct {
	awsjson.Listing
	ctx context.Context
	// fetch lists up to n records after a name, and says whether more
	// follow (a non-empty next).
	fetch func(ctx context.Context, n int, after string) (page []T, next string, err error)
	// get reads the record of a name; store.ErrNotFound when there is none.
	get func(ctx context.Context, name string) (store.Versioned[T], error)
	// keep names a record and says whether the listing shows it.
	keep func(T) (name string, shown bool)
}

// page gathers up to limit records shown, after the position tok gives:
// a record that exists and is shown. It returns the token of the next
// page, none when no record shown follows.
func (l storeListing[T]) page(limit int, tok string) ([]T, string, error) {
	after, aerr := l.After(tok)
	if aerr != nil {
		return nil, "", aerr
	}
	if after != "" {
		rec, err := l.get(l.ctx, after)
		if errors.Is(err, store.ErrNotFound) {
			return nil, "", l.Invalid()
		}
		if err != nil {
			return nil, "", err
		}
		if name, shown := l.keep(rec.Value); !shown || name != after {
			return nil, "", l.Invalid()
		}
	}
	var out []T
	last, scanned := after, after
	for {
		// One more than the page: does a record shown follow it?
		recs, next, err := l.fetch(l.ctx, limit+1, scanned)
		if err != nil {
			return nil, "", err
		}
		for _, rec := range recs {
			name, shown := l.keep(rec)
			scanned = name
			if !shown {
				continue
			}
			if len(out) == limit {
				return out, l.Token(last), nil
			}
			out, last = append(out, rec), name
		}
		if next == "" {
			return out, "", nil
		}
	}
}

// listPage returns the page of up to limit elements of all after the
// position tok gives, an element's key; and the token of the next page,
// none at the end.
func listPage[T any](l awsjson.Listing, all []T, limit int, tok string, key func(T) string) ([]T, string, error) {
	after, aerr := l.After(tok)
	if aerr != nil {
		return nil, "", aerr
	}
	start := 0
	if after != "" {
		i := slices.IndexFunc(all, func(v T) bool { return key(v) == after })
		if i < 0 || i+1 >= len(all) {
			return nil, "", l.Invalid()
		}
		start = i + 1
	}
	end := min(start+limit, len(all))
	next := ""
	if end < len(all) {
		next = l.Token(key(all[end-1]))
	}
	return all[start:end], next, nil
}
