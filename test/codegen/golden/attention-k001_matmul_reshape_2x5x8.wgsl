// k001_matmul_reshape_2x5x8: matmul kernel, vec4 r4 wg8x2 swap x:k y:k store4; workgroup 8x2x1, dispatch 1x1x1
//   binding 0 buf0 (read): %13 param "v.weight" f32[8,8]
//   binding 1 buf1 (read): %0 input "x" f32[2,5,8]
//   binding 2 buf2 (read/write): %17 reshape f32[2,5,8]
@group(0) @binding(0) var<storage, read> buf0: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> buf1: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> buf2: array<vec4<f32>>;

@compute @workgroup_size(8, 2, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let opaque_0 = wid.x >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
  let n_1 = arrayLength(&buf1) * 4u / 10u;
  let c_2 = lid3.x * 4u;
  let r_3 = lid3.y * 4u;
  var acc_4 = vec4<f32>(0.0);
  var acc_5 = vec4<f32>(0.0);
  var acc_6 = vec4<f32>(0.0);
  var acc_7 = vec4<f32>(0.0);
  let k4_8 = n_1 / 4u * 4u;
  let xr_9 = r_3 + 1u;
  let xr_10 = r_3 + 2u;
  let xr_11 = r_3 + 3u;
  let cc_12 = min(c_2, 9u);
  let cc_13 = min(c_2 + 1u, 9u);
  let cc_14 = min(c_2 + 2u, 9u);
  let cc_15 = min(c_2 + 3u, 9u);
  for (var k_16 = 0u; k_16 < k4_8; k_16 += 4u) {
    let vl_17 = buf0[r_3 * 2u + k_16 / 4u];
    let vl_18 = buf0[xr_9 * 2u + k_16 / 4u];
    let vl_19 = buf0[xr_10 * 2u + k_16 / 4u];
    let vl_20 = buf0[xr_11 * 2u + k_16 / 4u];
    let f_21 = cc_12 * 8u + k_16;
    let i_22 = k_16 % 8u;
    let vl_23 = buf1[f_21 / 8u * 2u + i_22 / 4u];
    let f_24 = cc_13 * 8u + k_16;
    let vl_25 = buf1[f_24 / 8u * 2u + i_22 / 4u];
    let f_26 = cc_14 * 8u + k_16;
    let vl_27 = buf1[f_26 / 8u * 2u + i_22 / 4u];
    let f_28 = cc_15 * 8u + k_16;
    let vl_29 = buf1[f_28 / 8u * 2u + i_22 / 4u];
    let yt_30 = vec4<f32>(vl_23.x, vl_25.x, vl_27.x, vl_29.x);
    let yt_31 = vec4<f32>(vl_23.y, vl_25.y, vl_27.y, vl_29.y);
    let yt_32 = vec4<f32>(vl_23.z, vl_25.z, vl_27.z, vl_29.z);
    let yt_33 = vec4<f32>(vl_23.w, vl_25.w, vl_27.w, vl_29.w);
    acc_4 = acc_4 + vl_17.x * yt_30 + vl_17.y * yt_31 + vl_17.z * yt_32 + vl_17.w * yt_33;
    acc_5 = acc_5 + vl_18.x * yt_30 + vl_18.y * yt_31 + vl_18.z * yt_32 + vl_18.w * yt_33;
    acc_6 = acc_6 + vl_19.x * yt_30 + vl_19.y * yt_31 + vl_19.z * yt_32 + vl_19.w * yt_33;
    acc_7 = acc_7 + vl_20.x * yt_30 + vl_20.y * yt_31 + vl_20.z * yt_32 + vl_20.w * yt_33;
  }
  var accs_34 = array<vec4<f32>, 4>(acc_4, acc_5, acc_6, acc_7);
  for (var i_35 = 0u; i_35 < opaque_0 + 4u; i_35++) {
    let gm_36 = c_2 + i_35;
    let gm_37 = min(gm_36, 9u);
    let f_38 = gm_37 * 8u + r_3;
    for (var q_39 = 0u; q_39 < opaque_0 + 1u; q_39++) {
      let cv_40 = vec4<f32>(accs_34[0u][i_35], accs_34[1u][i_35], accs_34[2u][i_35], accs_34[3u][i_35]);
      if (gm_36 < 10u) { buf2[f_38 / 4u] = cv_40; }
    }
  }
}
