fn erf_f32(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-a * a));
}@group(0) @binding(0) var<storage, read_write> buf0: array<f32>;
@group(0) @binding(1) var<storage, read> buf1: array<f32>;
@group(0) @binding(2) var<storage, read_write> buf2: array<f32>;
@group(0) @binding(3) var<storage, read_write> buf3: array<f32>;
@group(0) @binding(4) var<storage, read> buf4: array<f32>;
@group(0) @binding(5) var<storage, read> buf5: array<f32>;
@group(0) @binding(6) var<storage, read> buf6: array<f32>;
@group(0) @binding(7) var<storage, read> buf7: array<f32>;
var<workgroup> As: array<f32, 128>;
var<workgroup> Bs: array<f32, 128>;

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u, @builtin(local_invocation_index) lid: u32) {
  let m0 = wid.y * 16u;
  let n0 = wid.x * 16u;
  var acc: array<f32, 1>;
  for (var k0 = 0u; k0 < 8u; k0 += 8u) {
    for (var l = lid; l < 128u; l += 256u) {
      let r = l / 8u; let c = l % 8u;
      let gm = min(m0 + r, 5u); let gk = min(k0 + c, 7u);
      let f_0 = gm * 8u + gk;
      let i_1 = f_0 / 24u;
      let i_2 = (f_0 / 8u) % 3u;
      let i_3 = (f_0) % 8u;
      let v_4 = buf1[f_0];
      let v_5 = buf2[i_1 * 3u + i_2];
      let v_6 = v_5 * 0.125;
      let v_7 = v_4 - v_6;
      let v_8 = buf3[i_1 * 3u + i_2];
      let v_9 = v_8 * 0.125;
      let v_10 = v_9 + 0.000001;
      let v_11 = inverseSqrt(v_10);
      let v_12 = v_7 * v_11;
      let v_13 = buf4[i_3];
      let v_14 = v_12 * v_13;
      let v_15 = buf5[i_3];
      let v_16 = v_14 + v_15;
      As[l] = select(0.0, v_16, m0 + r < 6u && k0 + c < 8u);
    }
    for (var l = lid; l < 128u; l += 256u) {
      let r = l / 16u; let c = l % 16u;
      let gk = min(k0 + r, 7u); let gn = min(n0 + c, 11u);
      let v_17 = buf6[gn * 8u + gk];
      Bs[l] = select(0.0, v_17, k0 + r < 8u && n0 + c < 12u);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 8u; kk++) {
      let a0 = As[(lid3.y * 1u + 0u) * 8u + kk];
      let b0 = Bs[kk * 16u + lid3.x * 1u + 0u];
      acc[0] = fma(a0, b0, acc[0]);
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 1u; i++) {
    for (var j = 0u; j < 1u; j++) {
      let gm = m0 + lid3.y * 1u + i;
      let gn = n0 + lid3.x * 1u + j;
      if (gm < 6u && gn < 12u) {
        let f_18 = gm * 12u + gn;
        let i_19 = f_18 / 36u;
        let i_20 = (f_18 / 12u) % 3u;
        let i_21 = (f_18) % 12u;
        let v_22 = buf7[i_21];
        let v_23 = acc[i * 1u + j] + v_22;
        let v_24 = v_23 * 0.7071067811865476;
        let v_25 = erf_f32(v_24);
        let v_26 = v_25 + 1.0;
        let v_27 = v_23 * v_26;
        let v_28 = v_27 * 0.5;
        buf0[f_18] = v_28;
      }
    }
  }
}
