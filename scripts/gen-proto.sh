#!/usr/bin/env bash
# Regenerates Sources/Messaging/Generated/ (and the C client's deploy/xen/c-client/generated/) from proto/clickos.proto with Debian's protoc and
# the protoc-gen-swift of the resolved swift-protobuf (the same version as the runtime the
# package links). CI runs it and fails if the committed files differ (`make proto-check`).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc >/dev/null || { echo "gen-proto: protoc is missing (apt-get install protobuf-compiler libprotobuf-dev)" >&2; exit 1; }
swift build --product protoc-gen-swift >/dev/null
plugin="$(swift build --show-bin-path)/protoc-gen-swift"
out=Sources/Messaging/Generated
protoc --plugin=protoc-gen-swift="$plugin" --swift_out="$out" --swift_opt=Visibility=Public -I proto proto/clickos.proto
echo "gen-proto: $out/clickos.pb.swift from $(protoc --version), protoc-gen-swift $("$plugin" --version 2>/dev/null | tail -1)"
# The same contract for C tools (deploy/xen/c-client), with protobuf-c's generator.
command -v protoc-c >/dev/null || { echo "gen-proto: protoc-c is missing (apt-get install protobuf-c-compiler libprotobuf-c-dev)" >&2; exit 1; }
cout=deploy/xen/c-client/generated
protoc-c --c_out="$cout" -I proto proto/clickos.proto
echo "gen-proto: $cout/clickos.pb-c.{c,h} from $(protoc-c --version 2>&1 | head -1)"
