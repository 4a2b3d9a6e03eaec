fn tanh_f32(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}@group(0) @binding(0) var<storage, read_write> buf0: array<f32>;
@group(0) @binding(1) var<storage, read> buf1: array<i32>;
@group(0) @binding(2) var<storage, read> buf2: array<i32>;
@group(0) @binding(3) var<storage, read> buf3: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = (wid.x + wid.y * nwg.x) * 64u + lid;
  if (g >= 24u) { return; }
  let i_0 = g / 12u;
  let i_1 = (g / 4u) % 3u;
  let i_2 = (g) % 4u;
  var acc = 0.0;
  for (var j = 0u; j < 5u; j++) {
    let v_3 = buf1[i_0 * 5u + j];
    if (u32(v_3) == i_1) {
      let v_4 = buf2[j];
      let i_5 = u32(clamp(i32(v_4), 0, 5));
      let v_6 = buf3[i_0 * 24u + i_5 * 4u + i_2];
      let v_7 = tanh_f32(v_6);
      acc += v_7;
    }
  }
  buf0[g] = acc;
}
