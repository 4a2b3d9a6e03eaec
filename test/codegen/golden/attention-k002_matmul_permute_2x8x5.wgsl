// k002_matmul_permute_2x8x5: matmul kernel, vec4 r8 wg8x1 swap x:k y:k; workgroup 8x1x1, dispatch 1x1x1
//   binding 0 buf0 (read): %8 param "k.weight" f32[8,8]
//   binding 1 buf1 (read): %0 input "x" f32[2,5,8]
//   binding 2 buf2 (read/write): %18 permute f32[2,8,5]
@group(0) @binding(0) var<storage, read> buf0: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> buf1: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> buf2: array<f32>;

@compute @workgroup_size(8, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let opaque_0 = wid.x >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
  let c_1 = lid3.x * 4u;
  var acc_2 = vec4<f32>(0.0);
  var acc_3 = vec4<f32>(0.0);
  var acc_4 = vec4<f32>(0.0);
  var acc_5 = vec4<f32>(0.0);
  var acc_6 = vec4<f32>(0.0);
  var acc_7 = vec4<f32>(0.0);
  var acc_8 = vec4<f32>(0.0);
  var acc_9 = vec4<f32>(0.0);
  let cc_10 = min(c_1, 9u);
  let cc_11 = min(c_1 + 1u, 9u);
  let cc_12 = min(c_1 + 2u, 9u);
  let cc_13 = min(c_1 + 3u, 9u);
  for (var k_14 = 0u; k_14 < opaque_0 + 8u; k_14 += 4u) {
    let vl_15 = buf0[k_14 / 4u];
    let vl_16 = buf0[k_14 / 4u + 2u];
    let vl_17 = buf0[k_14 / 4u + 4u];
    let vl_18 = buf0[k_14 / 4u + 6u];
    let vl_19 = buf0[k_14 / 4u + 8u];
    let vl_20 = buf0[k_14 / 4u + 10u];
    let vl_21 = buf0[k_14 / 4u + 12u];
    let vl_22 = buf0[k_14 / 4u + 14u];
    let vl_23 = buf1[cc_10 * 2u + k_14 / 4u];
    let vl_24 = buf1[cc_11 * 2u + k_14 / 4u];
    let vl_25 = buf1[cc_12 * 2u + k_14 / 4u];
    let vl_26 = buf1[cc_13 * 2u + k_14 / 4u];
    let yt_27 = vec4<f32>(vl_23.x, vl_24.x, vl_25.x, vl_26.x);
    let yt_28 = vec4<f32>(vl_23.y, vl_24.y, vl_25.y, vl_26.y);
    let yt_29 = vec4<f32>(vl_23.z, vl_24.z, vl_25.z, vl_26.z);
    let yt_30 = vec4<f32>(vl_23.w, vl_24.w, vl_25.w, vl_26.w);
    acc_2 = acc_2 + vl_15.x * yt_27 + vl_15.y * yt_28 + vl_15.z * yt_29 + vl_15.w * yt_30;
    acc_3 = acc_3 + vl_16.x * yt_27 + vl_16.y * yt_28 + vl_16.z * yt_29 + vl_16.w * yt_30;
    acc_4 = acc_4 + vl_17.x * yt_27 + vl_17.y * yt_28 + vl_17.z * yt_29 + vl_17.w * yt_30;
    acc_5 = acc_5 + vl_18.x * yt_27 + vl_18.y * yt_28 + vl_18.z * yt_29 + vl_18.w * yt_30;
    acc_6 = acc_6 + vl_19.x * yt_27 + vl_19.y * yt_28 + vl_19.z * yt_29 + vl_19.w * yt_30;
    acc_7 = acc_7 + vl_20.x * yt_27 + vl_20.y * yt_28 + vl_20.z * yt_29 + vl_20.w * yt_30;
    acc_8 = acc_8 + vl_21.x * yt_27 + vl_21.y * yt_28 + vl_21.z * yt_29 + vl_21.w * yt_30;
    acc_9 = acc_9 + vl_22.x * yt_27 + vl_22.y * yt_28 + vl_22.z * yt_29 + vl_22.w * yt_30;
  }
  var accs_31 = array<vec4<f32>, 8>(acc_2, acc_3, acc_4, acc_5, acc_6, acc_7, acc_8, acc_9);
  for (var r_32 = 0u; r_32 < opaque_0 + 8u; r_32++) {
    for (var i_33 = 0u; i_33 < opaque_0 + 4u; i_33++) {
      let gm_34 = c_1 + i_33;
      let gm_35 = min(gm_34, 9u);
      let i_36 = gm_35 / 5u;
      let i_37 = gm_35 % 5u;
      if (gm_34 < 10u) { buf2[i_36 * 40u + r_32 * 5u + i_37] = accs_31[r_32][i_33]; }
    }
  }
}
