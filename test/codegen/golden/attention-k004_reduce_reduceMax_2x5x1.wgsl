// k004_reduce_reduceMax_2x5x1: reduce kernel, wg64 loop5; workgroup 64x1x1, dispatch 1x1x1
//   binding 0 buf0 (read/write): %22 reduceMax f32[2,5,1]
//   binding 1 buf1 (read/write): %21 mul f32[2,5,5]
@group(0) @binding(0) var<storage, read_write> buf0: array<f32>;
@group(0) @binding(1) var<storage, read_write> buf1: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = (wid.x + wid.y * nwg.x) * 64u + lid;
  if (g >= 10u) { return; }
  let i_0 = g / 5u;
  let i_1 = g % 5u;
  var acc = (-3.4028234663852886e+38);
  for (var k = 0u; k < 5u; k++) {
    let v_2 = buf1[i_0 * 25u + i_1 * 5u + k];
    acc = max(acc, v_2);
  }
  buf0[g] = acc;
}
