// k000_matmul_add_2x5x8: matmul kernel, tiled 16x8x8 reg1x1 wg8x16; workgroup 8x16x1, dispatch 1x1x1
//   binding 0 buf0 (read/write): %7 add f32[2,5,8]
//   binding 1 buf1 (read): %0 input "x" f32[2,5,8]
//   binding 2 buf2 (read): %1 param "q.weight" f32[8,8]
//   binding 3 buf3 (read): %2 param "q.bias" f32[8]
@group(0) @binding(0) var<storage, read_write> buf0: array<f32>;
@group(0) @binding(1) var<storage, read> buf1: array<f32>;
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
      let r = l / 8u;
      let c = l % 8u;
      let gm_0 = min(m0 + r, 9u);
      let gk_1 = min(k0 + c, 7u);
      let f_2 = gm_0 * 8u + gk_1;
      let v_6 = buf1[f_2];
      As[l] = select(0.0, v_6, m0 + r < 10u && k0 + c < 8u);
    }
    for (var l = lid; l < 64u; l += 128u) {
      let r = l / 8u;
      let c = l % 8u;
      let gk_7 = min(k0 + r, 7u);
      let gn_8 = min(n0 + c, 7u);
      let v_9 = buf2[gn_8 * 8u + gk_7];
      Bs[l] = select(0.0, v_9, k0 + r < 8u && n0 + c < 8u);
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
        let f_10 = gm * 8u + gn;
        let i_13 = f_10 % 8u;
        let v_14 = buf3[i_13];
        let v_15 = acc[i * 1u + j] + v_14;
        buf0[f_10] = v_15;
      }
    }
  }
}
