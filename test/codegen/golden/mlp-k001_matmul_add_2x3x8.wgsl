// k001_matmul_add_2x3x8: matmul kernel, vec4 r8 wg8x1 x:k y:k store4; workgroup 8x1x1, dispatch 1x1x1
//   binding 0 buf0 (read/write): %34 reshape f32[6,12]
//   binding 1 buf1 (read): %32 param "fc2.weight" f32[8,12]
//   binding 2 buf2 (read): %0 input "x" f32[2,3,8]
//   binding 3 buf3 (read): %33 param "fc2.bias" f32[8]
//   binding 4 buf4 (read/write): %39 add -> output "y" f32[2,3,8]
@group(0) @binding(0) var<storage, read_write> buf0: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> buf1: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> buf2: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> buf3: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> buf4: array<vec4<f32>>;

@compute @workgroup_size(8, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let opaque_0 = wid.x >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
  let c_1 = lid3.x * 4u;
  let cb_2 = min(c_1, 4u);
  var acc_3 = vec4<f32>(0.0);
  var acc_4 = vec4<f32>(0.0);
  var acc_5 = vec4<f32>(0.0);
  var acc_6 = vec4<f32>(0.0);
  var acc_7 = vec4<f32>(0.0);
  var acc_8 = vec4<f32>(0.0);
  var acc_9 = vec4<f32>(0.0);
  var acc_10 = vec4<f32>(0.0);
  let cc_11 = min(c_1, 7u);
  let cc_12 = min(c_1 + 1u, 7u);
  let cc_13 = min(c_1 + 2u, 7u);
  let cc_14 = min(c_1 + 3u, 7u);
  for (var k_15 = 0u; k_15 < opaque_0 + 12u; k_15 += 4u) {
    let vl_16 = buf0[k_15 / 4u];
    let vl_17 = buf0[k_15 / 4u + 3u];
    let vl_18 = buf0[k_15 / 4u + 6u];
    let vl_19 = buf0[k_15 / 4u + 9u];
    let vl_20 = buf0[k_15 / 4u + 12u];
    let vl_21 = buf0[k_15 / 4u + 15u];
    let vl_22 = buf1[cc_11 * 3u + k_15 / 4u];
    let vl_23 = buf1[cc_12 * 3u + k_15 / 4u];
    let vl_24 = buf1[cc_13 * 3u + k_15 / 4u];
    let vl_25 = buf1[cc_14 * 3u + k_15 / 4u];
    let yt_26 = vec4<f32>(vl_22.x, vl_23.x, vl_24.x, vl_25.x);
    let yt_27 = vec4<f32>(vl_22.y, vl_23.y, vl_24.y, vl_25.y);
    let yt_28 = vec4<f32>(vl_22.z, vl_23.z, vl_24.z, vl_25.z);
    let yt_29 = vec4<f32>(vl_22.w, vl_23.w, vl_24.w, vl_25.w);
    acc_3 = acc_3 + vl_16.x * yt_26 + vl_16.y * yt_27 + vl_16.z * yt_28 + vl_16.w * yt_29;
    acc_4 = acc_4 + vl_17.x * yt_26 + vl_17.y * yt_27 + vl_17.z * yt_28 + vl_17.w * yt_29;
    acc_5 = acc_5 + vl_18.x * yt_26 + vl_18.y * yt_27 + vl_18.z * yt_28 + vl_18.w * yt_29;
    acc_6 = acc_6 + vl_19.x * yt_26 + vl_19.y * yt_27 + vl_19.z * yt_28 + vl_19.w * yt_29;
    acc_7 = acc_7 + vl_20.x * yt_26 + vl_20.y * yt_27 + vl_20.z * yt_28 + vl_20.w * yt_29;
    acc_8 = acc_8 + vl_21.x * yt_26 + vl_21.y * yt_27 + vl_21.z * yt_28 + vl_21.w * yt_29;
    acc_9 = acc_9 + vl_21.x * yt_26 + vl_21.y * yt_27 + vl_21.z * yt_28 + vl_21.w * yt_29;
    acc_10 = acc_10 + vl_21.x * yt_26 + vl_21.y * yt_27 + vl_21.z * yt_28 + vl_21.w * yt_29;
  }
  var accs_30 = array<vec4<f32>, 8>(acc_3, acc_4, acc_5, acc_6, acc_7, acc_8, acc_9, acc_10);
  let vl_31 = buf3[cb_2 / 4u];
  for (var r_32 = 0u; r_32 < opaque_0 + 8u; r_32++) {
    let gm_33 = min(r_32, 5u);
    let f_34 = gm_33 * 8u + cb_2;
    let vl_35 = buf2[gm_33 * 2u + cb_2 / 4u];
    let vv_36 = accs_30[r_32] + vl_31;
    let vv_37 = vl_35 + vv_36;
    if (r_32 < 6u && c_1 < 8u) { buf4[f_34 / 4u] = vv_37; }
  }
}
