// k004_matmul_add_2x5x8: matmul kernel, vec4 r8 wg8x1 swap x:k y:k store4; workgroup 8x1x1, dispatch 1x1x1
//   binding 0 buf0 (read): %29 param "proj.weight" f32[8,8]
//   binding 1 buf1 (read/write): %31 reshape f32[10,8]
//   binding 2 buf2 (read): %30 param "proj.bias" f32[8]
//   binding 3 buf3 (read/write): %35 add -> output "y" f32[2,5,8]
@group(0) @binding(0) var<storage, read> buf0: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> buf1: array<vec4<f32>>;
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
    let vl_25 = buf1[cc_12 * 2u + k_16 / 4u];
    let vl_26 = buf1[cc_13 * 2u + k_16 / 4u];
    let vl_27 = buf1[cc_14 * 2u + k_16 / 4u];
    let vl_28 = buf1[cc_15 * 2u + k_16 / 4u];
    let yt_29 = vec4<f32>(vl_25.x, vl_26.x, vl_27.x, vl_28.x);
    let yt_30 = vec4<f32>(vl_25.y, vl_26.y, vl_27.y, vl_28.y);
    let yt_31 = vec4<f32>(vl_25.z, vl_26.z, vl_27.z, vl_28.z);
    let yt_32 = vec4<f32>(vl_25.w, vl_26.w, vl_27.w, vl_28.w);
    acc_3 = acc_3 + vl_17.x * yt_29 + vl_17.y * yt_30 + vl_17.z * yt_31 + vl_17.w * yt_32;
    acc_4 = acc_4 + vl_18.x * yt_29 + vl_18.y * yt_30 + vl_18.z * yt_31 + vl_18.w * yt_32;
    acc_5 = acc_5 + vl_19.x * yt_29 + vl_19.y * yt_30 + vl_19.z * yt_31 + vl_19.w * yt_32;
    acc_6 = acc_6 + vl_20.x * yt_29 + vl_20.y * yt_30 + vl_20.z * yt_31 + vl_20.w * yt_32;
    acc_7 = acc_7 + vl_21.x * yt_29 + vl_21.y * yt_30 + vl_21.z * yt_31 + vl_21.w * yt_32;
    acc_8 = acc_8 + vl_22.x * yt_29 + vl_22.y * yt_30 + vl_22.z * yt_31 + vl_22.w * yt_32;
    acc_9 = acc_9 + vl_23.x * yt_29 + vl_23.y * yt_30 + vl_23.z * yt_31 + vl_23.w * yt_32;
    acc_10 = acc_10 + vl_24.x * yt_29 + vl_24.y * yt_30 + vl_24.z * yt_31 + vl_24.w * yt_32;
  }
  var accs_33 = array<vec4<f32>, 8>(acc_3, acc_4, acc_5, acc_6, acc_7, acc_8, acc_9, acc_10);
  for (var i_34 = 0u; i_34 < opaque_0 + 4u; i_34++) {
    let gm_35 = c_2 + i_34;
    let gm_36 = min(gm_35, 9u);
    for (var q_37 = 0u; q_37 < opaque_0 + 2u; q_37++) {
      let cv_38 = vec4<f32>(accs_33[q_37 * 4u][i_34], accs_33[q_37 * 4u + 1u][i_34], accs_33[q_37 * 4u + 2u][i_34], accs_33[q_37 * 4u + 3u][i_34]);
      let gn_39 = q_37 * 4u;
      let f_40 = gm_36 * 8u + gn_39;
      let vl_41 = buf2[gn_39 / 4u];
      let vv_42 = cv_38 + vl_41;
      if (gm_35 < 10u) { buf3[f_40 / 4u] = vv_42; }
    }
  }
}
