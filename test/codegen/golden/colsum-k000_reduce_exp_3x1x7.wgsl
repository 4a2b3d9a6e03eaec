// k000_reduce_exp_3x1x7: reduce kernel, wg64 loop5; workgroup 64x1x1, dispatch 1x1x1
//   binding 0 buf0 (read/write): %2 sum f32[3,1,7]
//   binding 1 buf1 (read): %0 input "x" f32[3,5,7]
@group(0) @binding(0) var<storage, read_write> buf0: array<f32>;
@group(0) @binding(1) var<storage, read> buf1: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let opaque_0 = wid.x >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
  let g_1 = (wid.x + wid.y * nwg.x) * 64u + lid;
  let n_2 = arrayLength(&buf0);
  if (g_1 >= n_2) { return; }
  let i_3 = g_1 / 7u;
  let i_4 = g_1 % 7u;
  var acc_5 = 0.0;
  for (var k_6 = 0u; k_6 < opaque_0 + 5u; k_6++) {
    let v_7 = buf1[i_3 * 35u + k_6 * 7u + i_4];
    let v_8 = exp(v_7);
    acc_5 = acc_5 + v_8;
  }
  buf0[g_1] = acc_5;
}
