// k000_matmul_add_2x5x8: matmul kernel, vec4 r8 wg8x1 swap x:k y:k store4; workgroup 8x1x1, dispatch 1x1x1
//   binding 0 buf0 (read): %1 param "q.weight" f32[8,8]
//   binding 1 buf1 (read): %0 input "x" f32[2,5,8]
//   binding 2 buf2 (read): %2 param "q.bias" f32[8]
//   binding 3 buf3 (read/write): %7 add f32[2,5,8]
@group(0) @binding(0) var<storage, read> buf0: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> buf1: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> buf2: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> buf3: array<vec4<f32>>;

@compute @workgroup_size(8, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let opaque_0 = wid.x >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
  let n_1 = arrayLength(&buf1) * 4u / 10u;
  let c_2 = lid3.x * 4u;
  var acc_3 = vec4<f32>(0.0);
  var acc_4 = vec4<f32>(0.0);
  var acc_5 = vec4<f32>(0.0);
  var acc_6 = vec4<f32>(0.0);
  var acc_7 = vec4<f32>(0.0);
  var acc_8 = vec4<f32>(0.0);
  var acc_9 = vec4<f32>(0.0);
  var acc_10 = vec4<f32>(0.0);
  let k4_11 = n_1 / 4u * 4u;
  let cc_12 = min(c_2, 9u);
  let cc_13 = min(c_2 + 1u, 9u);
  let cc_14 = min(c_2 + 2u, 9u);
  let cc_15 = min(c_2 + 3u, 9u);
  for (var k_16 = 0u; k_16 < k4_11; k_16 += 4u) {
    let vl_17 = buf0[k_16 / 4u];
    let vl_18 = buf0[k_16 / 4u + 2u];
    let vl_19 = buf0[k_16 / 4u + 4u];
    let vl_20 = buf0[k_16 / 4u + 6u];
    let vl_21 = buf0[k_16 / 4u + 8u];
    let vl_22 = buf0[k_16 / 4u + 10u];
    let vl_23 = buf0[k_16 / 4u + 12u];
    let vl_24 = buf0[k_16 / 4u + 14u];
    let f_25 = cc_12 * 8u + k_16;
    let i_26 = k_16 % 8u;
    let vl_27 = buf1[f_25 / 8u * 2u + i_26 / 4u];
    let f_28 = cc_13 * 8u + k_16;
    let vl_29 = buf1[f_28 / 8u * 2u + i_26 / 4u];
    let f_30 = cc_14 * 8u + k_16;
    let vl_31 = buf1[f_30 / 8u * 2u + i_26 / 4u];
    let f_32 = cc_15 * 8u + k_16;
    let vl_33 = buf1[f_32 / 8u * 2u + i_26 / 4u];
    let yt_34 = vec4<f32>(vl_27.x, vl_29.x, vl_31.x, vl_33.x);
    let yt_35 = vec4<f32>(vl_27.y, vl_29.y, vl_31.y, vl_33.y);
    let yt_36 = vec4<f32>(vl_27.z, vl_29.z, vl_31.z, vl_33.z);
    let yt_37 = vec4<f32>(vl_27.w, vl_29.w, vl_31.w, vl_33.w);
    acc_3 = acc_3 + vl_17.x * yt_34 + vl_17.y * yt_35 + vl_17.z * yt_36 + vl_17.w * yt_37;
    acc_4 = acc_4 + vl_18.x * yt_34 + vl_18.y * yt_35 + vl_18.z * yt_36 + vl_18.w * yt_37;
    acc_5 = acc_5 + vl_19.x * yt_34 + vl_19.y * yt_35 + vl_19.z * yt_36 + vl_19.w * yt_37;
    acc_6 = acc_6 + vl_20.x * yt_34 + vl_20.y * yt_35 + vl_20.z * yt_36 + vl_20.w * yt_37;
    acc_7 = acc_7 + vl_21.x * yt_34 + vl_21.y * yt_35 + vl_21.z * yt_36 + vl_21.w * yt_37;
    acc_8 = acc_8 + vl_22.x * yt_34 + vl_22.y * yt_35 + vl_22.z * yt_36 + vl_22.w * yt_37;
    acc_9 = acc_9 + vl_23.x * yt_34 + vl_23.y * yt_35 + vl_23.z * yt_36 + vl_23.w * yt_37;
    acc_10 = acc_10 + vl_24.x * yt_34 + vl_24.y * yt_35 + vl_24.z * yt_36 + vl_24.w * yt_37;
  }
  var accs_38 = array<vec4<f32>, 8>(acc_3, acc_4, acc_5, acc_6, acc_7, acc_8, acc_9, acc_10);
  for (var i_39 = 0u; i_39 < opaque_0 + 4u; i_39++) {
    let gm_40 = c_2 + i_39;
    let gm_41 = min(gm_40, 9u);
    for (var q_42 = 0u; q_42 < opaque_0 + 2u; q_42++) {
      let cv_43 = vec4<f32>(accs_38[q_42 * 4u][i_39], accs_38[q_42 * 4u + 1u][i_39], accs_38[q_42 * 4u + 2u][i_39], accs_38[q_42 * 4u + 3u][i_39]);
      let gn_44 = q_42 * 4u;
      let f_45 = gm_41 * 8u + gn_44;
      let vl_46 = buf2[gn_44 / 4u];
      let vv_47 = cv_43 + vl_46;
      if (gm_40 < 10u) { buf3[f_45 / 4u] = vv_47; }
    }
  }
}
