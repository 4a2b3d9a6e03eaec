// `compile --target gpu`: the plan a discrete GPU runs (tiled matmuls, split-K, GPU batching), shown
// on a machine without one; `--target portable` keeps WebGPU's guaranteed limits.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/frontends/cli/cli.ts';

test('compile --target gpu writes the GPU-class plan (tiled matmuls); --target portable the CPU-class one', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fpet-compile-target-'));
  try {
    const plan = async (target: string) => {
      const out = join(dir, target);
      assert.equal(await runCli(['compile', '--preset', 'vit-micro', '--target', target, '--validate=false', '--out', out]), 0);
      return readFileSync(join(out, 'plan.txt'), 'utf8');
    };
    const gpu = await plan('gpu');
    assert.match(gpu, /limits: a discrete GPU \(subgroups of 32, 16 storage buffers, adapter class gpu\)/);
    assert.match(gpu, /\btiled \d+x\d+x\d+/, 'GPUs run the tiled matmul');
    const portable = await plan('portable');
    assert.match(portable, /limits: WebGPU defaults \(portable\)/);
    assert.doesNotMatch(portable, /\btiled \d+x\d+x\d+/, 'WebGPU defaults are a CPU-class plan (vec4 matmuls)');
    await assert.rejects(runCli(['compile', '--target', 'h100', '--out', join(dir, 'x')]), /--target must be one of device, portable, gpu/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
