// k001_map_gather_3x3: map kernel, wg64; workgroup 64x1x1, dispatch 1x1x1
//   binding 0 buf0 (read/write): %2 gather -> output "values" f32[3,3]
//   binding 1 buf1 (read/write): %1 topk -> output "idx" i32[3,3]
//   binding 2 buf2 (read): %0 input "x" f32[3,10]
@group(0) @binding(0) var<storage, read_write> buf0: array<f32>;
@group(0) @binding(1) var<storage, read_write> buf1: array<i32>;
@group(0) @binding(2) var<storage, read> buf2: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g_0 = (wid.x + wid.y * nwg.x) * 64u + lid;
  let n_1 = arrayLength(&buf0);
  if (g_0 >= n_1) { return; }
  let i_2 = g_0 / 3u;
  let v_3 = buf1[g_0];
  let i_4 = u32(clamp(v_3, 0i, 9i));
  let v_5 = buf2[i_2 * 10u + i_4];
  buf0[g_0] = v_5;
}
