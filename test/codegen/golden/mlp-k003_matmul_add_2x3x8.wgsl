@group(0) @binding(0) var<storage, read_write> buf0: array<f32>;
@group(0) @binding(1) var<storage, read_write> buf1: array<f32>;
@group(0) @binding(2) var<storage, read> buf2: array<f32>;
@group(0) @binding(3) var<storage, read> buf3: array<f32>;
@group(0) @binding(4) var<storage, read> buf4: array<f32>;
var<workgroup> As: array<f32, 256>;
var<workgroup> Bs: array<f32, 128>;

@compute @workgroup_size(8, 16, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u, @builtin(local_invocation_index) lid: u32) {
  let m0 = wid.y * 16u;
  let n0 = wid.x * 8u;
  var acc: array<f32, 1>;
  for (var k0 = 0u; k0 < 12u; k0 += 16u) {
    for (var l = lid; l < 256u; l += 128u) {
      let r = l / 16u; let c = l % 16u;
      let gm = min(m0 + r, 5u); let gk = min(k0 + c, 11u);
      let v_0 = buf1[gm * 12u + gk];
      As[l] = select(0.0, v_0, m0 + r < 6u && k0 + c < 12u);
    }
    for (var l = lid; l < 128u; l += 128u) {
      let r = l / 8u; let c = l % 8u;
      let gk = min(k0 + r, 11u); let gn = min(n0 + c, 7u);
      let v_1 = buf2[gn * 12u + gk];
      Bs[l] = select(0.0, v_1, k0 + r < 12u && n0 + c < 8u);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk++) {
      let a0 = As[(lid3.y * 1u + 0u) * 16u + kk];
      let b0 = Bs[kk * 8u + lid3.x * 1u + 0u];
      acc[0] = fma(a0, b0, acc[0]);
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 1u; i++) {
    for (var j = 0u; j < 1u; j++) {
      let gm = m0 + lid3.y * 1u + i;
      let gn = n0 + lid3.x * 1u + j;
      if (gm < 6u && gn < 8u) {
        let f_2 = gm * 8u + gn;
        let i_3 = f_2 / 24u;
        let i_4 = (f_2 / 8u) % 3u;
        let i_5 = (f_2) % 8u;
        let v_6 = buf3[f_2];
        let v_7 = buf4[i_5];
        let v_8 = acc[i * 1u + j] + v_7;
        let v_9 = v_6 + v_8;
        buf0[f_2] = v_9;
      }
    }
  }
}
