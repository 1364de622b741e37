package api

import (
	"context"

	"github.com/sluice-ci/sluice/internal/awsjson"
	"github.com/sluice-ci/sluice/internal/pipeline"
)

type listActionTypesInput struct {
	ActionOwnerFilter string `json:"actionOwnerFilter"`
	NextToken         string `json:"nextToken"`
	RegionFilter      string `json:"regionFilter"`
}

type actionTypeShape struct {
	ID                            pipeline.ActionTypeID `json:"id"`
	Settings                      struct{}              `json:"settings"`
	ActionConfigurationProperties []configProperty      `json:"actionConfigurationProperties"`
	InputArtifactDetails          artifactCount         `json:"inputArtifactDetails"`
	OutputArtifactDetails         artifactCount         `json:"outputArtifactDetails"`
}

type configProperty struct {
	Name      string `json:"name"`
	Required  bool   `json:"required"`
	Key       bool   `json:"key"`
	Secret    bool   `json:"secret"`
	Queryable bool   `json:"queryable"`
	Type      string `json:"type"`
}

type artifactCount struct {
	MinimumCount int `json:"minimumCount"`
	MaximumCount int `json:"maximumCount"`
}

// actionTypePage is how many action types one ListActionTypes page holds.
const actionTypePage = 50

// listActionTypes lists the action types Sluice knows, one per version.
func (h *Handler) listActionTypes(ctx context.Context, caller Caller, in *listActionTypesInput) (any, error) {
	c := (&awsjson.Check{}).Enum("actionOwnerFilter", in.ActionOwnerFilter, "AWS", "ThirdParty", "Custom").
		Length("nextToken", in.NextToken, 1, 2048)
	if c.Err != nil {
		return nil, c.Err
	}
	if err := h.authorize(ctx, caller, "ListActionTypes", "*"); err != nil {
		return nil, err
	}
	var all []actionTypeShape
	for _, t := range pipeline.ActionTypes() {
		if in.ActionOwnerFilter != "" && string(t.Owner) != in.ActionOwnerFilter {
			continue
		}
		for _, v := range t.Versions {
			s := actionTypeShape{
				ID:                            pipeline.ActionTypeID{Category: t.Category, Owner: t.Owner, Provider: t.Provider, Version: v},
				ActionConfigurationProperties: []configProperty{},
				InputArtifactDetails:          artifactCount{t.InputArtifacts.Min, t.InputArtifacts.Max},
				OutputArtifactDetails:         artifactCount{t.OutputArtifacts.Min, t.OutputArtifacts.Max},
			}
			for _, p := range t.Properties {
				s.ActionConfigurationProperties = append(s.ActionConfigurationProperties, configProperty{
					Name: p.Name, Required: p.Required, Key: p.Required, Secret: p.Secret, Type: "String",
				})
			}
			all = append(all, s)
		}
	}
	listing := awsjson.Listing{Op: "ListActionTypes", Scope: map[string]string{"actionOwnerFilter": in.ActionOwnerFilter, "regionFilter": in.RegionFilter}}
	page, next, err := listPage(listing, all, actionTypePage, in.NextToken, func(s actionTypeShape) string {
		id := s.ID
		return string(id.Category) + "/" + string(id.Owner) + "/" + id.Provider + "/" + id.Version
	})
	if err != nil {
		return nil, err
	}
	return struct {
		ActionTypes []actionTypeShape `json:"actionTypes"`
		NextToken   string            `json:"nextToken,omitempty"`
	}{ActionTypes: append([]actionTypeShape{}, page...), NextToken: next}, nil
}
