#!/bin/bash
# Runs on the lent GPU machine from .dev/ (bench/device/build.sh): unpacks node and Dawn, probes the
# adapter, runs the GPU tests, the attention A/B, the bench suites (--gpu --quick) and a torch CUDA
# reference. Env: SUITES (default 'matmul mainjob inference peer'), TEST_S, GPUFLAG ('' to allow a
# software adapter when trying it here), AB=0 to skip the attention and norm-prologue A/Bs, ABARG
# ('small': quick ones).
cd "$(dirname "$0")/.."
T0=$(date +%s); el() { echo "[+$(( $(date +%s) - T0 ))s] $*"; }
OUT=${OUT:-/tmp/out}; mkdir -p $OUT
unxz() { python3 -c "import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],'wb'))" "$1" "$2"; }
mkdir -p /tmp/n && unxz .dev/node.xz /tmp/n/node && chmod +x /tmp/n/node && export PATH=/tmp/n:$PATH
cp -r .dev/b/. .
mkdir -p node_modules/webgpu/dist/linux-x64 && unxz .dev/dawn.node.xz node_modules/webgpu/dist/linux-x64/dawn.node
ldconfig -p | grep -q 'libvulkan.so.1 ' || { for f in .dev/deb/*.deb; do dpkg -x $f /; done; ldconfig; }
ldconfig -p | grep libvulkan
ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d 2>&1 | head; cat $ICD 2>/dev/null | head -8
if [ -f $ICD ] && [ -z "${VK_ICD_FILENAMES:-}" ]; then export VK_ICD_FILENAMES=$ICD __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json; fi
el "node $(node --version); VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-unset}"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader
timeout 60 node .dev/probe.mjs 2>&1 | tee $OUT/probe.txt
grep -q 'PROBE adapter' $OUT/probe.txt || { el "no adapter; stop"; exit 3; }
export FPET_BENCH_PYTHON=python3
el "GPU tests"
timeout ${TEST_S:-100} node --test --test-concurrency=8 --test-reporter=spec test/*/*.gpu.mjs > $OUT/tests.log 2>&1; echo "tests rc=$?" >> $OUT/tests.log
grep -E "^# (tests|pass|fail|skipped|cancelled)|^ℹ (tests|pass|fail|skipped|cancelled)|adapter:" $OUT/tests.log | sort | uniq -c | head -20
grep -B2 -A12 "✖" $OUT/tests.log | head -80
if [ "${AB:-1}" = 1 ]; then el "attention A/B"; timeout 120 node attention-ab.mjs ${ABARG:-} 2>&1 | grep -E "ATTAB|Error" | tee $OUT/att-ab.txt; fi
if [ "${AB:-1}" = 1 ]; then el "norm prologue A/B"; timeout 120 node norm-ab.mjs ${ABARG:-} 2>&1 | grep -E "NORMAB|Error" | tee $OUT/norm-ab.txt; fi
rm -rf /tmp/bench-*
for s in ${SUITES:-matmul mainjob inference peer}; do
  el "bench $s"
  timeout $(case $s in matmul) echo 110;; mainjob) echo 100;; *) echo 85;; esac) node bench/run.mjs ${GPUFLAG---gpu} --quick --suite $s --out /tmp/bench-$s > $OUT/bench-$s.log 2>&1; echo "rc=$?" >> $OUT/bench-$s.log
  grep -E "^\| |^(New|Old|AdaptFormer|AF|Geometric|fp32)" /tmp/bench-$s/results.md 2>/dev/null | cut -c1-400 | head -${ROWS:-24} || tail -15 $OUT/bench-$s.log
  [ $s = matmul ] && { el "torch CUDA reference"; timeout 60 python3 .dev/torch-ref.py 2>&1 | tail -3 | tee $OUT/torch-ref.txt; }
done
tar czf $OUT/bench.tgz -C /tmp bench-matmul bench-mainjob bench-inference bench-peer 2>/dev/null; cat $OUT/bench-*.log > /tmp/bench-all.log; rm -f $OUT/bench-*.log; mv /tmp/bench-all.log $OUT/
el done
