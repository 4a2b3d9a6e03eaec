// k000_map_mul_8x12: map kernel, wg64 vec4; workgroup 64x1x1, dispatch 1x1x1
//   binding 0 buf0 (read/write): %19 mul f32[8,12]
//   binding 1 buf1 (read): %15 param "fc1.weight" f32[12,8]
//   binding 2 buf2 (read): %1 param "ln.weight" f32[8]
@group(0) @binding(0) var<storage, read_write> buf0: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> buf1: array<f32>;
@group(0) @binding(2) var<storage, read> buf2: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g_0 = (wid.x + wid.y * nwg.x) * 64u + lid;
  let n_1 = arrayLength(&buf0) * 4u / 4u;
  if (g_0 >= n_1) { return; }
  let f_2 = g_0 * 4u;
  let i_3 = f_2 / 12u;
  let i_4 = f_2 % 12u;
  let v_5 = buf1[i_4 * 8u + i_3];
  let v_6 = buf1[(i_4 + 1u) * 8u + i_3];
  let v_7 = buf1[(i_4 + 2u) * 8u + i_3];
  let v_8 = buf1[(i_4 + 3u) * 8u + i_3];
  let vq_9 = vec4<f32>(v_5, v_6, v_7, v_8);
  let v_10 = buf2[i_3];
  let vs_11 = vec4<f32>(v_10);
  let vv_12 = vq_9 * vs_11;
  buf0[g_0] = vv_12;
}
