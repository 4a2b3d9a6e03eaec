// k000_scatter_gather_tanh_2x3x4: scatter kernel, wg64 sources5; workgroup 64x1x1, dispatch 1x1x1
//   binding 0 buf0 (read/write): %5 scatterAdd -> output "y" f32[2,3,4]
//   binding 1 buf1 (read): %0 input "x" f32[2,6,4]
fn tanh_f32(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}
@group(0) @binding(0) var<storage, read_write> buf0: array<f32>;
@group(0) @binding(1) var<storage, read> buf1: array<f32>;
var<private> table0: array<i32, 10> = array<i32, 10>(0i, 2i, 1i, 2i, 0i, 1i, 1i, 0i, 2i, 2i);
var<private> table1: array<i32, 5> = array<i32, 5>(5i, 0i, 3i, 3i, 1i);

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let opaque_0 = wid.x >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
  let g_1 = (wid.x + wid.y * nwg.x) * 64u + lid;
  if (g_1 >= 24u) { return; }
  let i_2 = g_1 / 12u;
  let i_3 = g_1 / 4u % 3u;
  let i_4 = lid % 4u;
  var acc_5 = 0.0;
  for (var j_6 = 0u; j_6 < opaque_0 + 5u; j_6++) {
    let v_7 = table0[i_2 * 5u + j_6];
    if (u32(v_7) == i_3) {
      let v_8 = table1[j_6];
      let i_9 = u32(clamp(v_8, 0i, 5i));
      let v_10 = buf1[i_2 * 24u + i_9 * 4u + i_4];
      let v_11 = tanh_f32(v_10);
      acc_5 = acc_5 + v_11;
    }
  }
  buf0[g_1] = acc_5;
}
