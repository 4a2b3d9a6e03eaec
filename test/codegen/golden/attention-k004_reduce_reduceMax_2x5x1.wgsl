@group(0) @binding(0) var<storage, read_write> buf0: array<f32>;
@group(0) @binding(1) var<storage, read_write> buf1: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = (wid.x + wid.y * nwg.x) * 64u + lid;
  if (g >= 10u) { return; }
  let i_0 = g / 5u;
  let i_1 = (g) % 5u;
  var acc = (-3.4028234663852886e+38);
  for (var k = 0u; k < 5u; k++) {
    let v_2 = buf1[i_0 * 25u + i_1 * 5u + k];
    acc = max(acc, v_2);
  }
  buf0[g] = acc;
}
