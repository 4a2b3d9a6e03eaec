// k001_reduce_mul_sub_mul_2x3x1: reduce kernel, wg64 loop8; workgroup 64x1x1, dispatch 1x1x1
//   binding 0 buf0 (read/write): %8 sum f32[2,3,1]
//   binding 1 buf1 (read): %0 input "x" f32[2,3,8]
//   binding 2 buf2 (read/write): %3 sum f32[2,3,1]
@group(0) @binding(0) var<storage, read_write> buf0: array<f32>;
@group(0) @binding(1) var<storage, read> buf1: array<f32>;
@group(0) @binding(2) var<storage, read_write> buf2: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let opaque_0 = wid.x >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
  let g_1 = (wid.x + wid.y * nwg.x) * 64u + lid;
  if (g_1 >= 6u) { return; }
  let i_2 = g_1 / 3u;
  let i_3 = g_1 % 3u;
  var acc_4 = 0.0;
  let v_5 = buf2[g_1];
  let v_6 = v_5 * 0.125;
  for (var k_7 = 0u; k_7 < opaque_0 + 8u; k_7++) {
    let v_8 = buf1[i_2 * 24u + i_3 * 8u + k_7];
    let v_9 = v_8 - v_6;
    let v_10 = v_9 * v_9;
    acc_4 = acc_4 + v_10;
  }
  buf0[g_1] = acc_4;
}
