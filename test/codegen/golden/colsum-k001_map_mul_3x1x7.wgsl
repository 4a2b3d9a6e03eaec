// k001_map_mul_3x1x7: map kernel, wg64; workgroup 64x1x1, dispatch 1x1x1
//   binding 0 buf0 (read/write): %4 mul -> output "y" f32[3,1,7]
//   binding 1 buf1 (read/write): %2 sum f32[3,1,7]
//   binding 2 buf2 (read): %3 param "scale" f32[7]
@group(0) @binding(0) var<storage, read_write> buf0: array<f32>;
@group(0) @binding(1) var<storage, read_write> buf1: array<f32>;
@group(0) @binding(2) var<storage, read> buf2: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g_0 = (wid.x + wid.y * nwg.x) * 64u + lid;
  let n_1 = arrayLength(&buf0);
  if (g_0 >= n_1) { return; }
  let i_2 = g_0 % 7u;
  let v_3 = buf1[g_0];
  let v_4 = buf2[i_2];
  let v_5 = v_3 * v_4;
  buf0[g_0] = v_5;
}
