@group(0) @binding(0) var<storage, read_write> buf0: array<f32>;
@group(0) @binding(1) var<storage, read_write> buf1: array<f32>;
@group(0) @binding(2) var<storage, read> buf2: array<f32>;
@group(0) @binding(3) var<storage, read> buf3: array<f32>;
var<workgroup> As: array<f32, 128>;
var<workgroup> Bs: array<f32, 64>;

@compute @workgroup_size(8, 16, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u, @builtin(local_invocation_index) lid: u32) {
  let m0 = wid.y * 16u;
  let n0 = wid.x * 8u;
  var acc: array<f32, 1>;
  for (var k0 = 0u; k0 < 8u; k0 += 8u) {
    for (var l = lid; l < 128u; l += 128u) {
      let r = l / 8u; let c = l % 8u;
      let gm = min(m0 + r, 9u); let gk = min(k0 + c, 7u);
      let v_0 = buf1[gm * 8u + gk];
      As[l] = select(0.0, v_0, m0 + r < 10u && k0 + c < 8u);
    }
    for (var l = lid; l < 64u; l += 128u) {
      let r = l / 8u; let c = l % 8u;
      let gk = min(k0 + r, 7u); let gn = min(n0 + c, 7u);
      let v_1 = buf2[gn * 8u + gk];
      Bs[l] = select(0.0, v_1, k0 + r < 8u && n0 + c < 8u);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 8u; kk++) {
      let a0 = As[(lid3.y * 1u + 0u) * 8u + kk];
      let b0 = Bs[kk * 8u + lid3.x * 1u + 0u];
      acc[0] = fma(a0, b0, acc[0]);
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 1u; i++) {
    for (var j = 0u; j < 1u; j++) {
      let gm = m0 + lid3.y * 1u + i;
      let gn = n0 + lid3.x * 1u + j;
      if (gm < 10u && gn < 8u) {
        let f_2 = gm * 8u + gn;
        let i_3 = f_2 / 40u;
        let i_4 = (f_2 / 8u) % 5u;
        let i_5 = (f_2) % 8u;
        let v_6 = buf3[i_5];
        let v_7 = acc[i * 1u + j] + v_6;
        buf0[f_2] = v_7;
      }
    }
  }
}
