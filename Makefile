.PHONY: demo test build benchmarks clean

# The offline demo: generate, train and register a model, then serve it.
demo:
	bash scripts/setup.sh demo
	.venv/bin/python scripts/demo.py

# Everything CI runs: set-up, generated-file check, the full test suite with real services.
test:
	bash scripts/setup.sh test
	bash scripts/test.sh

build:
	.venv/bin/tapml build

benchmarks:
	.venv/bin/python benchmarks/train_throughput.py
	.venv/bin/python benchmarks/function_latency.py
	.venv/bin/python benchmarks/serving_runtimes.py

clean:
	rm -rf demo-output .pytest_cache
