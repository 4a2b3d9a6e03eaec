// A custom graph end to end: build a small network with the IR, take its gradients, compile it
// to WGSL, look at a generated kernel, run it on the GPU and check it against the float64
// reference (values and gradients), then check the gradients themselves with finite differences.
//
//   node --import tsx --conditions=fpet-webgpu-source examples/custom-graph.ts   (in a clone)
//   node custom-graph.js                                                         (compiled, with the package installed)

import { GraphBuilder, checkGradients, compile, evaluate, gradients, gradName, nn, requestGpu, scaledError, mulberry32, uniformArray } from 'fpet-webgpu';

// y = LayerNorm(GELU(x W1ᵀ + b1)) W2ᵀ, loss = mean of squares: 7 rows of 12 features.
const b = new GraphBuilder();
const x = b.input('x', [7, 12]);
const w1 = b.param('w1', [16, 12], { trainable: true }), b1 = b.param('b1', [16], { trainable: true });
const g = b.param('g', [16], { trainable: true }), beta = b.param('beta', [16], { trainable: true });
const w2 = b.param('w2', [3, 16], { trainable: true });
const h = nn.layerNorm(nn.gelu(nn.linear(x, w1, b1)), g, beta);
const y = nn.linear(h, w2);
b.output('y', y);
b.output('loss', y.square().sumAll().mul(1 / y.size));
const graph = gradients(b.build(), { loss: 'loss' });

const rand = mulberry32(7);
const feeds = {
  x: uniformArray(rand, 7 * 12), w1: uniformArray(rand, 16 * 12, -0.3, 0.3), b1: uniformArray(rand, 16, -0.1, 0.1),
  g: uniformArray(rand, 16, 0.5, 1.5), beta: uniformArray(rand, 16, -0.1, 0.1), w2: uniformArray(rand, 3 * 16, -0.3, 0.3),
};

const gpu = await requestGpu();
const program = await compile(graph, gpu);
// The generated code: here the LayerNorm statistics kernel (a row kernel), header first.
const kernel = program.plan.kernels.find((k) => k.kind === 'row') ?? program.plan.kernels[0]!;
console.log(`${program.plan.kernels.length} kernels for forward + backward (${program.plan.uniqueKernels} distinct); ${kernel.name}:\n`);
console.log(kernel.wgsl);

const out = await program.execute(feeds);
const ref = evaluate(graph, feeds).outputs;
let worst = 0;
for (const name of graph.outputs.keys()) {
  const e = scaledError(name, out[name]!, ref[name]!.data);
  worst = Math.max(worst, e.error);
  console.log(`${name.padEnd(10)} GPU (f32) vs float64: ${e.error.toExponential(2)}`);
}
const fd = checkGradients(b.build(), feeds, { loss: 'loss', tol: 1e-6 });
console.log(`float64 gradients vs finite differences: ${fd.checked} entries, max error ${fd.maxError.toExponential(2)}`);
console.log(`d loss / d w2[0] on the GPU: ${out[gradName('w2')]![0]!.toFixed(6)}`);
program.destroy();
if (!(worst < 1e-4) || !fd.ok) {
  console.error('MISMATCH');
  process.exit(1);
}
process.exit(0);
