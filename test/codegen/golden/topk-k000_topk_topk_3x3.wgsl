// k000_topk_topk_3x3: topk kernel, wg64 k3 n10; workgroup 64x1x1, dispatch 1x1x1
//   binding 0 buf0 (read/write): %1 topk -> output "idx" i32[3,3]
//   binding 1 buf1 (read): %0 input "x" f32[3,10]
@group(0) @binding(0) var<storage, read_write> buf0: array<i32>;
@group(0) @binding(1) var<storage, read> buf1: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let opaque_0 = wid.x >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
  let g_1 = (wid.x + wid.y * nwg.x) * 64u + lid;
  if (g_1 >= 3u) { return; }
  var prevV_2 = 0.0;
  var prevJ_3 = 0u;
  for (var t_4 = 0u; t_4 < opaque_0 + 3u; t_4++) {
    var bestV_5 = 0.0;
    var bestJ_6 = 10u;
    for (var j_7 = 0u; j_7 < opaque_0 + 10u; j_7++) {
      let v_8 = buf1[g_1 * 10u + j_7];
      let after_9 = t_4 == 0u || v_8 < prevV_2 || (v_8 == prevV_2 && j_7 > prevJ_3);
      if (after_9 && (bestJ_6 == 10u || v_8 > bestV_5)) {
        bestV_5 = v_8;
        bestJ_6 = j_7;
      }
    }
    buf0[g_1 * 3u + t_4] = i32(bestJ_6);
    prevV_2 = bestV_5;
    prevJ_3 = bestJ_6;
  }
}
