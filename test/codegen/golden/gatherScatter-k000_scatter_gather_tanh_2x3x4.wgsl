// k000_scatter_gather_tanh_2x3x4: scatter kernel, wg64 sources5; workgroup 64x1x1, dispatch 1x1x1
//   binding 0 buf0 (read/write): %5 scatterAdd -> output "y" f32[2,3,4]
//   binding 1 buf1 (read): %0 input "x" f32[2,6,4]
fn tanh_f32(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}
@group(0) @binding(0) var<storage, read_write> buf0: array<f32>;
@group(0) @binding(1) var<storage, read> buf1: array<f32>;
var<private> table_3: array<i32, 10> = array<i32, 10>(i32(0), i32(2), i32(1), i32(2), i32(0), i32(1), i32(1), i32(0), i32(2), i32(2));
var<private> table_5: array<i32, 5> = array<i32, 5>(i32(5), i32(0), i32(3), i32(3), i32(1));

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let opaque0 = wid.x >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
  let g = (wid.x + wid.y * nwg.x) * 64u + lid;
  if (g >= 24u) { return; }
  let i_0 = g / 12u;
  let i_1 = g / 4u % 3u;
  let i_2 = g % 4u;
  var acc = 0.0;
  for (var j = 0u; j < 5u + opaque0; j++) {
    let v_4 = table_3[i_0 * 5u + j];
    if (u32(v_4) == i_1) {
      let v_6 = table_5[j];
      let i_7 = u32(clamp(v_6, 0, 5));
      let v_8 = buf1[i_0 * 24u + i_7 * 4u + i_2];
      let v_9 = tanh_f32(v_8);
      acc += v_9;
    }
  }
  buf0[g] = acc;
}
