#!/bin/bash
# Builds .dev/, the bundle a lent GPU machine runs (the `device` tool of this workplace: a bare
# x86-64 machine with an NVIDIA driver and python3, no node, no network). Usage, from the repo root:
#   bash bench/device/build.sh            # here: ~45 MB in .dev/ (git-ignored through .git/info/exclude)
#   device run: command `bash .dev/run.sh`, carry [".dev"], timeout ~420 s
# .dev/ holds: this machine's node binary and Dawn's dawn.node (xz), the Vulkan loader and glvnd
# packages (Debian amd64 .debs, unpacked there only if the machine lacks libvulkan), esbuild
# bundles of the bench, of the GPU test files and of the A/Bs attention-ab.ts and norm-ab.ts (mirrored to their source
# paths, so import.meta.url-relative paths still hold), and run.sh, which probes the adapter, runs
# the GPU tests, the two A/Bs, the bench suites and a torch CUDA reference, and leaves logs
# and a bench.tgz in $OUT.
set -e
cd "$(dirname "$0")/../.."
grep -qx '/.dev/' .git/info/exclude 2>/dev/null || echo '/.dev/' >> .git/info/exclude
mkdir -p .dev
[ -f .dev/node.xz ] || xz -T2 -6 -c "$(command -v node)" > .dev/node.xz
[ -f .dev/dawn.node.xz ] || xz -T2 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > .dev/dawn.node.xz
if ! ls .dev/deb/libvulkan1_*.deb >/dev/null 2>&1; then
  mkdir -p .dev/deb /tmp/amd64-lists/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64-lists'
  apt-get $o update >/dev/null
  (cd .dev/deb && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi
cp bench/device/run.sh bench/device/probe.mjs bench/device/torch-ref.py .dev/
rm -rf .dev/b && mkdir -p .dev/b
BANNER="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
STUB=./bench/device/missing-package.mjs
ES="node_modules/.bin/esbuild --bundle --platform=node --format=esm --target=node20 --log-level=warning --external:webgpu --alias:puppeteer=$STUB --alias:onnxruntime-node=$STUB"
$ES bench/run.ts --outfile=.dev/b/bench/run.mjs "--banner:js=$BANNER"
$ES bench/device/attention-ab.ts --outfile=.dev/b/attention-ab.mjs "--banner:js=$BANNER"
$ES bench/device/norm-ab.ts --outfile=.dev/b/norm-ab.mjs "--banner:js=$BANNER"
for t in test/codegen/granule-statistics test/codegen/gpu-class test/kernels/matmul-variants test/kernels/rows-and-attention test/kernels/tune test/codegen/row-counts test/codegen/batch test/models/configurations test/models/fpet test/models/tome test/codegen/plan test/codegen/random-graphs test/runtime/smoke-node test/ir/attention; do
  $ES $t.test.ts --outfile=.dev/b/$t.gpu.mjs "--banner:js=$BANNER"
done
mkdir -p .dev/b/node_modules/webgpu
cp node_modules/webgpu/index.js node_modules/webgpu/package.json .dev/b/node_modules/webgpu/
# benchmark.js loads lodash and platform through its own require(): resolved at run time.
for p in lodash:lodash.js platform:platform.js; do n=${p%%:*}; mkdir -p .dev/b/node_modules/$n; cp node_modules/$n/package.json node_modules/$n/${p#*:} .dev/b/node_modules/$n/; done
# package.json only: the bench prints their versions.
for n in typegpu benchmark wgsl_reflect tsx @tensorflow/tfjs-core @tensorflow/tfjs-backend-webgpu; do mkdir -p .dev/b/node_modules/$n; cp node_modules/$n/package.json .dev/b/node_modules/$n/; done
du -sh .dev
