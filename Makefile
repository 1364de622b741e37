# Sluice: the two commands a newcomer needs are `make run` and `make test`.

GO       ?= go
PKGS     ?= ./...
FUZZTIME ?= 60s
BENCH    ?= .
DATA_DIR ?= .sluice

.PHONY: run test build lint bench fuzz statemachines conformance clean

## run: run the demo pipeline locally: commit pipelines/demo/app to the data
## folder's git repository codecommit/sluice-demo, install the CodeBuild
## projects' buildspecs, run pipelines/demo.yaml. The approval is asked on a
## terminal; without one (CI, pipes) it is given by --auto-approve.
## RUN_FLAGS adds flags to sluice run (e.g. RUN_FLAGS=--verbose).
RUN_FLAGS ?=
run: build
	@mkdir -p $(DATA_DIR)/codebuild
	@cp -R pipelines/demo/codebuild/. $(DATA_DIR)/codebuild/
	@if [ -t 0 ]; then approve=; else approve=--auto-approve; fi; \
	bin/sluice run pipelines/demo.yaml --data-dir $(DATA_DIR) --source-dir Source=pipelines/demo/app $$approve $(RUN_FLAGS)

## test: check formatting and vet, then run every test
test: lint node_modules/.package-lock.json
	@scripts/install-test-deps.sh
	$(GO) test -count=1 $(PKGS)

# The test tools from npm (asl-validator), installed again only when
# node_modules is missing or older than the lockfile.
node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

## build: build the sluice binary into bin/
build:
	$(GO) build -o bin/sluice ./cmd/sluice

## lint: gofmt check, go vet and staticcheck
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*')); \
	if [ -n "$$unformatted" ]; then echo "not gofmt'ed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

## bench: run every benchmark once, with memory figures
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem $(PKGS)

## fuzz: run each fuzz target for FUZZTIME
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$target ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

## statemachines: compile every pipeline in pipelines/ to statemachines/<pipeline>.asl.json
statemachines:
	$(GO) run ./cmd/sluice compile --out statemachines pipelines

## conformance: run the embedded engine over the recorded AWS behaviours in
## ../shared/asl-conformance and print the pass rate by category
conformance:
	$(GO) test -count=1 -run '^TestConformance$$' -v ./internal/states

clean:
	rm -rf bin $(DATA_DIR)
