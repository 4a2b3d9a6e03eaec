// k004_matmul_add_2x5x8: matmul kernel, vec4 r4 wg8x2 swap x:k y:k store4; workgroup 8x2x1, dispatch 1x1x1
//   binding 0 buf0 (read): %29 param "proj.weight" f32[8,8]
//   binding 1 buf1 (read/write): %31 reshape f32[10,8]
//   binding 2 buf2 (read): %30 param "proj.bias" f32[8]
//   binding 3 buf3 (read/write): %35 add -> output "y" f32[2,5,8]
@group(0) @binding(0) var<storage, read> buf0: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> buf1: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> buf2: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> buf3: array<vec4<f32>>;

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
    let vl_21 = buf1[cc_12 * 2u + k_16 / 4u];
    let vl_22 = buf1[cc_13 * 2u + k_16 / 4u];
    let vl_23 = buf1[cc_14 * 2u + k_16 / 4u];
    let vl_24 = buf1[cc_15 * 2u + k_16 / 4u];
    let yt_25 = vec4<f32>(vl_21.x, vl_22.x, vl_23.x, vl_24.x);
    let yt_26 = vec4<f32>(vl_21.y, vl_22.y, vl_23.y, vl_24.y);
    let yt_27 = vec4<f32>(vl_21.z, vl_22.z, vl_23.z, vl_24.z);
    let yt_28 = vec4<f32>(vl_21.w, vl_22.w, vl_23.w, vl_24.w);
    acc_4 = acc_4 + vl_17.x * yt_25 + vl_17.y * yt_26 + vl_17.z * yt_27 + vl_17.w * yt_28;
    acc_5 = acc_5 + vl_18.x * yt_25 + vl_18.y * yt_26 + vl_18.z * yt_27 + vl_18.w * yt_28;
    acc_6 = acc_6 + vl_19.x * yt_25 + vl_19.y * yt_26 + vl_19.z * yt_27 + vl_19.w * yt_28;
    acc_7 = acc_7 + vl_20.x * yt_25 + vl_20.y * yt_26 + vl_20.z * yt_27 + vl_20.w * yt_28;
  }
  var accs_29 = array<vec4<f32>, 4>(acc_4, acc_5, acc_6, acc_7);
  let vl_30 = buf2[r_3 / 4u];
  for (var i_31 = 0u; i_31 < opaque_0 + 4u; i_31++) {
    let gm_32 = c_2 + i_31;
    let gm_33 = min(gm_32, 9u);
    let f_34 = gm_33 * 8u + r_3;
    for (var q_35 = 0u; q_35 < opaque_0 + 1u; q_35++) {
      let cv_36 = vec4<f32>(accs_29[0u][i_31], accs_29[1u][i_31], accs_29[2u][i_31], accs_29[3u][i_31]);
      let vv_37 = cv_36 + vl_30;
      if (gm_32 < 10u) { buf3[f_34 / 4u] = vv_37; }
    }
  }
}
