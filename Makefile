# Makefile targets are the project's interface. `make` builds and tests.
# sam build runs build-PostConfirmationFunction with ARTIFACTS_DIR set.

GO        ?= go
ARTIFACTS_DIR ?= $(CURDIR)/.aws-sam/local
FUNCTION  := ./functions/post-confirmation
RETRY_FUNCTION := ./functions/assignment-retry
TOKEN_FUNCTION := ./functions/pre-token-generation
VALIDATOR_FUNCTION := ./functions/rules-validator
# Where build-RulesValidatorFunction writes: sam build's ARTIFACTS_DIR, or a
# directory of its own under make build (set on build below).
VALIDATOR_ARTIFACTS_DIR = $(ARTIFACTS_DIR)
# The ruleset embedded in every function, and its test cases beside it.
RULES     := functions/post-confirmation/rules.yaml
RULES_CASES := $(RULES:.yaml=_test.yaml)
GOFLAGS_LAMBDA := -tags lambda.norpc -trimpath -ldflags='-s -w -buildid='
E2E_NODE  := e2e/node_modules/.package-lock.json
PLAYGROUND_NODE := playground/node_modules/.package-lock.json
PLAYGROUND_ADDR ?= localhost:8080

.PHONY: all build build-PostConfirmationFunction build-AssignmentRetryFunction build-PreTokenGenerationFunction \
        build-RulesValidatorFunction check-rules test unit lint vet staticcheck fmt-check tidy-check cfn-lint e2e e2e-deps \
        demo invoke bench deploy clean playground playground-serve playground-deps playground-screenshot

all: build test

## build: the arm64 Lambda bootstraps, as sam build makes them: the sign-up function's in
## $(ARTIFACTS_DIR), the retry consumer's in $(ARTIFACTS_DIR)/assignment-retry, the token
## function's in $(ARTIFACTS_DIR)/pre-token-generation, the AppConfig validator's in
## $(ARTIFACTS_DIR)/rules-validator.
build: VALIDATOR_ARTIFACTS_DIR = $(ARTIFACTS_DIR)/rules-validator
build: build-PostConfirmationFunction build-PreTokenGenerationFunction build-RulesValidatorFunction
	$(MAKE) build-AssignmentRetryFunction ARTIFACTS_DIR=$(ARTIFACTS_DIR)/assignment-retry
# sam build runs build-PreTokenGenerationFunction alone, with its own ARTIFACTS_DIR;
# under make build its bootstrap goes beside the sign-up function's.
TOKEN_ARTIFACTS_DIR ?= $(ARTIFACTS_DIR)
build: TOKEN_ARTIFACTS_DIR = $(ARTIFACTS_DIR)/pre-token-generation

## check-rules: the embedded ruleset loads; every build target runs this first
## and fails with the ruleset's problems, so a ruleset that does not load never ships.
check-rules:
	GOOS= GOARCH= $(GO) run ./cmd/autogroup validate $(RULES)

build-PostConfirmationFunction: check-rules
	mkdir -p $(ARTIFACTS_DIR)
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(GOFLAGS_LAMBDA) -o $(ARTIFACTS_DIR)/bootstrap $(FUNCTION)

build-AssignmentRetryFunction: check-rules
	mkdir -p $(ARTIFACTS_DIR)
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(GOFLAGS_LAMBDA) -o $(ARTIFACTS_DIR)/bootstrap $(RETRY_FUNCTION)

build-PreTokenGenerationFunction: check-rules
	mkdir -p $(TOKEN_ARTIFACTS_DIR)
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(GOFLAGS_LAMBDA) -o $(TOKEN_ARTIFACTS_DIR)/bootstrap $(TOKEN_FUNCTION)

build-RulesValidatorFunction: check-rules
	mkdir -p $(VALIDATOR_ARTIFACTS_DIR)
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(GOFLAGS_LAMBDA) -o $(VALIDATOR_ARTIFACTS_DIR)/bootstrap $(VALIDATOR_FUNCTION)

## test: lint, unit tests and end-to-end tests, under the race detector (which
## needs cgo: a C compiler). Under CI=true a missing emulator fails.
test: lint e2e-deps playground-deps playground check-rules
	$(GO) run ./cmd/autogroup test --rules $(RULES) $(RULES_CASES)
	CGO_ENABLED=1 $(GO) test -race -count=1 ./...

## playground: the rules playground, a static page, built into site/: the
## engine as WebAssembly, the Go toolchain's wasm_exec.js, the page and the
## sample events of events/. Serve site/ from any static host.
playground:
	mkdir -p site
	CGO_ENABLED=0 GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags='-s -w' -o site/autogroup.wasm ./playground/wasm
	@root="$$(GOOS= GOARCH= $(GO) env GOROOT)"; js="$$root/lib/wasm/wasm_exec.js"; \
	test -f "$$js" || js="$$root/misc/wasm/wasm_exec.js"; \
	echo "$(GO) run ./playground/mksite -o site -wasm-exec $$js"; \
	GOOS= GOARCH= $(GO) run ./playground/mksite -o site -wasm-exec "$$js"

## playground-serve: serve site/ on http://$(PLAYGROUND_ADDR)/.
playground-serve: playground
	GOOS= GOARCH= $(GO) run ./playground/serve -dir site -addr $(PLAYGROUND_ADDR)

## playground-deps: playwright-core for the playground's browser test, from
## playground/package-lock.json (it drives Debian's chromium, downloads none).
playground-deps: $(PLAYGROUND_NODE)

$(PLAYGROUND_NODE): playground/package-lock.json playground/package.json
	cd playground && npm ci --no-audit --no-fund
	touch $@

## playground-screenshot: run the browser test and keep its screenshot as
## docs/playground.png.
playground-screenshot: playground-deps
	$(GO) test -count=1 -run '^TestBrowser$$' ./playground -args -screenshot $(CURDIR)/docs/playground.png

## unit: the Go tests without installing the emulators (end-to-end tests skip)
## and without the race detector.
unit:
	$(GO) test ./...

## fuzz: every fuzz target of the tree, one after the other, for FUZZTIME each.
# The targets are found by grepping for "func Fuzz", so that a new one is
# never left out; -fuzz takes one target of one package at a time.
FUZZTIME ?= 10s
.PHONY: fuzz
fuzz:
	@set -e; \
	files="$$(grep -rl --include='*_test.go' --exclude-dir=node_modules --exclude-dir=testdata '^func Fuzz' . | sort)"; \
	test -n "$$files" || { echo "fuzz: no fuzz target found"; exit 1; }; \
	for f in $$files; do \
		pkg="./$$(dirname "$${f#./}")"; \
		for name in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$$f"); do \
			echo "$(GO) test -run '^\$$' -fuzz '^$$name\$$' -fuzztime $(FUZZTIME) $$pkg"; \
			$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) "$$pkg"; \
		done; \
	done

## lint: gofmt, go vet, staticcheck, go mod tidy and cfn-lint.
lint: fmt-check vet staticcheck tidy-check cfn-lint

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './e2e/node_modules/*'))"; \
	if [ -n "$$out" ]; then echo "gofmt: these files need formatting:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# staticcheck is pinned in tools/go.mod, beside aws-lambda-rie, so that the
# root go.mod carries only what the function and the tool need.
staticcheck:
	$(GO) tool -modfile=tools/go.mod staticcheck ./...

tidy-check:
	@cp go.mod /tmp/autogroup.go.mod.bak; cp go.sum /tmp/autogroup.go.sum.bak; \
	$(GO) mod tidy; \
	if ! cmp -s go.mod /tmp/autogroup.go.mod.bak || ! cmp -s go.sum /tmp/autogroup.go.sum.bak; then \
		echo "go mod tidy changed go.mod or go.sum: run it and commit the result"; \
		cp /tmp/autogroup.go.mod.bak go.mod; cp /tmp/autogroup.go.sum.bak go.sum; exit 1; fi

cfn-lint:
	@if command -v cfn-lint >/dev/null 2>&1; then \
		cfn-lint template.yaml; \
	elif [ -n "$$CI" ]; then \
		echo "cfn-lint: not installed (pip install cfn-lint); required under CI"; exit 1; \
	else \
		echo "cfn-lint: not installed, template not linted (pip install cfn-lint)"; \
	fi

## e2e-deps: cognito-local, installed from e2e/package-lock.json only when the lock changes.
e2e-deps: $(E2E_NODE)

$(E2E_NODE): e2e/package-lock.json e2e/package.json
	cd e2e && npm ci --no-audit --no-fund
	touch $@

## e2e: the end-to-end tests against cognito-local and aws-lambda-rie.
e2e: e2e-deps
	$(GO) test -count=1 -v ./e2e/...

## demo: sign up a handful of users in a local Cognito and show the groups they get,
## then publish rules changes to a local AppConfig fake and show the next sign-ups obey them.
demo: e2e-deps
	@echo "compiling the demo (the first run compiles the AWS SDK and takes a few minutes)..."
	$(GO) run ./e2e/cmd/demo

## invoke: run the function once on EVENT (and RULES) under aws-lambda-rie.
invoke: e2e-deps
	@test -n "$(EVENT)" || { echo "usage: make invoke EVENT=events/<file>.json [RULES=file]"; exit 2; }
	@echo "compiling (the first run takes a few minutes)..."
	$(GO) run ./e2e/cmd/invoke -event $(EVENT) $(if $(RULES),-rules $(RULES))

## bench: engine, cold start, warm latency, memory and size in one run; updates BENCHMARKS.md.
bench:
	$(GO) run ./bench -o BENCHMARKS.md

deploy:
	sam build && sam deploy

clean:
	rm -rf .aws-sam e2e/node_modules site playground/node_modules
