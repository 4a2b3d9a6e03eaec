// k000_topk_topk_3x3: topk kernel, wg64 k3 n10; workgroup 64x1x1, dispatch 1x1x1
//   binding 0 buf0 (read/write): %1 topk -> output "idx" i32[3,3]
//   binding 1 buf1 (read): %0 input "x" f32[3,10]
@group(0) @binding(0) var<storage, read_write> buf0: array<i32>;
@group(0) @binding(1) var<storage, read> buf1: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let opaque0 = wid.x >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
  let g = (wid.x + wid.y * nwg.x) * 64u + lid;
  if (g >= 3u) { return; }
  var prevV = 0.0;
  var prevJ = 0u;
  for (var t = 0u; t < 3u + opaque0; t++) {
    var bestV = 0.0;
    var bestJ = 10u;
    for (var j = 0u; j < 10u + opaque0; j++) {
      let v_0 = buf1[g * 10u + j];
      let after = t == 0u || v_0 < prevV || (v_0 == prevV && j > prevJ);
      if (after && (bestJ == 10u || v_0 > bestV)) { bestV = v_0; bestJ = j; }
    }
    buf0[g * 3u + t] = i32(bestJ);
    prevV = bestV;
    prevJ = bestJ;
  }
}
