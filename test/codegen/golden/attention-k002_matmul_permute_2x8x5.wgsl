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
  let i_11 = cc_10 / 5u;
  let i_12 = cc_10 % 5u;
  let cc_13 = min(c_1 + 1u, 9u);
  let i_14 = cc_13 / 5u;
  let i_15 = cc_13 % 5u;
  let cc_16 = min(c_1 + 2u, 9u);
  let i_17 = cc_16 / 5u;
  let i_18 = cc_16 % 5u;
  let cc_19 = min(c_1 + 3u, 9u);
  let i_20 = cc_19 / 5u;
  let i_21 = cc_19 % 5u;
  for (var k_22 = 0u; k_22 < opaque_0 + 8u; k_22 += 4u) {
    let vl_23 = buf0[k_22 / 4u];
    let vl_24 = buf0[k_22 / 4u + 2u];
    let vl_25 = buf0[k_22 / 4u + 4u];
    let vl_26 = buf0[k_22 / 4u + 6u];
    let vl_27 = buf0[k_22 / 4u + 8u];
    let vl_28 = buf0[k_22 / 4u + 10u];
    let vl_29 = buf0[k_22 / 4u + 12u];
    let vl_30 = buf0[k_22 / 4u + 14u];
    let vl_31 = buf1[i_11 * 10u + i_12 * 2u + k_22 / 4u];
    let vl_32 = buf1[i_14 * 10u + i_15 * 2u + k_22 / 4u];
    let vl_33 = buf1[i_17 * 10u + i_18 * 2u + k_22 / 4u];
    let vl_34 = buf1[i_20 * 10u + i_21 * 2u + k_22 / 4u];
    let yt_35 = vec4<f32>(vl_31.x, vl_32.x, vl_33.x, vl_34.x);
    let yt_36 = vec4<f32>(vl_31.y, vl_32.y, vl_33.y, vl_34.y);
    let yt_37 = vec4<f32>(vl_31.z, vl_32.z, vl_33.z, vl_34.z);
    let yt_38 = vec4<f32>(vl_31.w, vl_32.w, vl_33.w, vl_34.w);
    acc_2 = acc_2 + vl_23.x * yt_35 + vl_23.y * yt_36 + vl_23.z * yt_37 + vl_23.w * yt_38;
    acc_3 = acc_3 + vl_24.x * yt_35 + vl_24.y * yt_36 + vl_24.z * yt_37 + vl_24.w * yt_38;
    acc_4 = acc_4 + vl_25.x * yt_35 + vl_25.y * yt_36 + vl_25.z * yt_37 + vl_25.w * yt_38;
    acc_5 = acc_5 + vl_26.x * yt_35 + vl_26.y * yt_36 + vl_26.z * yt_37 + vl_26.w * yt_38;
    acc_6 = acc_6 + vl_27.x * yt_35 + vl_27.y * yt_36 + vl_27.z * yt_37 + vl_27.w * yt_38;
    acc_7 = acc_7 + vl_28.x * yt_35 + vl_28.y * yt_36 + vl_28.z * yt_37 + vl_28.w * yt_38;
    acc_8 = acc_8 + vl_29.x * yt_35 + vl_29.y * yt_36 + vl_29.z * yt_37 + vl_29.w * yt_38;
    acc_9 = acc_9 + vl_30.x * yt_35 + vl_30.y * yt_36 + vl_30.z * yt_37 + vl_30.w * yt_38;
  }
  var accs_39 = array<vec4<f32>, 8>(acc_2, acc_3, acc_4, acc_5, acc_6, acc_7, acc_8, acc_9);
  for (var r_40 = 0u; r_40 < opaque_0 + 8u; r_40++) {
    for (var i_41 = 0u; i_41 < opaque_0 + 4u; i_41++) {
      let gm_42 = c_1 + i_41;
      let gm_43 = min(gm_42, 9u);
      let i_44 = gm_43 / 5u;
      let i_45 = gm_43 % 5u;
      if (gm_42 < 10u) { buf2[i_44 * 40u + r_40 * 5u + i_45] = accs_39[r_40][i_41]; }
    }
  }
}
