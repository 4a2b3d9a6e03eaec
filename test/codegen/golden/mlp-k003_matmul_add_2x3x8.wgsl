// k003_matmul_add_2x3x8: matmul kernel, tiled 16x8x16 reg1x1 wg8x16; workgroup 8x16x1, dispatch 1x1x1
//   binding 0 buf0 (read/write): %39 add -> output "y" f32[2,3,8]
//   binding 1 buf1 (read/write): %34 reshape f32[6,12]
//   binding 2 buf2 (read): %32 param "fc2.weight" f32[8,12]
//   binding 3 buf3 (read): %0 input "x" f32[2,3,8]
//   binding 4 buf4 (read): %33 param "fc2.bias" f32[8]
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
      let r = l / 16u;
      let c = l % 16u;
      let gm_0 = min(m0 + r, 5u);
      let gk_1 = min(k0 + c, 11u);
      let v_2 = buf1[gm_0 * 12u + gk_1];
      As[l] = select(0.0, v_2, m0 + r < 6u && k0 + c < 12u);
    }
    for (var l = lid; l < 128u; l += 128u) {
      let r = l / 8u;
      let c = l % 8u;
      let gk_3 = min(k0 + r, 11u);
      let gn_4 = min(n0 + c, 7u);
      let v_5 = buf2[gn_4 * 12u + gk_3];
      Bs[l] = select(0.0, v_5, k0 + r < 12u && n0 + c < 8u);
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
        let f_6 = gm * 8u + gn;
        let i_9 = f_6 % 8u;
        let v_10 = buf3[f_6];
        let v_11 = buf4[i_9];
        let v_12 = acc[i * 1u + j] + v_11;
        let v_13 = v_10 + v_12;
        buf0[f_6] = v_13;
      }
    }
  }
}
