# One entry point for people and CI. The scripts do the work; each runs the idempotent set-up.
.PHONY: setup build dev test schemathesis bench peer fuzz deploy-check clean

setup:        ## install toolchain target, cargo tools, npm packages, Debian packages, schemathesis venv
	bash scripts/setup.sh
build:        ## release build of the Worker into build/
	bash scripts/setup.sh && bash scripts/build.sh
dev:          ## run locally on 127.0.0.1:8787 with the demo seeded
	bash scripts/dev.sh
test:         ## every check and every test
	bash scripts/test.sh
schemathesis: ## openapi.yaml against the running release build (schemathesis --checks all)
	bash scripts/setup.sh && bash scripts/schemathesis.sh
bench:        ## benchmark the release build on workerd directly
	bash scripts/bench.sh
peer:         ## after make bench: beside the JavaScript peer (../shared/peer-bench), cold starts, the till's objects cold and warm
	D=$${D:-8} RUNS=$${RUNS:-3} bash $${PEER_BENCH:-../shared/peer-bench}/side_by_side.sh && \
	  RUNS=$${COLD_RUNS:-7} bash bench/cold_start.sh && python3 bench/peer_phases.py
fuzz:         ## cargo-fuzz each target of fuzz/ for FUZZ_SECONDS (default 60)
	bash scripts/fuzz.sh
deploy-check: ## wrangler deploy --dry-run
	bash scripts/deploy-check.sh
clean:
	rm -rf target build dist .wrangler test-artifacts bench-results
