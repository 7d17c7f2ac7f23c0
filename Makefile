# ClickOS in Swift: the two commands a newcomer needs are `make demo` and `make test`.
# Everything else here is a helper those two use, or a tool named in the README.

SWIFT ?= swift
FUZZ_BUILD := .build-fuzz
FUZZ_FLAGS := -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -use-ld=lld -Xswiftc -DFUZZING
FUZZ_SECONDS ?= 600
FUZZ_SMOKE_SECONDS ?= 60
ENVELOPE_SMOKE_SECONDS ?= 30
MEMIF_SMOKE_SECONDS ?= 30
# Build and test timeouts keep a wedged run from eating CI's budget.
TEST_TIMEOUT ?= 1200

.PHONY: xen-build xen-test bench-xen
.PHONY: all deps build demo demo-vms bench-lab bench-vs-click bench-veth test proto proto-check docs docs-check unit-tests fuzz-build fuzz-parser fuzz-elements fuzz-envelope fuzz-memif fuzz-smoke fuzz-replay bench clean

all: build

deps:
	bash scripts/install-deps.sh

build:
	$(SWIFT) build

# Install what is missing, build (release), and run the service: three hosts as network
# namespaces with real agents and a planner, chains/web.yaml applied across them, real
# HTTP and UDP through it, a VM killed and traffic back (scripts/demo.sh; needs root, else
# it runs demo-vms).
demo: deps
	bash scripts/demo.sh

# The single-host demo: a firewall -> NAT -> load-balancer chain of VMs on this host with
# live packet rates (scripts/demo-vms.sh).
demo-vms: deps
	bash scripts/demo-vms.sh

# The whole suite: a short libFuzzer smoke of the parser, then the unit and process tests
# (last, so that the test runner's summary closes the output).
test: proto-check docs-check fuzz-smoke xen-test unit-tests

# Regenerate the protobuf code (scripts/gen-proto.sh); proto-check fails if what is
# committed differs from what the .proto says.
proto:
	bash scripts/gen-proto.sh

proto-check: proto
	git diff --exit-code -- Sources/Messaging/Generated deploy/xen/c-client/generated || { echo "proto-check: generated protobuf code is stale: run make proto and commit" >&2; exit 1; }

# Regenerate the element pages from the element classes' doc comments
# (scripts/gen-element-docs.py, read by `clickos-vm --doc CLASS`); docs-check fails if
# what is committed is stale.
docs:
	python3 scripts/gen-element-docs.py

docs-check: docs
	git diff --exit-code -- Sources/ClickElements/Generated || { echo "docs-check: Sources/ClickElements/Generated is stale: run make docs and commit" >&2; exit 1; }

# The executables the process tests start, then the tests. (A plain `swift build` would
# also compile swift-protobuf's C++ protoc for its unused build plugin: ten minutes.)
unit-tests:
	$(SWIFT) build --product clickos-vm
	$(SWIFT) build --product clickos
	$(SWIFT) build --product jail-probe
	$(SWIFT) build --product clickos-agent
	timeout $(TEST_TIMEOUT) $(SWIFT) test

# The Xen trait (libxl, libxenstore) in a build directory of its own, and the tests that
# need it: ClickOS's xenstore protocol, host and guest, against the tests' xenstore daemon
# through the real libxenstore.
XEN_BUILD := .build-xen
xen-build:
	$(SWIFT) build --traits Xen --scratch-path $(XEN_BUILD) --product clickos-vm

xen-test: xen-build
	timeout $(TEST_TIMEOUT) $(SWIFT) test --traits Xen --scratch-path $(XEN_BUILD) --filter 'XenTests|XenAgentTests'

# The Xen figures (release, trait Xen): xenstore control against the test daemon with real
# guests, the guest image's size, and QEMU boot to the first forwarded frame (5 boots).
bench-xen:
	$(SWIFT) build -c release --traits Xen --scratch-path $(XEN_BUILD) --product clickos-vm
	$(SWIFT) build -c release --traits Xen --scratch-path $(XEN_BUILD) --product clickos-bench
	$(XEN_BUILD)/release/clickos-bench xenstore
	deploy/xen/make-image
	python3 Benchmarks/guest-boot.py --image $(XEN_BUILD)/image --runs 5

fuzz-build:
	$(SWIFT) build --scratch-path $(FUZZ_BUILD) $(FUZZ_FLAGS) --product fuzz-click-parser
	$(SWIFT) build --scratch-path $(FUZZ_BUILD) $(FUZZ_FLAGS) --product fuzz-click-elements
	$(SWIFT) build --scratch-path $(FUZZ_BUILD) $(FUZZ_FLAGS) --product fuzz-envelope
	$(SWIFT) build --scratch-path $(FUZZ_BUILD) $(FUZZ_FLAGS) --product fuzz-memif

# A long fuzzing run of the Click parser (FUZZ_SECONDS, default 10 minutes).
fuzz-parser: fuzz-build
	mkdir -p $(FUZZ_BUILD)/corpus-parser
	$(FUZZ_BUILD)/debug/fuzz-click-parser -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 \
		-rss_limit_mb=4096 -dict=Tests/Fuzz/dictionaries/click.dict $(FUZZ_BUILD)/corpus-parser Tests/Fuzz/corpus/click-parser

# Arbitrary frames through packet-parsing elements (CheckIPHeader, IPFilter, the IP router...).
fuzz-elements: fuzz-build
	mkdir -p $(FUZZ_BUILD)/corpus-elements
	$(FUZZ_BUILD)/debug/fuzz-click-elements -max_total_time=$(FUZZ_SECONDS) -max_len=2048 -timeout=10 \
		-rss_limit_mb=4096 $(FUZZ_BUILD)/corpus-elements Tests/Fuzz/corpus/elements

# Arbitrary frames as received envelopes (decoding and validation).
fuzz-envelope: fuzz-build
	mkdir -p $(FUZZ_BUILD)/corpus-envelope
	$(FUZZ_BUILD)/debug/fuzz-envelope -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 \
		-rss_limit_mb=4096 $(FUZZ_BUILD)/corpus-envelope Tests/Fuzz/corpus/envelope

# A long run of the hostile memif client against a server port.
fuzz-memif: fuzz-build
	mkdir -p $(FUZZ_BUILD)/corpus-memif
	$(FUZZ_BUILD)/debug/fuzz-memif -max_total_time=$(FUZZ_SECONDS) -max_len=1024 -timeout=10 \
		-rss_limit_mb=4096 $(FUZZ_BUILD)/corpus-memif Tests/Fuzz/corpus/memif

# What CI runs: the seed corpora replayed, then short fuzzing runs; any crash fails.
fuzz-smoke: fuzz-build fuzz-replay
	mkdir -p $(FUZZ_BUILD)/corpus-smoke $(FUZZ_BUILD)/corpus-smoke-elements
	$(FUZZ_BUILD)/debug/fuzz-click-parser -max_total_time=$(FUZZ_SMOKE_SECONDS) -max_len=4096 -timeout=10 \
		-rss_limit_mb=4096 -dict=Tests/Fuzz/dictionaries/click.dict $(FUZZ_BUILD)/corpus-smoke Tests/Fuzz/corpus/click-parser
	$(FUZZ_BUILD)/debug/fuzz-click-elements -max_total_time=$(FUZZ_SMOKE_SECONDS) -max_len=2048 -timeout=10 \
		-rss_limit_mb=4096 $(FUZZ_BUILD)/corpus-smoke-elements Tests/Fuzz/corpus/elements
	mkdir -p $(FUZZ_BUILD)/corpus-smoke-envelope
	$(FUZZ_BUILD)/debug/fuzz-envelope -max_total_time=$(ENVELOPE_SMOKE_SECONDS) -max_len=4096 -timeout=10 \
		-rss_limit_mb=4096 $(FUZZ_BUILD)/corpus-smoke-envelope Tests/Fuzz/corpus/envelope
	mkdir -p $(FUZZ_BUILD)/corpus-smoke-memif
	$(FUZZ_BUILD)/debug/fuzz-memif -max_total_time=$(MEMIF_SMOKE_SECONDS) -max_len=1024 -timeout=10 \
		-rss_limit_mb=4096 $(FUZZ_BUILD)/corpus-smoke-memif Tests/Fuzz/corpus/memif

fuzz-replay:
	$(SWIFT) build --product fuzz-click-parser
	$(SWIFT) build --product fuzz-click-elements
	$(SWIFT) build --product fuzz-envelope
	$(SWIFT) build --product fuzz-memif
	.build/debug/fuzz-envelope Tests/Fuzz/corpus/envelope/*
	.build/debug/fuzz-memif Tests/Fuzz/corpus/memif/*
	.build/debug/fuzz-click-parser Tests/Fuzz/corpus/click-parser/*
	.build/debug/fuzz-click-elements Tests/Fuzz/corpus/elements/*

# The performance suite, release build (see Benchmarks/README.md).
bench:
	$(SWIFT) build -c release --product clickos-vm
	$(SWIFT) build -c release --product clickos-agent
	$(SWIFT) build -c release --product clickos
	$(SWIFT) build -c release --product clickos-bench
	.build/release/clickos-bench

# Click's configurations under Click and here, alternating (issue 17):
# make bench-vs-click CLICK=/path/to/click [CLICK_CONF=/path/to/click/conf]
bench-vs-click:
	$(SWIFT) build -c release --product clickos-vm
	$(SWIFT) build -c release --product clickos-bench
	.build/release/clickos-bench vs-click $(CLICK) $(CLICK_CONF)

# The veth IP router against Linux forwarding (and Click, given CLICK=), root.
bench-veth:
	$(SWIFT) build -c release --product clickos-vm
	bash Benchmarks/veth-router.sh $(CLICK)

# The service's figures in the lab (root): apply -> first answer, recovery from faults,
# throughput next to Linux (Benchmarks/lab.sh).
bench-lab:
	$(SWIFT) build -c release --product clickos-vm
	$(SWIFT) build -c release --product clickos-agent
	$(SWIFT) build -c release --product clickos
	bash Benchmarks/lab.sh

clean:
	rm -rf .build $(FUZZ_BUILD)
