// k006_matmul_sub_exp_div_10x8: matmul kernel, tiled 16x8x8 reg1x1 wg8x16; workgroup 8x16x1, dispatch 1x1x2
//   binding 0 buf0 (read/write): %31 reshape f32[10,8]
//   binding 1 buf1 (read/write): %21 mul f32[2,5,5]
//   binding 2 buf2 (read/write): %22 reduceMax f32[2,5,1]
//   binding 3 buf3 (read/write): %26 sum f32[2,5,1]
//   binding 4 buf4 (read/write): %17 reshape f32[2,5,8]
@group(0) @binding(0) var<storage, read_write> buf0: array<f32>;
@group(0) @binding(1) var<storage, read_write> buf1: array<f32>;
@group(0) @binding(2) var<storage, read_write> buf2: array<f32>;
@group(0) @binding(3) var<storage, read_write> buf3: array<f32>;
@group(0) @binding(4) var<storage, read_write> buf4: array<f32>;
var<workgroup> As: array<f32, 128>;
var<workgroup> Bs: array<f32, 64>;

@compute @workgroup_size(8, 16, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u, @builtin(local_invocation_index) lid: u32) {
  let m0 = wid.y * 16u;
  let n0 = wid.x * 8u;
  var acc: array<f32, 1>;
  for (var k0 = 0u; k0 < 5u; k0 += 8u) {
    for (var l = lid; l < 128u; l += 128u) {
      let r = l / 8u;
      let c = l % 8u;
      let gm_0 = min(m0 + r, 4u);
      let gk_1 = min(k0 + c, 4u);
      let v_2 = buf1[wid.z * 25u + gm_0 * 5u + gk_1];
      let v_3 = buf2[wid.z * 5u + gm_0];
      let v_4 = v_2 - v_3;
      let v_5 = exp(v_4);
      let v_6 = buf3[wid.z * 5u + gm_0];
      let v_7 = v_5 / v_6;
      As[l] = select(0.0, v_7, m0 + r < 5u && k0 + c < 5u);
    }
    for (var l = lid; l < 64u; l += 128u) {
      let r = l / 8u;
      let c = l % 8u;
      let gk_8 = min(k0 + r, 4u);
      let gn_9 = min(n0 + c, 7u);
      let v_10 = buf4[wid.z * 40u + gk_8 * 8u + gn_9];
      Bs[l] = select(0.0, v_10, k0 + r < 5u && n0 + c < 8u);
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
      if (gm < 5u && gn < 8u) {
        let f_11 = wid.z * 40u + gm * 8u + gn;
        buf0[f_11] = acc[i * 1u + j];
      }
    }
  }
}
