// k000_reduce_sum_2x3x1: reduce kernel, wg64 loop8; workgroup 64x1x1, dispatch 1x1x1
//   binding 0 buf0 (read/write): %3 sum f32[2,3,1]
//   binding 1 buf1 (read): %0 input "x" f32[2,3,8]
@group(0) @binding(0) var<storage, read_write> buf0: array<f32>;
@group(0) @binding(1) var<storage, read> buf1: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let opaque0 = wid.x >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
  let g = (wid.x + wid.y * nwg.x) * 64u + lid;
  if (g >= 6u) { return; }
  let i_0 = g / 3u;
  let i_1 = g % 3u;
  var acc = 0.0;
  for (var k = 0u; k < 8u + opaque0; k++) {
    let v_2 = buf1[i_0 * 24u + i_1 * 8u + k];
    acc = acc + v_2;
  }
  buf0[g] = acc;
}
