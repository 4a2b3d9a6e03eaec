// Generated identifiers never collide with WGSL keywords, reserved words, predeclared types or
// builtin functions: every kernel of a configuration sweep (presets × PET methods × merge kinds
// with several merge blocks × forward / backward / training step × batch 1 and 4) is scanned.
// Also: plans at batch 1 keep the horizontal groups (multi-output kernels) they have at batch 4.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileGraph, type CompiledPlan } from '../../codegen/compile.ts';
import { whyUndeclarable } from '../../codegen/wgsl-names.ts';
import { gradients } from '../../src/core/ir/autodiff.ts';
import { buildModel, DEFAULT_MERGE, DEFAULT_PET, type MergeSpec, type ModelSpec, type PetMethod } from '../../src/fpet/models/model.ts';
import { VIT_PRESETS } from '../../src/fpet/models/vit.ts';
import { withAdamW } from '../../src/fpet/train/optimizer.ts';

type Mode = 'forward' | 'backward' | 'train-step';

function compileModel(spec: ModelSpec, mode: Mode): CompiledPlan {
  const m = buildModel(mode === 'forward' ? spec : { ...spec, training: { dropout: 0.1, dropPath: 0.1 } });
  let g = m.graph;
  if (mode !== 'forward') g = gradients(g, { loss: 'loss' });
  if (mode === 'train-step') g = withAdamW(g, m.trainable).graph;
  return compileGraph(g, { limits: { maxStorageBuffersPerShaderStage: 16 } });
}

test('the name check knows WGSL\'s lists', () => {
  for (const bad of ['i32', 'f32', 'f16', 'vec4f', 'mat3x3h', 'select', 'workgroupBarrier', 'let', 'while', 'NULL', 'asm', 'typedef', '__x', '_']) {
    assert.ok(whyUndeclarable(bad), `${bad} must be refused`);
  }
  for (const good of ['v_31', 'i_32', 'acc_0', 'f_16', 'gm', 'lid3']) assert.equal(whyUndeclarable(good), undefined, good);
  assert.deepEqual(declaredNames('fn f(a: u32, @builtin(x) b: vec3u) -> f32 { let c = 1; var d: f32; }').sort(), ['a', 'b', 'c', 'd', 'f']);
});

test('configuration sweep: no kernel declares a WGSL keyword, reserved word, type or builtin', () => {
  const merges: (MergeSpec | undefined)[] = [
    undefined,
    { ...DEFAULT_MERGE, blocks: [1] },
    { ...DEFAULT_MERGE, blocks: [0, 2, 3], ratio: 0.25 },
    { ...DEFAULT_MERGE, kind: 'tome', blocks: [0, 1, 2, 3], r: 2 },
  ];
  let kernels = 0;
  const seen = new Set<string>();
  for (const preset of ['vit-micro', 'vit-mnist'] as const) {
    const vit = VIT_PRESETS[preset];
    for (const method of ['adaptformer', 'lora', 'full', 'linear'] as PetMethod[]) {
      for (const merge of merges) {
        const m = merge && merge.blocks.some((b) => b >= vit.depth) ? undefined : merge;
        for (const mode of ['forward', 'backward', 'train-step'] as Mode[]) {
          for (const batch of mode === 'forward' ? [1, 4] : [1]) {
            const spec: ModelSpec = { vit, batch, pet: { ...DEFAULT_PET[method], bits: method === 'lora' ? 1 : 32, dim: method === 'adaptformer' || method === 'lora' ? 4 : 0 }, merge: m };
            const plan = compileModel(spec, mode);
            for (const k of [...plan.kernels, ...plan.steps.map((s) => s.kernel)]) {
              kernels++;
              if (seen.has(k.wgsl)) continue;
              seen.add(k.wgsl);
              for (const name of declaredNames(k.wgsl)) {
                const why = whyUndeclarable(name);
                assert.equal(why, undefined, `${preset} ${method} ${JSON.stringify(m?.blocks)} ${mode}: kernel ${k.name} declares "${name}" (${why})`);
              }
            }
          }
        }
      }
    }
  }
  console.log(`checked the declared names of ${kernels} kernels (${seen.size} distinct WGSL modules)`);
});

test('batch 1 keeps the fusion of batch 4: same kernels, same horizontal (multi-output) groups', () => {
  const vit = VIT_PRESETS['vit-mnist'];
  for (const merge of [undefined, { ...DEFAULT_MERGE, blocks: [3] }]) {
    const plans = [1, 4].map((batch) => compileModel({ vit, batch, pet: DEFAULT_PET.adaptformer, merge }, 'train-step'));
    const [b1, b4] = plans.map((p) => ({ kernels: p.kernels.length, multi: p.kernels.filter((k) => k.outputs.length > 1).length, outputs: p.kernels.map((k) => k.outputs.length).join() }));
    assert.ok(b4!.multi > 0, 'the AdamW update is horizontally fused at batch 4');
    assert.deepEqual(b1, b4, `merge ${merge ? 'fpet' : 'none'}: batch 1 ${JSON.stringify(b1)} vs batch 4 ${JSON.stringify(b4)}`);
    console.log(`vit-mnist train step (${merge ? 'FPET' : 'no merge'}): ${b1!.kernels} kernels, ${b1!.multi} multi-output at batch 1 and at batch 4`);
  }
});

/** Names a WGSL module declares: functions, parameters, module-scope variables, let/var/const. */
function declaredNames(wgsl: string): string[] {
  const code = wgsl.replace(/\/\/[^\n]*/g, '');
  const out: string[] = [];
  for (const m of code.matchAll(/\b(?:let|var(?:<[^>]*>)?|const|fn|override|alias|struct)\s+([A-Za-z_]\w*)/g)) out.push(m[1]!);
  // Function parameters: "name: type" inside fn headers (attributes like @builtin(x) skipped).
  for (const m of code.matchAll(/\bfn\s+\w+\s*\(/g)) {
    let depth = 1, i = m.index! + m[0].length;
    const start = i;
    while (i < code.length && depth > 0) {
      if (code[i] === '(') depth++;
      else if (code[i] === ')') depth--;
      i++;
    }
    const params = code.slice(start, i - 1).replace(/@\w+(\([^)]*\))?/g, '');
    for (const p of params.matchAll(/([A-Za-z_]\w*)\s*:/g)) out.push(p[1]!);
  }
  return out;
}
