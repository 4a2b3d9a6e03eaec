// k002_matmul_mul_sub_mul_add_7more_6x12: matmul kernel, tiled 16x16x8 reg1x1 wg16x16; workgroup 16x16x1, dispatch 1x1x1
//   binding 0 buf0 (read/write): %34 reshape f32[6,12]
//   binding 1 buf1 (read): %0 input "x" f32[2,3,8]
//   binding 2 buf2 (read/write): %3 sum f32[2,3,1]
//   binding 3 buf3 (read/write): %8 sum f32[2,3,1]
//   binding 4 buf4 (read): %1 param "ln.weight" f32[8]
//   binding 5 buf5 (read): %2 param "ln.bias" f32[8]
//   binding 6 buf6 (read): %17 param "fc1.weight" f32[12,8]
//   binding 7 buf7 (read): %18 param "fc1.bias" f32[12]
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
      let r = l / 8u;
      let c = l % 8u;
      let gm_0 = min(m0 + r, 5u);
      let gk_1 = min(k0 + c, 7u);
      let f_2 = gm_0 * 8u + gk_1;
      let i_3 = f_2 / 24u;
      let i_4 = f_2 / 8u % 3u;
      let i_5 = f_2 % 8u;
      let v_6 = buf1[f_2];
      let v_7 = buf2[i_3 * 3u + i_4];
      let v_8 = v_7 * 0.125;
      let v_9 = v_6 - v_8;
      let v_10 = buf3[i_3 * 3u + i_4];
      let v_11 = v_10 * 0.125;
      let v_12 = v_11 + 0.000001;
      let v_13 = inverseSqrt(v_12);
      let v_14 = v_9 * v_13;
      let v_15 = buf4[i_5];
      let v_16 = v_14 * v_15;
      let v_17 = buf5[i_5];
      let v_18 = v_16 + v_17;
      As[l] = select(0.0, v_18, m0 + r < 6u && k0 + c < 8u);
    }
    for (var l = lid; l < 128u; l += 256u) {
      let r = l / 16u;
      let c = l % 16u;
      let gk_19 = min(k0 + r, 7u);
      let gn_20 = min(n0 + c, 11u);
      let v_21 = buf6[gn_20 * 8u + gk_19];
      Bs[l] = select(0.0, v_21, k0 + r < 8u && n0 + c < 12u);
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
        let f_22 = gm * 12u + gn;
        let i_25 = f_22 % 12u;
        let v_26 = buf7[i_25];
        let v_27 = acc[i * 1u + j] + v_26;
        let v_28 = v_27 * 0.7071067811865476;
        let v_29 = erf_f32(v_28);
        let v_30 = v_29 + 1.0;
        let v_31 = v_27 * v_30;
        let v_32 = v_31 * 0.5;
        buf0[f_22] = v_32;
      }
    }
  }
}
