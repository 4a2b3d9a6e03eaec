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
  let i0 = g / 12u;
  let i1 = (g / 4u) % 3u;
  let i2 = (g) % 4u;
  var acc = 0.0;
  for (var j = 0u; j < 5u; j++) {
    let v3 = buf1[i0 * 5u + j];
    if (u32(v3) == i1) {
      let v4 = buf2[j];
      let i5 = u32(clamp(i32(v4), 0, 5));
      let v6 = buf3[i0 * 24u + i5 * 4u + i2];
      let v7 = tanh_f32(v6);
      acc += v7;
    }
  }
  buf0[g] = acc;
}
